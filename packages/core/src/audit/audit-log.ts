import { sql } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import { type Clock, isoNow, systemClock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { AuditHeadRow } from '../storage/schema.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import { auditRecordHash, auditRecordOf, auditRowOf, genesisHash } from './audit-chain.js';
import type { AuditEntry, AuditRecord } from './audit-types.js';

/** The single row of `audit_head`. */
const headId = 1;

/** Most records one group commit writes (bounded by SQLite's limit on bound parameters). */
const maxBatch = 200;

export interface AuditLogOptions {
  database: CofferDatabase;
  /** Defaults to the system clock. */
  clock?: Clock;
}

/**
 * The append side of the audit log. Records are hash-chained and numbered without gaps;
 * the log is the only writer of `audit_log` and `audit_head`.
 *
 * @example
 * await inTransaction(database, async (tx) => {
 *   await tx.updateTable('users').set({ role: 'admin' }).where('id', '=', id).execute();
 *   await auditLog.append(tx, { action: 'user.update', outcome: 'success', actor, source: 'api' });
 * });
 */
export interface AuditLog {
  /**
   * Appends a record inside the caller's transaction, so it commits (or rolls back) with the
   * change it describes. It locks the chain head until the transaction ends, so call it last.
   * If the record cannot be written it throws, and the caller's transaction fails with it.
   */
  append(tx: Tx, entry: AuditEntry): Promise<AuditRecord>;
  /**
   * Appends a record in a transaction of its own: for events with no change to commit with
   * them (denied attempts, failed logins). Never call it from inside a transaction on the
   * same database handle: SQLite has one connection, which that transaction holds.
   */
  appendStandalone(entry: AuditEntry): Promise<AuditRecord>;
}

/**
 * Creates the audit log over Coffer's database.
 *
 * @example
 * const auditLog = createAuditLog({ database, clock: systemClock });
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { database } = options;
  const clock = options.clock ?? systemClock;

  async function lockHead(tx: Tx): Promise<AuditHeadRow> {
    if (!database.features.forUpdate) {
      // Without row locks, a write is what makes SQLite take its database-wide write lock.
      // Taking it before reading the head means a transaction that starts with this append
      // (appendStandalone) never reads a head that another process is about to move.
      await tx.updateTable('audit_head').set({ seq: sql`seq` }).where('id', '=', headId).execute();
    }
    const read = () =>
      tx
        .selectFrom('audit_head')
        .select(['id', 'seq', 'hash'])
        .where('id', '=', headId)
        .$if(database.features.forUpdate, (q) => q.forUpdate())
        .executeTakeFirst();
    let head = await read();
    if (head === undefined) {
      // Two processes may both find no head; the loser's insert is a no-op that waits for the
      // winner's commit, and its second read then sees (and locks) the winner's row.
      const genesis = tx.insertInto('audit_head').values({ id: headId, seq: 0, hash: genesisHash });
      await (database.features.duplicateKeyUpsert
        ? genesis.onDuplicateKeyUpdate({ id: headId })
        : genesis.onConflict((oc) => oc.column('id').doNothing())
      ).execute();
      head = await read();
    }
    if (head === undefined) throw new CofferError('internal', 'the audit chain head could not be created');
    const locked = { id: head.id, seq: Number(head.seq), hash: head.hash };
    if (locked.seq === 0) await assertNoRecords(tx);
    return locked;
  }

  /**
   * A head at the start while records exist means the head was removed or reset: appending
   * would restart the chain and hide everything before, so refuse (failing the caller's
   * change). Checked with the head locked, so no append can commit in between.
   */
  async function assertNoRecords(tx: Tx): Promise<void> {
    const any = await tx.selectFrom('audit_log').select('seq').limit(1).executeTakeFirst();
    if (any !== undefined) {
      throw new CofferError(
        'integrity',
        'the audit chain head is missing or reset while records exist; run audit verify',
      );
    }
  }

  /** Appends records in order, chained one to the next, under one lock of the head. */
  async function appendMany(tx: Tx, entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const head = await lockHead(tx);
    const rows = [];
    let previous = head.hash;
    for (const [i, entry] of entries.entries()) {
      const unhashed = auditRowOf(entry, head.seq + 1 + i, isoNow(clock), previous);
      const row = { ...unhashed, hash: auditRecordHash(unhashed) };
      rows.push(row);
      previous = row.hash;
    }
    await tx.insertInto('audit_log').values(rows).execute();
    const last = rows[rows.length - 1]!;
    const moved = await tx
      .updateTable('audit_head')
      .set({ seq: last.seq, hash: last.hash })
      .where('id', '=', headId)
      .where('seq', '=', head.seq)
      .executeTakeFirst();
    // The head is locked, so it cannot have moved; if it did, the lock did not hold and two
    // records would share a predecessor. Failing here keeps the chain linear.
    if (Number(moved.numUpdatedRows) !== 1) {
      throw new CofferError('conflict', 'the audit chain head moved during an append');
    }
    return rows.map(auditRecordOf);
  }

  /*
   * Group commit for standalone records: appends that arrive while a batch is being written
   * wait and go together in the next transaction. Each caller still gets its promise only
   * after the transaction holding its record committed, so a reveal whose record cannot be
   * written fails (fail closed); under load one lock of the head serves many records.
   *
   * The first append of a batch waits for the end of the current turn of the event loop
   * (setImmediate) before writing: requests read off the network in the same turn then share
   * one transaction. On SQLite a transaction runs to its commit without yielding, so without
   * this wait every concurrent reveal paid its own commit (the largest part of its cost).
   */
  const queue: { entry: AuditEntry; resolve: (r: AuditRecord) => void; reject: (e: unknown) => void }[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        try {
          const records = await inTransaction(database, (tx) =>
            appendMany(
              tx,
              batch.map((b) => b.entry),
            ),
          );
          for (const [i, b] of batch.entries()) b.resolve(records[i]!);
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    append: async (tx, entry) => (await appendMany(tx, [entry]))[0]!,
    appendStandalone: (entry) =>
      new Promise<AuditRecord>((resolve, reject) => {
        queue.push({ entry, resolve, reject });
        if (!flushing) {
          flushing = true;
          setImmediate(() => void flush());
        }
      }),
  };
}
