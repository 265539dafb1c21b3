import { type Kysely, sql } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import { type Clock, isoNow, systemClock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import { perSize, preparedQuery } from '../storage/prepared.js';
import type { AuditHeadRow, AuditRow, CofferTables } from '../storage/schema.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import { auditRecordOf, auditRowOf, genesisHash } from './audit-chain.js';
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

  /**
   * The head as this process last wrote it. Appending after it needs no read of the head: a
   * conditional update moves the head only if it is still exactly there (which also locks it
   * until the transaction ends, as reading it for update would), and the records go in after.
   * When another process or transaction moved the head in between, nothing was written and
   * the append falls back to reading the head under its lock; so this is only a guess, and a
   * wrong one (a transaction that rolled back after its append, say) costs one statement.
   *
   * It moves when an append is sent, not when it is done: the next append of this process
   * chains after records not yet committed. Its conditional move then waits for the head's row
   * lock, which the earlier transaction holds, and succeeds once that one commits. Moved only
   * on success, every concurrent write transaction of this process guessed the same head and
   * all but one fell back, three more statements each inside the lock every writer waits for
   * (docs/performance.md, "Chained before the commit").
   */
  let lastHead: { seq: number; hash: string } | undefined;

  /** The records for `entries`, chained after `head`. */
  function chain(head: { seq: number; hash: string }, entries: readonly AuditEntry[]): AuditRow[] {
    const rows: AuditRow[] = [];
    let previous = head.hash;
    for (const [i, entry] of entries.entries()) {
      const row = auditRowOf(entry, head.seq + 1 + i, isoNow(clock), previous);
      rows.push(row);
      previous = row.hash;
    }
    return rows;
  }

  const statements = auditStatements(database);

  /**
   * Moves the head from `guess` to the last of `rows` and inserts `rows`. When the head is no
   * longer there nothing is written, and the answer says where the head is if it is now locked
   * by this transaction (PostgreSQL), so that the caller need not read it again. The head stays
   * locked from its move until the commit, and every write of every server waits for that
   * lock, so on PostgreSQL the move and the insert go in one round trip (one statement less
   * inside the lock).
   */
  async function appendAfter(
    tx: Tx,
    guess: { seq: number; hash: string },
    rows: AuditRow[],
  ): Promise<{ appended: boolean; lockedHead?: { seq: number; hash: string } }> {
    if (database.features.writableCte) {
      const { inserted, head } = await statements.moveHeadAndInsert(tx, guess, rows);
      return { appended: inserted, lockedHead: head };
    }
    const last = rows[rows.length - 1]!;
    const moved = await statements.moveHead.execute(tx, last.seq, last.hash, guess.seq, guess.hash);
    if (Number(moved.numAffectedRows) !== 1) return { appended: false };
    await statements.insert(tx, rows);
    return { appended: true };
  }

  /**
   * Where the database locks rows (PostgreSQL, MySQL), the transactions of this process send
   * their appends one after another: each waits until the one before holds the head's lock (its
   * statement answered), then guesses the head that one left. Its conditional move then waits
   * for that transaction's commit and succeeds. Sent at once, they reached the database in any
   * order, and almost every guess was wrong. It costs no time: the lock serializes them anyway.
   */
  let turn: Promise<void> = Promise.resolve();

  function inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const previous = turn;
    let done!: () => void;
    turn = new Promise((resolve) => {
      done = resolve;
    });
    return previous.then(fn).finally(done);
  }

  /**
   * The last append of each transaction. A transaction's next append runs after it, on every
   * dialect, and takes no turn: by then the transaction holds the head's lock, and waits for no
   * one. Run at once instead, a later append could move the head (taking its lock) while the
   * first still waited for another transaction's turn, and that transaction's move waited for
   * the lock: a deadlock. Two appends of one transaction that both fell back to reading the head
   * read the same one, and the second failed.
   */
  const lastAppendOf = new WeakMap<Tx, Promise<unknown>>();

  /** Appends records in order, chained one to the next, under one lock of the head. */
  function appendMany(tx: Tx, entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const earlier = lastAppendOf.get(tx);
    const run =
      earlier !== undefined
        ? earlier.then(() => appendLocked(tx, entries))
        : database.features.forUpdate
          ? inTurn(() => appendLocked(tx, entries))
          : appendLocked(tx, entries);
    lastAppendOf.set(
      tx,
      run.then(
        () => undefined,
        () => undefined,
      ),
    );
    return run;
  }

  async function appendLocked(tx: Tx, entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const guess = lastHead;
    let head: { seq: number; hash: string } | undefined;
    if (guess !== undefined) {
      const rows = chain(guess, entries);
      const last = rows[rows.length - 1]!;
      lastHead = { seq: last.seq, hash: last.hash };
      const { appended, lockedHead } = await appendAfter(tx, guess, rows);
      if (appended) return rows.map(auditRecordOf);
      // A head at the start is checked against the records by lockHead.
      if (lockedHead !== undefined && lockedHead.seq > 0) head = lockedHead;
    }
    head ??= await lockHead(tx);
    const rows = chain(head, entries);
    const last = rows[rows.length - 1]!;
    lastHead = { seq: last.seq, hash: last.hash };
    // The head is locked, so it cannot have moved; if it did, the lock did not hold and two
    // records would share a predecessor. Failing here keeps the chain linear.
    const moved = database.features.writableCte
      ? (await statements.moveHeadAndInsert(tx, head, rows)).inserted
      : await statements.insert(tx, rows).then(async () => {
          const update = await statements.moveHead.execute(tx, last.seq, last.hash, head.seq, head.hash);
          return Number(update.numAffectedRows) === 1;
        });
    if (!moved) throw new CofferError('conflict', 'the audit chain head moved during an append');
    return rows.map(auditRecordOf);
  }

  /**
   * A batch of standalone records. Where one statement can move the head and insert the
   * records together (PostgreSQL), the guessed head makes the append one round trip instead
   * of a transaction of five; otherwise, and when the guess is wrong, a transaction.
   */
  async function appendBatch(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const guess = lastHead;
    if (guess !== undefined && database.features.writableCte) {
      const rows = chain(guess, entries);
      const last = rows[rows.length - 1]!;
      lastHead = { seq: last.seq, hash: last.hash };
      const { inserted } = await statements.moveHeadAndInsert(database.db, guess, rows);
      if (inserted) return rows.map(auditRecordOf);
    }
    return inTransaction(database, (tx) => appendMany(tx, entries));
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
          const records = await appendBatch(batch.map((b) => b.entry));
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

/** What moveHeadAndInsert's statement answers: where the head is, and how many records went in. */
interface MovedHead {
  seq: number | string;
  hash: string;
  inserted: number | string;
}

/** The columns of `audit_log` in the order the statements below bind them. */ const auditColumns = [
  'seq',
  'at',
  'actor_type',
  'actor_id',
  'actor_name',
  'action',
  'target_type',
  'target_id',
  'target_name',
  'outcome',
  'source',
  'address',
  'purpose',
  'details',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof AuditRow)[];

/** The append's statements, compiled once per database (preparedQuery). */
function auditStatements(database: CofferDatabase) {
  const db = database.db;
  const moveHead = preparedQuery((seq: number, hash: string, fromSeq: number, fromHash: string) =>
    db
      .updateTable('audit_head')
      .set({ seq, hash })
      .where('id', '=', headId)
      .where('seq', '=', fromSeq)
      .where('hash', '=', fromHash),
  );
  /** One prepared insert per batch size (at most maxBatch of them). */
  const inserts = perSize((size) =>
    preparedQuery((...values: unknown[]) =>
      db
        .insertInto('audit_log')
        .values(Array.from({ length: size }, (_, r) => rowOf(values.slice(r * auditColumns.length)))),
    ),
  );
  /** The same for moveHeadAndInsert (PostgreSQL): compiled once per batch size. */
  const movesAndInserts = perSize((size) =>
    preparedQuery((seq: number, hash: string, fromSeq: number, fromHash: string, ...values: unknown[]) => {
      const columns = sql.join(auditColumns.map((c) => sql.ref(c)));
      const tuples = Array.from(
        { length: size },
        (_, r) =>
          sql`(${sql.join(
            auditColumns.map((c, i) => {
              const value = values[r * auditColumns.length + i];
              return c === 'seq' ? sql`cast(${value} as bigint)` : sql`${value}`;
            }),
          )})`,
      );
      // The update matches the head whatever it holds, so it waits for the head's row lock even
      // when this process guessed a head another transaction has moved but not yet committed
      // (a condition in the WHERE would be checked against this statement's snapshot first,
      // and find nothing). Once it has the lock it moves the head only if it is at `from`, and
      // otherwise leaves it as it is, still locked, and returns where it is. A head already at
      // the last of `rows` is another writer's identical records (same entries, same instant,
      // same predecessor): they are in the log, so the insert finds them and adds nothing, and
      // these records chain after them instead.
      const statement = sql<MovedHead>`with moved as (
          update audit_head
          set seq = case when seq = ${fromSeq} and hash = ${fromHash} then ${seq} else seq end,
            hash = case when seq = ${fromSeq} and hash = ${fromHash} then ${hash} else hash end
          where id = ${headId}
          returning seq, hash),
        inserted as (
          insert into audit_log (${columns})
          select ${columns} from (values ${sql.join(tuples)}) as v (${columns})
          where exists (select 1 from moved where moved.seq = ${seq} and moved.hash = ${hash})
          on conflict do nothing
          returning seq)
        select moved.seq, moved.hash, (select count(seq) from inserted) as inserted from moved`;
      return { compile: () => statement.compile(db) };
    }),
  );
  const rowOf = (values: readonly unknown[]) =>
    Object.fromEntries(auditColumns.map((c, i) => [c, values[i]])) as unknown as AuditRow;
  /** The rows' values in column order, by plain loops (`flatMap` over `map` was 1% of a reveal). */
  const valuesOf = (rows: readonly AuditRow[]) => {
    const values: unknown[] = new Array(rows.length * auditColumns.length);
    let k = 0;
    for (const row of rows) for (const column of auditColumns) values[k++] = row[column];
    return values;
  };
  return {
    moveHead,
    insert(tx: Tx, rows: readonly AuditRow[]) {
      return inserts(rows.length).execute(tx, ...valuesOf(rows));
    },
    /**
     * Moves the head from `from` to the last of `rows` and inserts `rows`, in one statement
     * (PostgreSQL only). When the head is not at `from` it inserts nothing; inside a transaction
     * the head is then locked all the same, and `head` is where it is.
     */
    async moveHeadAndInsert(
      on: Kysely<CofferTables>,
      from: { seq: number; hash: string },
      rows: readonly AuditRow[],
    ): Promise<{ inserted: boolean; head?: { seq: number; hash: string } }> {
      const last = rows[rows.length - 1]!;
      const result = await movesAndInserts(rows.length).execute(
        on,
        last.seq,
        last.hash,
        from.seq,
        from.hash,
        ...valuesOf(rows),
      );
      const moved = result.rows[0];
      if (moved === undefined) return { inserted: false };
      const inserted = Number(moved.inserted);
      if (inserted !== 0 && inserted !== rows.length) {
        // Only some of the records clashed with ones already there: never the case for a chain
        // (identical last records mean identical records all along), so refuse rather than leave
        // records the head does not lead to.
        throw new CofferError('integrity', 'the audit chain already holds some of these records');
      }
      return { inserted: inserted === rows.length, head: { seq: Number(moved.seq), hash: moved.hash } };
    },
  };
}
