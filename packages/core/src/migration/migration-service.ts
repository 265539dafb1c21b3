import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { requireAdmin } from '../access/require-admin.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntry } from '../audit/audit-types.js';
import type { BackendSet } from '../backends/backend-registry.js';
import { CofferError, isCofferError } from '../errors/coffer-error.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import { processOwner } from '../jobs/job-leases.js';
import type { Logger } from '../logging/logger.js';
import { journalDeletes } from '../secrets/secret-store.js';
import { deleteJournaledValues } from '../secrets/value-writer.js';
import { type Clock, isoNow } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { DialectName } from '../storage/dialect.js';
import type { MigrationRunRow } from '../storage/schema.js';
import { inTransaction } from '../storage/transaction.js';
import { countPending, failuresOf, latestRun, pendingPage, recordFailure } from './migration-store.js';
import type {
  MigrationProgressListener,
  MigrationStatus,
  MigrationStep,
  StartMigrationOptions,
} from './migration-types.js';
import { failureReason, LeaseLost, type MoveOutcome, moveSecret } from './secret-mover.js';

export interface MigrationSettings {
  /** Default of `keepSource` for runs that do not say. */
  keepSource: boolean;
  /** Secrets moved at the same time. */
  concurrency: number;
  /** How long a run's owner may stay silent before another process takes it over. */
  leaseMs: number;
}

export interface MigrationServiceDeps {
  database: CofferDatabase;
  backends: BackendSet;
  /** The configured active backend: the default target, and what the start-up migration moves to. */
  activeName: string;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: Pick<AuditLog, 'appendStandalone'>;
  clock: Clock;
  logger: Logger;
  settings: MigrationSettings;
  /** Crash tests kill the process at a step through this hook. */
  onStep?: (step: MigrationStep, secretId: string) => void;
}

/** Most failures a status lists; the count says how many there are. */
const maxListedFailures = 1000;
const progressEveryMs = 200;
const pageSize = 500;
/** Secrets the target prepares for at a time (see Backend.prepareSecrets). */
const prepareBatch = 50;

interface Initiator {
  actor: AuditEntry['actor'];
  source: AuditEntry['source'];
  address?: string;
}

const systemInitiator: Initiator = { actor: { type: 'system', name: 'migration' }, source: 'system' };

function initiatorOf(who: ResolvedActor): Initiator {
  return {
    actor: { type: who.type, id: who.id, name: who.name },
    source: who.source,
    ...(who.address === undefined ? {} : { address: who.address }),
  };
}

interface ActiveRun {
  id: string;
  target: string;
  keepSource: boolean;
  retryFailed: boolean;
  total: number;
  done: number;
  failed: number;
  startedAt: string;
  finishedAt: string | null;
  state: 'running' | 'done' | 'failed';
  /** For the rate: secrets done and the time when this process took the run on. */
  baseDone: number;
  baseTime: number;
  stop: boolean;
  leaseLost: boolean;
  promise: Promise<void>;
}

/**
 * Moves secrets' values between backends: automatically on start when secrets live
 * elsewhere than the active backend (OpenMetadata's behaviour), and on command. Secret by
 * secret (see `moveSecret`): copy every kept version, read back and compare, switch in one
 * transaction, delete from the source (or keep it). Resumable, since what is done is what
 * the secrets table says; several servers sharing a database run one migration at a time
 * under a lease. Reads and writes go on meanwhile.
 *
 * @example
 * await coffer.migration.start(admin, { target: 'files' });
 * const off = coffer.migration.onProgress((s) => bar.update(s.done, { total: s.total }));
 */
/**
 * How many secrets a migration moves at once unless `migration.concurrency` says otherwise.
 * On SQLite every transaction runs on one connection, and the journal and switch of secrets in
 * flight together share commits (storage/write-groups.ts): moving 10,000 secrets to `file`,
 * 16 at once took 12.3-15.0 s where 4 took 16.2-19.2 s (docs/performance.md, "Migration").
 * PostgreSQL and MySQL keep 4: their pools hold 10 connections, which requests share.
 */
export function migrationConcurrencyFor(dialect: DialectName): number {
  return dialect === 'sqlite' ? 16 : 4;
}

/** Tries left for a secret that writes kept getting ahead of, after the first pass. */
const busyRetries = 6;

export function createMigrationService(deps: MigrationServiceDeps) {
  const { database, backends, clock, logger, settings } = deps;
  const { db } = database;
  /** Identifies this engine as the holder of a run's lease (unique per engine, readable). */
  const owner = `${processOwner}:${randomUUID().slice(0, 4)}`;
  const listeners = new Set<MigrationProgressListener>();
  let current: ActiveRun | null = null;
  let auto: Promise<void> | null = null;
  let closed = false;
  const closing = new AbortController();
  let lastEmit = 0;
  let emitTimer: NodeJS.Timeout | null = null;

  function snapshot(run: ActiveRun, failures: MigrationStatus['failures']): MigrationStatus {
    const running = run.state === 'running';
    const seconds = (performance.now() - run.baseTime) / 1000;
    const movedHere = run.done - run.baseDone;
    const rate = running && seconds > 0 && movedHere > 0 ? movedHere / seconds : null;
    const left = Math.max(0, run.total - run.done - run.failed);
    return {
      state: run.state,
      target: run.target,
      keepSource: run.keepSource,
      total: run.total,
      done: run.done,
      failed: run.failed,
      ratePerSecond: rate,
      etaSeconds: rate === null ? null : left / rate,
      runningOn: running ? owner : null,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      failures,
    };
  }

  function fromRow(row: MigrationRunRow | undefined, failures: MigrationStatus['failures']): MigrationStatus {
    if (row === undefined) {
      return {
        state: 'idle',
        target: null,
        keepSource: settings.keepSource,
        total: 0,
        done: 0,
        failed: 0,
        ratePerSecond: null,
        etaSeconds: null,
        runningOn: null,
        startedAt: null,
        finishedAt: null,
        failures: [],
      };
    }
    // A run whose owner stopped saying it is alive stopped before finishing.
    const state =
      row.state === 'running' && !isFresh(row) ? 'failed' : (row.state as MigrationStatus['state']);
    // The rate the running server measured, written with its heartbeat: so every server shows it.
    const rate =
      state === 'running' && row.rate_per_second != null && row.rate_per_second > 0
        ? Number(row.rate_per_second)
        : null;
    const left = Math.max(0, row.total - row.done - row.failed);
    return {
      state,
      target: row.target,
      keepSource: row.keep_source === 1,
      total: row.total,
      done: row.done,
      failed: row.failed,
      ratePerSecond: rate,
      etaSeconds: rate === null ? null : left / rate,
      runningOn: state === 'running' ? row.owner : null,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      failures,
    };
  }

  function isFresh(row: MigrationRunRow): boolean {
    return (
      row.owner !== null &&
      row.heartbeat_at !== null &&
      clock().getTime() - Date.parse(row.heartbeat_at) < settings.leaseMs
    );
  }

  function emit(force = false): void {
    const run = current;
    if (run === null || listeners.size === 0) return;
    const now = performance.now();
    if (!force && now - lastEmit < progressEveryMs) {
      if (emitTimer === null) {
        emitTimer = setTimeout(() => {
          emitTimer = null;
          emit(true);
        }, progressEveryMs);
        emitTimer.unref();
      }
      return;
    }
    lastEmit = now;
    const status = snapshot(run, []);
    for (const listener of listeners) {
      try {
        listener(status);
      } catch (err) {
        logger.warn({ err }, 'a migration progress listener threw');
      }
    }
  }

  async function audit(initiator: Initiator, target: string, details: AuditEntry['details']): Promise<void> {
    await deps.audit.appendStandalone({
      action: 'backend.migrate',
      outcome: 'success',
      actor: initiator.actor,
      source: initiator.source,
      ...(initiator.address === undefined ? {} : { address: initiator.address }),
      target: { type: 'backend', name: target },
      ...(details === undefined ? {} : { details }),
    });
  }

  /**
   * Starts a run to `target`, or takes over the unfinished one a stopped process left (same
   * target). Run creation is serialized on the `deployment` row, so two servers starting at
   * once make one run. Throws `conflict` while another live process runs one.
   */
  async function launch(
    spec: { target: string; keepSource: boolean | undefined; retryFailed: boolean },
    initiator: Initiator,
    skipWhenNothingToDo: boolean,
  ): Promise<MigrationStatus | null> {
    const now = isoNow(clock);
    const claimed = await inTransaction(database, async (tx) => {
      let lock = tx.selectFrom('deployment').select('id').where('id', '=', 1);
      if (database.features.forUpdate) lock = lock.forUpdate();
      await lock.executeTakeFirst();
      // SQLite takes its write lock only at the first write; taking it now makes the check
      // below and the insert one atomic step there too.
      await tx.updateTable('deployment').set({ id: 1 }).where('id', '=', 1).execute();
      const latest = await tx
        .selectFrom('migration_runs')
        .selectAll()
        .orderBy('number', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (latest?.state === 'running') {
        if (isFresh(latest) && latest.owner !== owner) {
          throw new CofferError(
            'conflict',
            `a migration to backend ${latest.target} is running on another Coffer server sharing this database`,
          );
        }
        if (
          latest.target === spec.target &&
          (spec.keepSource === undefined || spec.keepSource === (latest.keep_source === 1))
        ) {
          // Resume: counters of what is done carry over; failures are retried.
          const pending = await countPendingIn(tx, spec.target, latest.retry_failed === 1);
          const run = { ...latest, total: latest.done + pending, failed: 0, owner, heartbeat_at: now };
          await tx
            .updateTable('migration_runs')
            .set({ owner, heartbeat_at: now, total: run.total, failed: 0 })
            .where('id', '=', latest.id)
            .execute();
          return { run, resumed: true };
        }
        // A run to another target (the configuration changed) or with other options ends here.
        await tx
          .updateTable('migration_runs')
          .set({ state: 'failed', finished_at: now, owner: null, heartbeat_at: null })
          .where('id', '=', latest.id)
          .execute();
      }
      const pending = await countPendingIn(tx, spec.target, spec.retryFailed);
      if (pending === 0 && skipWhenNothingToDo) return null;
      const run: MigrationRunRow = {
        id: randomUUID(),
        number: (latest?.number ?? 0) + 1,
        target: spec.target,
        keep_source: (spec.keepSource ?? settings.keepSource) ? 1 : 0,
        retry_failed: spec.retryFailed ? 1 : 0,
        state: 'running',
        total: pending,
        done: 0,
        failed: 0,
        started_at: now,
        finished_at: null,
        started_by: initiator.actor.name ?? initiator.actor.type,
        owner,
        heartbeat_at: now,
      };
      await tx.insertInto('migration_runs').values(run).execute();
      // Failures of runs to other targets no longer mean anything.
      await tx.deleteFrom('migration_failures').where('target', '!=', spec.target).execute();
      return { run, resumed: false };
    });
    if (claimed === null) return null;
    const { run: row, resumed } = claimed;
    const run: ActiveRun = {
      id: row.id,
      target: row.target,
      keepSource: row.keep_source === 1,
      retryFailed: row.retry_failed === 1,
      total: row.total,
      done: row.done,
      failed: 0,
      startedAt: row.started_at,
      finishedAt: null,
      state: 'running',
      baseDone: row.done,
      baseTime: performance.now(),
      stop: false,
      leaseLost: false,
      promise: Promise.resolve(),
    };
    current = run;
    await audit(initiator, run.target, {
      phase: resumed ? 'resume' : 'start',
      keepSource: run.keepSource,
      retryFailed: run.retryFailed,
      total: run.total,
      done: run.done,
    });
    logger.info(
      { target: run.target, total: run.total, done: run.done, resumed },
      resumed ? 'resuming the migration of secret values' : 'migrating secret values',
    );
    run.promise = execute(run, initiator);
    emit(true);
    return snapshot(run, []);
  }

  async function countPendingIn(
    tx: Parameters<Parameters<typeof inTransaction>[1]>[0],
    target: string,
    retryFailed: boolean,
  ): Promise<number> {
    return countPending({ ...database, db: tx }, target, retryFailed);
  }

  async function execute(run: ActiveRun, initiator: Initiator): Promise<void> {
    const heartbeat = setInterval(
      () => {
        void db
          .updateTable('migration_runs')
          .set({
            heartbeat_at: isoNow(clock),
            total: run.total,
            rate_per_second: snapshot(run, []).ratePerSecond,
          })
          .where('id', '=', run.id)
          .where('owner', '=', owner)
          .executeTakeFirst()
          .then((r) => {
            if (r.numUpdatedRows !== 1n && run.state === 'running') {
              run.leaseLost = true;
              run.stop = true;
            }
          })
          .catch((err) => logger.warn({ err }, 'could not renew the migration lease'));
      },
      Math.max(250, settings.leaseMs / 3),
    );
    heartbeat.unref();
    try {
      const target = backends.get(run.target);
      if (target === undefined)
        throw new CofferError('invalid_config', `backend ${run.target} is not configured`);
      const targetHasKeptCopies =
        (await db
          .selectFrom('migration_kept_values')
          .select('secret_id')
          .where('backend', '=', run.target)
          .limit(1)
          .executeTakeFirst()) !== undefined;
      const hadFailure = new Set(
        (
          await db
            .selectFrom('migration_failures')
            .select('secret_id')
            .where('target', '=', run.target)
            .execute()
        ).map((r) => r.secret_id),
      );
      const moverDeps = { database, backends, clock, logger, onStep: deps.onStep };
      const busy: string[] = [];

      /** Moves one secret; `'busy'` when a write got in first (the caller tries it again later). */
      const moveOne = async (secretId: string, lastTry: boolean): Promise<'busy' | undefined> => {
        let outcome: MoveOutcome;
        try {
          outcome = await moveSecret(moverDeps, {
            secretId,
            target,
            keepSource: run.keepSource,
            runId: run.id,
            owner,
            targetHasKeptCopies,
            hadFailure: hadFailure.has(secretId),
            holdsLease: async () =>
              (
                await db
                  .selectFrom('migration_runs')
                  .select('owner')
                  .where('id', '=', run.id)
                  .executeTakeFirst()
              )?.owner === owner,
          });
        } catch (err) {
          if (err instanceof LeaseLost) {
            run.leaseLost = true;
            run.stop = true;
            return;
          }
          await fail(secretId, failureReason(err), err);
          return;
        }
        if (outcome === 'moved' || outcome === 'gone') {
          if (outcome === 'moved') run.done++;
          else run.total = Math.max(run.done + run.failed, run.total - 1);
          // Cleared in the switch transaction, unless the secret got where it belongs otherwise.
          if (hadFailure.has(secretId)) {
            await db.deleteFrom('migration_failures').where('secret_id', '=', secretId).execute();
          }
        } else if (lastTry) {
          await fail(secretId, 'conflict: the secret kept being written during the migration; retry');
        } else {
          emit();
          return 'busy';
        }
        emit();
        return undefined;
      };

      const fail = async (secretId: string, reason: string, err?: unknown) => {
        run.failed++;
        logger.warn({ err, secretId, target: run.target }, 'moving a secret failed; the others go on');
        try {
          await recordFailure(database, {
            secretId,
            target: run.target,
            runId: run.id,
            reason,
            at: isoNow(clock),
          });
          await db
            .updateTable('migration_runs')
            .set({ failed: sql<number>`failed + 1` })
            .where('id', '=', run.id)
            .execute();
        } catch (recordErr) {
          logger.warn({ err: recordErr, secretId }, 'could not record a migration failure');
        }
        emit();
      };

      // The secrets to move, page by page in id order; a secret that moved drops out of the
      // query, so the cursor never has to come back.
      let after = '';
      let page: string[] = [];
      let exhausted = false;
      // The target prepares for a page's secrets in batches ahead of the workers (the file
      // backend makes their directories, flushing each shard directory once per batch).
      let preparing: Promise<void> = Promise.resolve();
      const prepareAhead = (ids: readonly string[]) => {
        const prepare = target.prepareSecrets?.bind(target);
        if (prepare === undefined) return;
        for (let i = 0; i < ids.length; i += prepareBatch) {
          const batch = ids.slice(i, i + prepareBatch);
          preparing = preparing.then(() =>
            run.stop || closed
              ? undefined
              : prepare(batch).catch((err: unknown) =>
                  // Only a head start: each put still makes its directory durable itself.
                  logger.debug({ err }, 'could not prepare the target for a batch of secrets'),
                ),
          );
        }
      };
      const next = async (): Promise<string | undefined> => {
        while (page.length === 0 && !exhausted) {
          page = await pendingPage(database, run.target, run.retryFailed, after, pageSize);
          if (page.length < pageSize) exhausted = true;
          if (page.length > 0) after = page[page.length - 1]!;
          prepareAhead(page);
        }
        return page.shift();
      };
      let fetching: Promise<unknown> = Promise.resolve();
      const take = () => {
        // One page fetch at a time, shared by the workers.
        const result = fetching.then(next);
        fetching = result.catch(() => {});
        return result;
      };
      const worker = async () => {
        for (;;) {
          // With a synchronous driver (better-sqlite3) and an in-memory backend, a move is
          // promises only; yielding between secrets lets timers and I/O (requests, the lease
          // heartbeat) in.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (run.stop || closed) return;
          const secretId = await take();
          if (secretId === undefined) return;
          if ((await moveOne(secretId, false)) === 'busy') busy.push(secretId);
        }
      };
      await Promise.all(Array.from({ length: settings.concurrency }, worker));
      await preparing;
      // Secrets a writer kept getting ahead of: a few more tries each, further apart, before one
      // is reported as failed (a write that meets the fence waits, so a quiet moment comes soon).
      for (const secretId of busy) {
        for (let attempt = 1; attempt <= busyRetries; attempt++) {
          if (run.stop || closed) break;
          if ((await moveOne(secretId, attempt === busyRetries)) !== 'busy') break;
          await new Promise((r) => setTimeout(r, 25 * 2 ** attempt + Math.random() * 50));
        }
      }
      if (run.stop || closed) {
        if (!run.leaseLost) {
          // Stopped by close(): leave the run for the next start to resume at once.
          await db
            .updateTable('migration_runs')
            .set({ owner: null, heartbeat_at: null, total: run.total })
            .where('id', '=', run.id)
            .where('owner', '=', owner)
            .execute();
        } else {
          logger.warn({ target: run.target }, 'another Coffer server took the migration over');
        }
        run.state = 'failed';
        return;
      }
      run.state = run.failed > 0 ? 'failed' : 'done';
      run.finishedAt = isoNow(clock);
      await db
        .updateTable('migration_runs')
        .set({
          state: run.state,
          finished_at: run.finishedAt,
          total: run.total,
          owner: null,
          heartbeat_at: null,
        })
        .where('id', '=', run.id)
        .where('owner', '=', owner)
        .execute();
      await audit(initiator, run.target, {
        phase: 'finish',
        state: run.state,
        total: run.total,
        done: run.done,
        failed: run.failed,
      });
      logger.info(
        { target: run.target, total: run.total, done: run.done, failed: run.failed },
        'migration of secret values finished',
      );
    } catch (err) {
      run.state = 'failed';
      run.finishedAt = isoNow(clock);
      logger.error({ err, target: run.target }, 'the migration stopped; a start resumes it');
      await db
        .updateTable('migration_runs')
        .set({ owner: null, heartbeat_at: null })
        .where('id', '=', run.id)
        .where('owner', '=', owner)
        .execute()
        .catch(() => {});
    } finally {
      clearInterval(heartbeat);
      emit(true);
    }
  }

  function targetOf(options: StartMigrationOptions): string {
    const target = options.target ?? deps.activeName;
    if (backends.get(target) === undefined) {
      throw CofferError.validation([
        {
          path: 'target',
          message: `names no configured backend; configured: ${backends
            .all()
            .map((b) => b.name)
            .join(', ')}`,
        },
      ]);
    }
    return target;
  }

  async function sleepUnlessClosed(ms: number): Promise<void> {
    // Not unref'd: a process awaiting `wait()` (the CLI) must not exit while it waits for
    // another server's run; close() ends the wait.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      closing.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  return {
    /** Where the current (or last) migration stands (admins only). */
    async status(actor: Actor): Promise<MigrationStatus> {
      await requireAdmin(deps, actor, {
        action: 'backend.migrate',
        target: { type: 'backend' },
        write: false,
      });
      if (current !== null && current.state === 'running') {
        return snapshot(current, await failuresOf(database, current.id, maxListedFailures));
      }
      const row = await latestRun(database);
      return fromRow(row, row === undefined ? [] : await failuresOf(database, row.id, maxListedFailures));
    },

    /**
     * Starts moving every secret held elsewhere to `target` (default: the active backend) in
     * the background, and returns the status at its start (admins only). With `retryFailed`,
     * only the secrets that failed before are tried. While one runs here, starting the same
     * target again returns its status; another target is a `conflict`.
     */
    async start(actor: Actor, options: StartMigrationOptions = {}): Promise<MigrationStatus> {
      const who = await requireAdmin(deps, actor, {
        action: 'backend.migrate',
        target: { type: 'backend', ...(options.target === undefined ? {} : { name: options.target }) },
        write: true,
      });
      if (closed) throw new CofferError('unsupported', 'this Coffer is closing');
      const target = targetOf(options);
      if (current !== null && current.state === 'running') {
        if (current.target === target) return snapshot(current, []);
        throw new CofferError('conflict', `a migration to backend ${current.target} is running`);
      }
      const status = await launch(
        { target, keepSource: options.keepSource, retryFailed: options.retryFailed === true },
        initiatorOf(who),
        false,
      );
      return status!;
    },

    /**
     * Calls `listener` with the status while a run in this process makes progress (at most
     * five times a second, and once when it ends). Returns a function that unsubscribes.
     *
     * @example
     * const off = coffer.migration.onProgress((s) => console.log(`${s.done}/${s.total}`));
     */
    onProgress(listener: MigrationProgressListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Resolves when the migration this process runs (or waits to run) has ended. */
    async wait(): Promise<void> {
      await auto;
      await current?.promise;
    },

    /**
     * Deletes the source copies that `keepSource` migrations kept (admins only), making those
     * migrations one-way. Refused while a migration runs.
     */
    async dropKeptSources(actor: Actor): Promise<{ dropped: number }> {
      const who = await requireAdmin(deps, actor, {
        action: 'backend.migrate',
        target: { type: 'backend' },
        write: true,
      });
      const latest = await latestRun(database);
      if (
        (current !== null && current.state === 'running') ||
        (latest?.state === 'running' && isFresh(latest))
      ) {
        throw new CofferError('conflict', 'a migration is running; drop kept copies once it finished');
      }
      let dropped = 0;
      for (;;) {
        const kept = await db
          .selectFrom('migration_kept_values')
          .selectAll()
          .orderBy('secret_id')
          .limit(200)
          .execute();
        if (kept.length === 0) break;
        for (const row of kept) {
          const now = isoNow(clock);
          const live = await inTransaction(database, async (tx) => {
            await tx
              .deleteFrom('migration_kept_values')
              .where('secret_id', '=', row.secret_id)
              .where('backend', '=', row.backend)
              .where('version', '=', row.version)
              .execute();
            const secret = await tx
              .selectFrom('secrets')
              .select('backend')
              .where('id', '=', row.secret_id)
              .executeTakeFirst();
            // A copy on the backend the secret is on is its live value, never a kept one.
            if (secret?.backend === row.backend) return true;
            await journalDeletes(database, tx, row.secret_id, row.backend, [row.version], now);
            return false;
          });
          const backend = backends.get(row.backend);
          if (!live && backend !== undefined) {
            await deleteJournaledValues({ database, clock, logger }, backend, row.secret_id, [row.version]);
            dropped++;
          }
        }
      }
      await audit(initiatorOf(who), 'kept-copies', { phase: 'drop-kept', dropped });
      return { dropped };
    },

    /**
     * The start-up migration: moves secrets held elsewhere to the active backend, resuming a
     * run a stopped process left. If another live server runs one, waits for it (taking over
     * should it stop). Runs in the background; `wait()` resolves when it has ended.
     */
    startOnOpen(): void {
      if (auto !== null || closed) return;
      auto = (async () => {
        while (!closed) {
          try {
            const latest = await latestRun(database);
            const pending = await countPending(database, deps.activeName, false);
            if (pending === 0 && latest?.state !== 'running') return;
            await launch(
              { target: deps.activeName, keepSource: undefined, retryFailed: false },
              systemInitiator,
              true,
            );
            return;
          } catch (err) {
            if (isCofferError(err, 'conflict')) {
              await sleepUnlessClosed(settings.leaseMs / 2);
              continue;
            }
            logger.error({ err }, 'the start-up migration could not start; start it on command');
            return;
          }
        }
      })();
    },

    /** Stops a running migration between secrets; the next start resumes it. */
    async close(): Promise<void> {
      closed = true;
      closing.abort();
      if (current !== null) current.stop = true;
      if (emitTimer !== null) clearTimeout(emitTimer);
      await auto?.catch(() => {});
      await current?.promise.catch(() => {});
    },
  };
}

export type MigrationService = Omit<ReturnType<typeof createMigrationService>, 'startOnOpen' | 'close'>;
