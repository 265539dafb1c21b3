import type { Transaction } from 'kysely';
import type { CofferDatabase } from './database.js';
import { oncePer } from './prepared.js';
import type { CofferTables } from './schema.js';
import { isRetryableTransactionError } from './sql-errors.js';
import { createWriteGroups } from './write-groups.js';

export type Tx = Transaction<CofferTables>;

/**
 * Runs `fn` in a transaction, retrying a few times when the database reports a lost race
 * (deadlock, serialization failure, busy). `fn` must therefore be safe to run again: it
 * should only touch the database, never external stores. On SQLite, transactions asked for
 * together share one commit, each in a savepoint of its own (write-groups.ts); the promise
 * settles after the commit either way.
 *
 * @example
 * await inTransaction(database, async (tx) => { ...; await audit.append(tx, entry); });
 */
export function inTransaction<T>(database: CofferDatabase, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (database.dialect !== 'sqlite') return runAlone(database, fn);
  return writeGroupsOf(database).run(fn);
}

/**
 * SQLite's transactions share commits (write-groups.ts). PostgreSQL and MySQL commit each on
 * its own connection, in parallel.
 */
const writeGroupsOf = oncePer((database: CofferDatabase) =>
  createWriteGroups(database.db, (alone) => runAlone(database, alone)),
);

async function runAlone<T>(database: CofferDatabase, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= 5 || !isRetryableTransactionError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
}
