import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logging/logger.js';
import type { CofferDatabase } from '../storage/database.js';
import { isUniqueViolation } from '../storage/sql-errors.js';

/** This process, as lease holders are named: readable in `job_leases.owner`, unique per start. */
export const processOwner = `${hostname().slice(0, 30)}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** What a job running under a lease can do. */
export interface LeaseHandle {
  /** Records the job's progress (JSON, no secrets) for every server's status pages. */
  progress(progress: Record<string, unknown>): void;
  /** True once another process took the lease over (this one went silent too long): stop. */
  lost(): boolean;
}

/** Where a job stands, as any server reads it from the database. */
export interface JobStatus {
  name: string;
  /** The process holding the lease, while one does. */
  owner: string | null;
  /** Whether a holder is alive (its lease has not run out). */
  running: boolean;
  startedAt: string | null;
  updatedAt: string | null;
  progress: Record<string, unknown> | null;
}

/**
 * Background jobs that must run on one server at a time (the reconciler, purges, the key
 * re-wrap): a row per job in `job_leases` says who holds it until when. The holder renews it
 * while it works; a holder that dies is replaced once its lease runs out. Progress written under
 * the lease is what every server shows.
 *
 * @example
 * const outcome = await leases.runExclusive('keyring.rewrap', async (lease) => {
 *   for (...) { if (lease.lost()) return; lease.progress({ rewrapped }); }
 * });
 * if (!outcome.ran) console.log('another server is on it:', outcome.holder);
 */
export interface JobLeases {
  runExclusive<T>(
    name: string,
    job: (lease: LeaseHandle) => Promise<T>,
    options?: { ttlMs?: number },
  ): Promise<{ ran: true; result: T } | { ran: false; holder: string }>;
  status(name: string): Promise<JobStatus | undefined>;
}

export function createJobLeases(deps: {
  database: CofferDatabase;
  logger: Logger;
  owner?: string;
  now?: () => number;
}): JobLeases {
  const db = deps.database.db;
  const owner = deps.owner ?? processOwner;
  const now = deps.now ?? Date.now;

  /** Takes the lease if it is free, run out, or already this process's. */
  async function acquire(name: string, ttlMs: number): Promise<string | null> {
    const at = now();
    const iso = new Date(at).toISOString();
    const taken = await db
      .updateTable('job_leases')
      .set({ owner, expires_ms: at + ttlMs, started_at: iso, updated_at: iso })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('expires_ms', '<', at), eb('owner', '=', owner), eb('owner', 'is', null)]))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1) return null;
    const row = await db.selectFrom('job_leases').select('owner').where('name', '=', name).executeTakeFirst();
    if (row !== undefined) return row.owner ?? 'unknown';
    try {
      await db
        .insertInto('job_leases')
        .values({ name, owner, expires_ms: at + ttlMs, started_at: iso, updated_at: iso, progress: null })
        .execute();
      return null;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return (
        (await db.selectFrom('job_leases').select('owner').where('name', '=', name).executeTakeFirst())
          ?.owner ?? 'unknown'
      );
    }
  }

  return {
    async runExclusive(name, job, options = {}) {
      const ttlMs = options.ttlMs ?? 30_000;
      const holder = await acquire(name, ttlMs);
      if (holder !== null) return { ran: false, holder };
      let lost = false;
      let pending: Record<string, unknown> | undefined;
      const renew = async () => {
        const at = now();
        const progress = pending === undefined ? {} : { progress: JSON.stringify(pending).slice(0, 2000) };
        pending = undefined;
        const result = await db
          .updateTable('job_leases')
          .set({ expires_ms: at + ttlMs, updated_at: new Date(at).toISOString(), ...progress })
          .where('name', '=', name)
          .where('owner', '=', owner)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) lost = true;
      };
      const timer = setInterval(
        () => {
          renew().catch((err) => deps.logger.debug({ err, job: name }, 'renewing a job lease failed'));
        },
        Math.max(100, Math.floor(ttlMs / 3)),
      );
      timer.unref();
      try {
        const result = await job({
          progress: (p) => {
            pending = p;
          },
          lost: () => lost,
        });
        return { ran: true, result };
      } finally {
        clearInterval(timer);
        const final = pending === undefined ? {} : { progress: JSON.stringify(pending).slice(0, 2000) };
        await db
          .updateTable('job_leases')
          .set({ owner: null, expires_ms: 0, updated_at: new Date(now()).toISOString(), ...final })
          .where('name', '=', name)
          .where('owner', '=', owner)
          .execute()
          .catch((err: unknown) => deps.logger.debug({ err, job: name }, 'releasing a job lease failed'));
      }
    },
    async status(name) {
      const row = await db.selectFrom('job_leases').selectAll().where('name', '=', name).executeTakeFirst();
      if (row === undefined) return undefined;
      let progress: Record<string, unknown> | null = null;
      try {
        progress = row.progress === null ? null : (JSON.parse(row.progress) as Record<string, unknown>);
      } catch {
        progress = null;
      }
      return {
        name,
        owner: row.owner,
        running: row.owner !== null && Number(row.expires_ms) > now(),
        startedAt: row.started_at,
        updatedAt: row.updated_at,
        progress,
      };
    },
  };
}
