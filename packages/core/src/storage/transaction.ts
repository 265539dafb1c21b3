import type { Transaction } from 'kysely';
import type { CofferDatabase } from './database.js';
import type { CofferTables } from './schema.js';
import { isRetryableTransactionError } from './sql-errors.js';

export type Tx = Transaction<CofferTables>;

/**
 * Runs `fn` in a transaction, retrying a few times when the database reports a lost race
 * (deadlock, serialization failure, busy). `fn` must therefore be safe to run again: it
 * should only touch the database, never external stores.
 *
 * @example
 * await inTransaction(database, async (tx) => { ...; await audit.append(tx, entry); });
 */
export async function inTransaction<T>(database: CofferDatabase, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= 5 || !isRetryableTransactionError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
}
