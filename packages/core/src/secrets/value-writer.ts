import type { Backend, TransactionalWrites, ValueRef } from '../backends/backend.js';
import { CofferError } from '../errors/coffer-error.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Logger } from '../logging/logger.js';
import { type Clock, isoNow } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import { oncePer, preparedQuery } from '../storage/prepared.js';
import { errorCodeOf, isRetryableTransactionError, isUniqueViolation } from '../storage/sql-errors.js';
import { inTransaction, type Tx } from '../storage/transaction.js';

/**
 * Points in a write where a crash leaves distinct states; tests kill the process at each.
 * - `journaled`: the intent row exists, nothing else.
 * - `value-put`: the value is in the backend, metadata does not reference it yet.
 * - `staged`: (backends in Coffer's own database only) the value and the metadata are written
 *   in one transaction that has not committed.
 * - `committed`: metadata references the new version; superseded values await deletion.
 * - `cleaned`: pruned values are gone from the backend.
 */
export type WriteStep = 'journaled' | 'value-put' | 'staged' | 'committed' | 'cleaned';

export interface ValueWriterDeps {
  database: CofferDatabase;
  clock: Clock;
  logger: Logger;
  /** Called at each step; crash tests use it to kill the process there. */
  onStep?: (step: WriteStep, ref: ValueRef) => void;
}

/** Another writer holds the journal entry for the version this write wanted to create. */
export class WriteInProgress extends Error {}

/** The write's journal entry was taken over while its value was being put (see claimJournalRow). */
class LeaseLost extends Error {}

/**
 * The order every value write follows, so a crash at any point leaves neither metadata that
 * points at a missing value nor a value nothing will ever reference:
 *
 * 1. journal a `put` intent for (secret, version, backend): its primary key also makes two
 *    writers of the same version collide here, before either touches the backend;
 * 2. put the value into the backend;
 * 3. one transaction: the caller's metadata change (which references the version), removal
 *    of the intent, journaled `delete`s of versions it drops, and the audit record;
 * 4. delete the dropped versions from the backend and their journal rows.
 *
 * A crash before 3 leaves an intent that the reconciler resolves by deleting the value; a
 * crash after 3 leaves `delete` rows that it finishes. A commit that fails with an unknown
 * outcome (a connection lost while committing) is left to the reconciler the same way: the
 * commit removes the intent, so an intent that outlives its lease means it did not commit.
 *
 * A backend whose values live in Coffer's own database (`transactional`) needs none of that:
 * its value and the dropped versions' removal are statements of the metadata transaction, so
 * a write is one commit and a crash leaves either all of it or none. `commit` must then not
 * journal the versions it drops (pruneVersions without `journal`).
 */
export async function writeVersion(
  deps: ValueWriterDeps,
  backend: Backend,
  ref: ValueRef,
  values: SecretValues,
  commit: (tx: Tx) => Promise<number[]>,
): Promise<void> {
  if (backend.transactional !== undefined) {
    await writeInTransaction(deps, backend.name, backend.transactional, ref, values, commit);
    return;
  }
  const { database, clock } = deps;
  const journaledAt = isoNow(clock);
  try {
    await database.db
      .insertInto('value_journal')
      .values({
        secret_id: ref.secretId,
        version: ref.version,
        backend: backend.name,
        action: 'put',
        created_at: journaledAt,
      })
      .execute();
  } catch (err) {
    // A duplicate key means another writer holds this version; a deadlock (MySQL takes gap
    // locks on concurrent inserts) is the same race lost differently.
    if (isUniqueViolation(err) || isRetryableTransactionError(err)) throw new WriteInProgress();
    throw err;
  }
  // The journal row only excludes writers that are in flight. A writer that read the secret
  // before another one committed this very version would otherwise overwrite the committed
  // value; reading the version again now, after the insert, closes that window.
  if (ref.version > 1) {
    const row = await database.db
      .selectFrom('secrets')
      .select(['current_version', 'backend'])
      .where('id', '=', ref.secretId)
      .executeTakeFirst();
    if (row === undefined || row.current_version !== ref.version - 1 || row.backend !== backend.name) {
      await removePutIntent(deps, backend, ref);
      throw new CofferError('conflict', 'the secret changed while this write started; retry');
    }
  }
  deps.onStep?.('journaled', ref);
  let dropped: number[];
  // Whether the transaction's last attempt ran all its statements: a failure after that is its
  // commit's, whose outcome the caller cannot know (see below).
  let statementsRan = false;
  try {
    await backend.put(ref, values);
    deps.onStep?.('value-put', ref);
    dropped = await inTransaction(database, async (tx) => {
      statementsRan = false;
      const versions = await commit(tx);
      // The intent must still be ours: a write slower than its lease has been taken over (see
      // claimJournalRow), its value deleted, and must not commit a version that has no value.
      const removed = await tx
        .deleteFrom('value_journal')
        .where('secret_id', '=', ref.secretId)
        .where('version', '=', ref.version)
        .where('backend', '=', backend.name)
        .where('action', '=', 'put')
        .where('created_at', '=', journaledAt)
        .executeTakeFirst();
      if (removed.numDeletedRows !== 1n) throw new LeaseLost();
      statementsRan = true;
      return versions;
    });
  } catch (err) {
    // After a takeover the ref is no longer ours to clean up: another writer may hold it now.
    if (err instanceof LeaseLost) {
      throw new CofferError(
        'conflict',
        'this write outlasted its lease and was undone by another process; nothing was saved, retry',
      );
    }
    if (statementsRan) {
      // The commit itself failed: a connection lost while committing, say. The database may
      // have committed all the same, and then the new version references this value, so it
      // must not be deleted here. The commit removes the intent with everything else: an
      // intent still there once the lease has run out means it did not, and the reconciler
      // (or the next writer of this version) deletes the value then.
      deps.logger.warn(
        { secretId: ref.secretId, version: ref.version, code: errorCodeOf(err) },
        'a value write failed while committing; its outcome is unknown until the reconciler looks',
      );
      throw err;
    }
    await undoPut(deps, backend, ref);
    throw err;
  }
  deps.onStep?.('committed', ref);
  await deleteJournaledValues(deps, backend, ref.secretId, dropped);
  deps.onStep?.('cleaned', ref);
}

/** The journal row on one version of a secret in one backend, compiled once per database. */
const journalRowOf = oncePer((database: CofferDatabase) =>
  preparedQuery((secretId: string, version: number, backend: string) =>
    database.db
      .selectFrom('value_journal')
      .select('action')
      .where('secret_id', '=', secretId)
      .where('version', '=', version)
      .where('backend', '=', backend),
  ),
);

async function writeInTransaction(
  deps: ValueWriterDeps,
  backendName: string,
  writes: TransactionalWrites,
  ref: ValueRef,
  values: SecretValues,
  commit: (tx: Tx) => Promise<number[]>,
): Promise<void> {
  const putValue = await writes.preparePut(ref, values);
  await inTransaction(deps.database, async (tx) => {
    // A journal row on this very version is a writer or a migration going through the journal
    // (a migration's fence, a crashed write's intent): theirs to finish or the caller's to
    // clear (see clearStaleIntent), exactly as if this write had collided on the journal.
    if (ref.version > 1) {
      const { rows } = await journalRowOf(deps.database).execute(tx, ref.secretId, ref.version, backendName);
      if (rows.length > 0) throw new WriteInProgress();
    }
    // The value before the metadata: the commit's last statements append the audit record,
    // and on PostgreSQL and MySQL every write waits for the audit head's row lock from that
    // append to the commit. Nothing else here needs the metadata first (no foreign key).
    await putValue(tx);
    const dropped = await commit(tx);
    // The versions the commit dropped, not journaled (see pruneVersions): their values go in
    // the same transaction.
    if (dropped.length > 0) await writes.deleteVersions(tx, ref.secretId, dropped);
    deps.onStep?.('staged', ref);
  });
  deps.onStep?.('committed', ref);
  deps.onStep?.('cleaned', ref);
}

/** Best effort: the value of a write that did not commit is removed now, or by the reconciler. */
async function undoPut(deps: ValueWriterDeps, backend: Backend, ref: ValueRef): Promise<void> {
  try {
    await backend.delete(ref);
    await removePutIntent(deps, backend, ref);
  } catch (err) {
    deps.logger.warn(
      { err, secretId: ref.secretId, version: ref.version },
      'could not undo an uncommitted value write; the reconciler will',
    );
  }
}

async function removePutIntent(deps: ValueWriterDeps, backend: Backend, ref: ValueRef): Promise<void> {
  await deps.database.db
    .deleteFrom('value_journal')
    .where('secret_id', '=', ref.secretId)
    .where('version', '=', ref.version)
    .where('backend', '=', backend.name)
    .where('action', '=', 'put')
    .execute();
}

/** Deletes values whose `delete` rows are journaled, then the rows. Failures are left to the reconciler. */
export async function deleteJournaledValues(
  deps: ValueWriterDeps,
  backend: Backend,
  secretId: string,
  versions: readonly number[],
): Promise<void> {
  for (const version of versions) {
    try {
      await backend.delete({ secretId, version });
      await journalDeleteDoneOf(deps.database).execute(deps.database.db, secretId, version, backend.name);
    } catch (err) {
      deps.logger.warn(
        { err, secretId, version },
        'could not delete a superseded value; the reconciler will retry',
      );
    }
  }
}

/** Clears the journal's `delete` row once its value is gone, compiled once per database. */
const journalDeleteDoneOf = oncePer((database: CofferDatabase) =>
  preparedQuery((secretId: string, version: number, backend: string) =>
    database.db
      .deleteFrom('value_journal')
      .where('secret_id', '=', secretId)
      .where('version', '=', version)
      .where('backend', '=', backend)
      .where('action', '=', 'delete'),
  ),
);

/** A value-journal row as the reconciler and stale-intent takeovers see it. */
export interface JournalRow {
  secret_id: string;
  version: number;
  backend: string;
  action: string;
  created_at: string;
}

/**
 * Takes over a stale journal row before acting on it: its timestamp moves to now, on the
 * condition that it is still the one read. Exactly one process wins the claim, and a
 * claimed row looks fresh, so nobody else takes it over while the winner undoes it; the
 * owner of the row (a slow writer or migration) sees its own timestamp gone and backs off.
 * Returns the claim's timestamp, or null when someone else changed or removed the row.
 */
export async function claimJournalRow(
  db: CofferDatabase['db'],
  row: JournalRow,
  clock: Clock,
): Promise<string | null> {
  let claim = isoNow(clock);
  if (claim <= row.created_at) claim = new Date(Date.parse(row.created_at) + 1).toISOString();
  const result = await db
    .updateTable('value_journal')
    .set({ created_at: claim })
    .where('secret_id', '=', row.secret_id)
    .where('version', '=', row.version)
    .where('backend', '=', row.backend)
    .where('action', '=', row.action)
    .where('created_at', '=', row.created_at)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n ? claim : null;
}

/** Removes a claimed journal row (only while the claim still holds). */
export async function releaseJournalRow(
  db: CofferDatabase['db'],
  row: JournalRow,
  claim: string,
): Promise<void> {
  await db
    .deleteFrom('value_journal')
    .where('secret_id', '=', row.secret_id)
    .where('version', '=', row.version)
    .where('backend', '=', row.backend)
    .where('action', '=', row.action)
    .where('created_at', '=', claim)
    .execute();
}

/** Throws `conflict` when an update guarded by the current version touched no row. */
export function assertOneRow(
  result: { numUpdatedRows: bigint } | { numDeletedRows: bigint },
  what: string,
): void {
  const n = 'numUpdatedRows' in result ? result.numUpdatedRows : result.numDeletedRows;
  if (n !== 1n) throw new CofferError('conflict', `${what} changed concurrently; retry`);
}
