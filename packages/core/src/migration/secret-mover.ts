import { sql } from 'kysely';
import type { Backend, ValueRef } from '../backends/backend.js';
import type { BackendSet } from '../backends/backend-registry.js';
import { CofferError, isCofferError } from '../errors/coffer-error.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Logger } from '../logging/logger.js';
import { journalDeletes, removeJournalRows } from '../secrets/secret-store.js';
import { deleteJournaledValues } from '../secrets/value-writer.js';
import { type Clock, isoNow } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import { oncePer, perSize, preparedQuery } from '../storage/prepared.js';
import { errorCodeOf, isRetryableTransactionError, isUniqueViolation } from '../storage/sql-errors.js';
import { inTransaction } from '../storage/transaction.js';
import type { MigrationStep } from './migration-types.js';

export interface MoverDeps {
  database: CofferDatabase;
  backends: BackendSet;
  clock: Clock;
  logger: Logger;
  onStep?: ((step: MigrationStep, secretId: string) => void) | undefined;
}

export interface MoveJob {
  secretId: string;
  target: Backend;
  keepSource: boolean;
  runId: string;
  /** The process holding the run's lease; the switch only commits while it still does. */
  owner: string;
  /** Whether the target may hold copies a keepSource migration left there. */
  targetHasKeptCopies: boolean;
  /** Whether the secret has a failure row to clear once it moved. */
  hadFailure: boolean;
  /** Whether this process still holds the run's lease (checked before undoing a copy). */
  holdsLease: () => Promise<boolean>;
}

/** `moved`: now on the target (by us or before); `gone`: purged meanwhile; `busy`: writes kept winning. */
export type MoveOutcome = 'moved' | 'gone' | 'busy';

/** Another process took over the run; this one must stop at once and undo nothing. */
export class LeaseLost extends Error {}

/** The secret changed (a write, a purge) between copying and switching: copy again. */
class SwitchLost extends Error {}

const maxAttempts = 6;
/** Fences placed just after a write got in, retried at once without counting as an attempt. */
const maxStaleFences = 50;
/** Copies older than this get their journal entries refreshed before the switch. */
const refreshIntentsAfterMs = 10_000;

/**
 * Moves one secret's values to the target backend, cooperating with the journaled write
 * protocol so a crash at any point loses nothing and leaves nothing behind:
 *
 * 1. journal a `put` intent on the target for every kept version (the reconciler deletes a
 *    copy whose secret never switched), and a `fence` on the source for the version a writer
 *    would write next: writers collide with it on the journal's key exactly as with another
 *    writer, so they wait and retry until the secret switched, then write to the target
 *    (without it a secret written more often than it takes to copy would never move);
 * 2. copy each version from the source, read it back from the target and compare;
 * 3. one transaction: switch the secret to the target, guarded by its current version and
 *    backend being unchanged (a concurrent write makes it fail, and the secret is copied
 *    again), remove the intents, journal `delete`s of the source copies (or record them as
 *    kept), count the secret done while this process still holds the run's lease;
 * 4. delete the source copies and their journal rows (the reconciler finishes after a crash).
 */
export async function moveSecret(deps: MoverDeps, job: MoveJob): Promise<MoveOutcome> {
  const { db } = deps.database;
  const queries = moverQueries(deps.database);
  const where = async () => (await queries.placeOf.execute(db, job.secretId)).rows[0];
  const target = job.target;
  let staleFences = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const row = await where();
    if (row === undefined) return 'gone';
    if (row.backend === target.name) return 'moved';
    const source = deps.backends.get(row.backend);
    if (source === undefined) {
      throw new CofferError(
        'backend_unavailable',
        `the secret's values are in backend "${row.backend}", which is not configured`,
      );
    }
    const versions = (await queries.versionsOf.execute(db, job.secretId)).rows.map((r) => r.version);
    // A backend keeping only the latest value gets only the current version; the older ones
    // are dropped from the secret's history when it switches.
    const toCopy = target.capabilities.versioning
      ? versions
      : versions.filter((v) => v === row.current_version);
    const started = Date.now();
    const fence = { secretId: job.secretId, version: row.current_version + 1, backend: source.name };
    let journaled: string | null;
    try {
      journaled = await journalCopies(deps, job.secretId, toCopy, target, fence);
    } catch (err) {
      // Whatever got journaled must not keep writers off the secret.
      await undoCopies(deps, job, toCopy, fence);
      throw err;
    }
    if (journaled === null) {
      // A writer is writing the next version right now: let it finish, then copy.
      await sleep(Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random()));
      continue;
    }
    // A write that committed between reading the version and placing the fence made the fence
    // stale (it guards a version already written). Before copying anything, make sure it still
    // guards the next one: from here on, a writer of that version waits for the switch.
    const fenced = await where();
    if (fenced?.current_version !== row.current_version || fenced?.backend !== row.backend) {
      await undoCopies(deps, job, toCopy, fence);
      if (++staleFences <= maxStaleFences) attempt--;
      await sleep(5 + Math.random() * 20);
      continue;
    }
    deps.onStep?.('journaled', job.secretId);
    let sourceDeleted = false;
    // Whether the switch's last attempt ran all its statements: a failure after that is its
    // commit's, whose outcome this process cannot know at once (see settledPlace).
    const switching = { statementsRan: false };
    try {
      for (const version of toCopy) {
        const ref = { secretId: job.secretId, version };
        const values = await source.get(ref);
        await target.put(ref, values);
        const back = await target.get(ref);
        if (!sameValues(values, back)) {
          throw new CofferError(
            'integrity',
            `version ${version} read back from backend ${target.name} differs from what was written`,
          );
        }
      }
      deps.onStep?.('copied', job.secretId);
      if (Date.now() - started > refreshIntentsAfterMs) {
        // Keep the reconciler from taking a slow copy for a crashed one. Conditional on our
        // own timestamp: a row the reconciler already claimed is being undone, so back off.
        const refreshed = isoNow(deps.clock);
        const result = await db
          .updateTable('value_journal')
          .set({ created_at: refreshed })
          .where('secret_id', '=', job.secretId)
          .where('created_at', '=', journaled)
          .where((eb) =>
            eb.or([
              eb.and([
                eb('backend', '=', target.name),
                eb('action', '=', 'put'),
                toCopy.length > 0 ? eb('version', 'in', toCopy) : eb.val(false),
              ]),
              eb.and([
                eb('backend', '=', fence.backend),
                eb('action', '=', 'fence'),
                eb('version', '=', fence.version),
              ]),
            ]),
          )
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== toCopy.length + 1) throw new SwitchLost();
        journaled = refreshed;
      }
      sourceDeleted = await switchSecret(
        deps,
        job,
        row,
        source,
        versions,
        toCopy,
        fence,
        journaled,
        switching,
      );
    } catch (err) {
      if (err instanceof LeaseLost) throw err;
      const now = switching.statementsRan ? await settledPlace(deps, job.secretId) : await where();
      if (now === unknownPlace) {
        // The switch may still commit. Its copies, intents and fence stay: an intent that
        // outlives its lease means it did not, and the reconciler undoes the copies then.
        deps.logger.warn(
          { secretId: job.secretId, backend: target.name, code: errorCodeOf(err) },
          'a migration switch failed while committing and its outcome could not be read; the reconciler will settle it',
        );
        throw err;
      }
      if (now?.backend === target.name) return 'moved';
      // Only the lease holder touches copies: a process that was taken over leaves them to
      // the one that took over.
      if (!(await job.holdsLease())) throw new LeaseLost();
      await undoCopies(deps, job, toCopy, fence);
      if (now === undefined) return 'gone';
      const changed = now.current_version !== row.current_version || now.backend !== row.backend;
      if (err instanceof SwitchLost || changed || isRetryableTransactionError(err)) {
        await sleep(Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random()));
        continue;
      }
      throw err;
    }
    deps.onStep?.('switched', job.secretId);
    if (!job.keepSource && !sourceDeleted) {
      await deleteJournaledValues(
        { database: deps.database, clock: deps.clock, logger: deps.logger },
        source,
        job.secretId,
        versions,
      );
    }
    deps.onStep?.('cleaned', job.secretId);
    return 'moved';
  }
  return 'busy';
}

/** The statements every moved secret runs, compiled once per database (storage/prepared.ts). */
function compileQueries(database: CofferDatabase) {
  const { db } = database;
  return {
    placeOf: preparedQuery((id: string) =>
      db.selectFrom('secrets').select(['backend', 'current_version']).where('id', '=', id),
    ),
    versionsOf: preparedQuery((id: string) =>
      db.selectFrom('secret_versions').select('version').where('secret_id', '=', id).orderBy('version'),
    ),
    switchTo: preparedQuery((target: string, id: string, backend: string, version: number) =>
      db
        .updateTable('secrets')
        .set({ backend: target })
        .where('id', '=', id)
        .where('backend', '=', backend)
        .where('current_version', '=', version),
    ),
    countDone: preparedQuery((now: string, runId: string, owner: string) =>
      db
        .updateTable('migration_runs')
        .set({ done: sql<number>`done + 1`, heartbeat_at: now })
        .where('id', '=', runId)
        .where('owner', '=', owner),
    ),
    /** The fence and one `put` intent per version, at one timestamp (journalCopies). */
    journalIntents: perSize((versions) =>
      preparedQuery(
        (
          secretId: string,
          fenceVersion: number,
          fenceBackend: string,
          targetName: string,
          now: string,
          ...copied: number[]
        ) =>
          db.insertInto('value_journal').values([
            {
              secret_id: secretId,
              version: fenceVersion,
              backend: fenceBackend,
              action: 'fence',
              created_at: now,
            },
            ...Array.from({ length: versions }, (_, i) => ({
              secret_id: secretId,
              version: copied[i]!,
              backend: targetName,
              action: 'put',
              created_at: now,
            })),
          ]),
      ),
    ),
    /** The switch removes the intents and the fence that journalCopies wrote, and only those. */
    removeIntents: perSize((versions) =>
      preparedQuery(
        (
          secretId: string,
          journaledAt: string,
          targetName: string,
          fenceBackend: string,
          fenceVersion: number,
          ...copied: number[]
        ) =>
          db
            .deleteFrom('value_journal')
            .where('secret_id', '=', secretId)
            // Only our own rows: one the reconciler claimed has a new timestamp and is being undone.
            .where('created_at', '=', journaledAt)
            .where((eb) =>
              eb.or([
                eb.and([
                  eb('backend', '=', targetName),
                  eb('action', '=', 'put'),
                  versions > 0 ? eb('version', 'in', copied.slice(0, versions)) : eb.val(false),
                ]),
                eb.and([
                  eb('backend', '=', fenceBackend),
                  eb('action', '=', 'fence'),
                  eb('version', '=', fenceVersion),
                ]),
              ]),
            ),
      ),
    ),
  };
}

const moverQueries = oncePer(compileQueries);

/** The journal row that keeps writers off a secret while it moves. */
interface Fence {
  secretId: string;
  version: number;
  backend: string;
}

/**
 * Journals a `put` intent on the target per version, and the fence on the source, all with
 * one timestamp, which it returns; null when a writer holds the fenced version (nothing is
 * journaled then). Rows already
 * there are leftovers: copies and fences a stopped run journaled (this process holds the
 * run's lease now, so it takes them over), or the journaled deletion of a copy an earlier
 * migration away from the target left (carried out first).
 */
async function journalCopies(
  deps: MoverDeps,
  secretId: string,
  versions: readonly number[],
  target: Backend,
  fence: Fence,
): Promise<string | null> {
  const { db } = deps.database;
  const now = isoNow(deps.clock);
  try {
    // A transaction of its own, so that on SQLite the intents of several secrets moving at
    // once share a commit (storage/write-groups.ts).
    const intents = moverQueries(deps.database).journalIntents(versions.length);
    await inTransaction(deps.database, (tx) =>
      intents.execute(tx, secretId, fence.version, fence.backend, target.name, now, ...versions),
    );
    return now;
  } catch (err) {
    if (!isUniqueViolation(err) && !isRetryableTransactionError(err)) throw err;
  }
  // Some of these rows are there already: the same rows as objects, to look at one by one.
  const fenceColumns = {
    secret_id: secretId,
    version: fence.version,
    backend: fence.backend,
    action: 'fence',
    created_at: now,
  };
  const rows = [
    fenceColumns,
    ...versions.map((version) => ({
      secret_id: secretId,
      version,
      backend: target.name,
      action: 'put',
      created_at: now,
    })),
  ];
  const existingFence = await db
    .selectFrom('value_journal')
    .select('action')
    .where('secret_id', '=', secretId)
    .where('version', '=', fence.version)
    .where('backend', '=', fence.backend)
    .executeTakeFirst();
  if (existingFence?.action === 'put') return null;
  for (const row of rows) {
    const existing =
      row === fenceColumns
        ? existingFence
        : await db
            .selectFrom('value_journal')
            .select('action')
            .where('secret_id', '=', secretId)
            .where('version', '=', row.version)
            .where('backend', '=', row.backend)
            .executeTakeFirst();
    if (existing?.action === 'delete') {
      await deps.backends.require(row.backend).delete({ secretId, version: row.version });
      await db
        .deleteFrom('value_journal')
        .where('secret_id', '=', secretId)
        .where('version', '=', row.version)
        .where('backend', '=', row.backend)
        .where('action', '=', 'delete')
        .execute();
    }
    if (existing !== undefined && existing.action === row.action) {
      await db
        .updateTable('value_journal')
        .set({ created_at: now })
        .where('secret_id', '=', secretId)
        .where('version', '=', row.version)
        .where('backend', '=', row.backend)
        .execute();
    } else {
      try {
        await db.insertInto('value_journal').values(row).execute();
      } catch (err) {
        // A writer took the fenced version in the meantime.
        if (row === fenceColumns && isUniqueViolation(err)) {
          return null;
        }
        throw err;
      }
    }
  }
  return now;
}

async function switchSecret(
  deps: MoverDeps,
  job: MoveJob,
  row: { backend: string; current_version: number },
  source: Backend,
  versions: readonly number[],
  copied: readonly number[],
  fence: Fence,
  journaledAt: string,
  progress: { statementsRan: boolean },
): Promise<boolean> {
  const now = isoNow(deps.clock);
  const target = job.target;
  // A source in Coffer's own database loses its copies in the switch itself: nothing to
  // journal, and nothing left to delete after it.
  const sourceWrites = job.keepSource ? undefined : source.transactional;
  const queries = moverQueries(deps.database);
  await inTransaction(deps.database, async (tx) => {
    progress.statementsRan = false;
    const switched = await queries.switchTo.execute(
      tx,
      target.name,
      job.secretId,
      row.backend,
      row.current_version,
    );
    if (Number(switched.numAffectedRows) !== 1) throw new SwitchLost();
    const intents = await queries
      .removeIntents(copied.length)
      .execute(tx, job.secretId, journaledAt, target.name, fence.backend, fence.version, ...copied);
    // The reconciler took a copy (or the fence) for an abandoned one and removed it: again.
    if (Number(intents.numAffectedRows) !== copied.length + 1) throw new SwitchLost();
    const dropped = versions.filter((v) => !copied.includes(v));
    if (dropped.length > 0) {
      await tx
        .deleteFrom('secret_versions')
        .where('secret_id', '=', job.secretId)
        .where('version', 'in', dropped)
        .execute();
    }
    if (job.keepSource) {
      await tx
        .deleteFrom('migration_kept_values')
        .where('secret_id', '=', job.secretId)
        .where('backend', '=', source.name)
        .execute();
      if (versions.length > 0) {
        await tx
          .insertInto('migration_kept_values')
          .values(
            versions.map((version) => ({
              secret_id: job.secretId,
              version,
              backend: source.name,
              run_id: job.runId,
              kept_at: now,
            })),
          )
          .execute();
      }
    } else if (sourceWrites !== undefined) {
      if (versions.length > 0) {
        // Journal rows on those copies (a crashed write's stale intent) go with them.
        await removeJournalRows(deps.database, tx, job.secretId, source.name, versions);
        await sourceWrites.deleteVersions(tx, job.secretId, versions);
      }
    } else {
      await journalDeletes(deps.database, tx, job.secretId, source.name, versions, now);
    }
    if (job.targetHasKeptCopies) {
      // Copies kept on the target by an earlier migration away from it are live again (the
      // ones just copied over them) or stale (versions dropped since): those are deleted.
      const kept = await tx
        .selectFrom('migration_kept_values')
        .select('version')
        .where('secret_id', '=', job.secretId)
        .where('backend', '=', target.name)
        .execute();
      if (kept.length > 0) {
        await tx
          .deleteFrom('migration_kept_values')
          .where('secret_id', '=', job.secretId)
          .where('backend', '=', target.name)
          .execute();
        const stale = kept.map((k) => k.version).filter((v) => !copied.includes(v));
        await journalDeletes(deps.database, tx, job.secretId, target.name, stale, now);
      }
    }
    if (job.hadFailure) {
      await tx.deleteFrom('migration_failures').where('secret_id', '=', job.secretId).execute();
    }
    const counted = await queries.countDone.execute(tx, now, job.runId, job.owner);
    if (Number(counted.numAffectedRows) !== 1) throw new LeaseLost();
    progress.statementsRan = true;
  });
  return sourceWrites !== undefined;
}

const unknownPlace = Symbol('unknown place');
/** How long settledPlace waits on PostgreSQL for a switch still in flight (as long as MySQL waits by default). */
const settleTimeoutSeconds = 50;

/**
 * Where the secret is once a switch whose commit failed has settled. A connection lost while
 * committing leaves the outcome open: on PostgreSQL and MySQL the server may carry out the
 * commit after the client gave up on it, and a plain read on another connection would still
 * see the secret on its source, so undoing the copies would delete the values of a switch
 * that lands a moment later. That transaction holds the secret's row lock until it ends, so a
 * locking read waits for its outcome. SQLite commits synchronously in this process: what a
 * read sees after a failed commit is final.
 */
async function settledPlace(
  deps: MoverDeps,
  secretId: string,
): Promise<{ backend: string; current_version: number } | undefined | typeof unknownPlace> {
  const { database } = deps;
  if (!database.features.forUpdate) {
    return (await moverQueries(database).placeOf.execute(database.db, secretId)).rows[0];
  }
  try {
    return await database.db.transaction().execute(async (tx) => {
      if (database.dialect === 'postgres') {
        await sql`set local lock_timeout = ${sql.lit(`${settleTimeoutSeconds}s`)}`.execute(tx);
      }
      return tx
        .selectFrom('secrets')
        .select(['backend', 'current_version'])
        .where('id', '=', secretId)
        .forUpdate()
        .executeTakeFirst();
    });
  } catch {
    return unknownPlace;
  }
}

/** Removes the copies of a move that did not switch, their intents and the fence. */
async function undoCopies(
  deps: MoverDeps,
  job: MoveJob,
  versions: readonly number[],
  fence: Fence,
): Promise<void> {
  const { db } = deps.database;
  await db
    .deleteFrom('value_journal')
    .where('secret_id', '=', fence.secretId)
    .where('version', '=', fence.version)
    .where('backend', '=', fence.backend)
    .where('action', '=', 'fence')
    .execute()
    .catch((err: unknown) =>
      deps.logger.warn({ err, secretId: job.secretId }, 'could not remove a migration fence'),
    );
  for (const version of versions) {
    const ref: ValueRef = { secretId: job.secretId, version };
    try {
      await job.target.delete(ref);
      await db
        .deleteFrom('value_journal')
        .where('secret_id', '=', job.secretId)
        .where('version', '=', version)
        .where('backend', '=', job.target.name)
        .where('action', '=', 'put')
        .execute();
      await db
        .deleteFrom('migration_kept_values')
        .where('secret_id', '=', job.secretId)
        .where('version', '=', version)
        .where('backend', '=', job.target.name)
        .execute();
    } catch (err) {
      deps.logger.warn(
        { err, secretId: job.secretId, version, backend: job.target.name },
        'could not remove an abandoned migration copy; the reconciler will',
      );
    }
  }
}

/** Same field names, and each field the same value of the same type. */
export function sameValues(a: SecretValues, b: SecretValues): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** A failure reason safe to store and show: the error's code and message, never a value. */
export function failureReason(err: unknown): string {
  const reason = isCofferError(err)
    ? `${err.code}: ${err.message}`
    : `internal: ${err instanceof Error ? err.name : 'error'} (details in the server log)`;
  return reason.length > 1000 ? `${reason.slice(0, 997)}...` : reason;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
