import type { Kysely } from 'kysely';
import type { CofferDatabase } from '../storage/database.js';
import type { CofferTables } from '../storage/schema.js';

/** What a driver throws when the connection drops while the database commits. */
export const connectionLost = () =>
  Object.assign(new Error('Connection lost while committing'), { code: 'ECONNRESET' });

export interface FlakyCommits {
  /** The database to hand to the code under test. */
  database: CofferDatabase;
  /** Makes the next commit report a lost connection. */
  arm(): void;
  /** Whether the armed failure is still to come. */
  armed(): boolean;
  /** Settles once the transaction whose failure was reported has ended (committed, or rolled back with `lost`). */
  landed: Promise<void>;
}

export interface FlakyCommitOptions {
  /** The commit is carried out this long after its failure was reported. */
  lateMs?: number;
  /** With `lateMs`: the transaction rolls back after that time instead (the failure was real). */
  lost?: boolean;
  /** With `lateMs`: the first transaction begun after the failure was reported fails too (the database out of reach). */
  refuseNextTransaction?: boolean;
}

/**
 * The database, except that its next commit after `arm()` is reported as a lost connection
 * although the database carries it out: at once, before the failure is reported (`lateMs`
 * unset), or `lateMs` after it, as a PostgreSQL or MySQL server does with a COMMIT it got from
 * a client that gave up waiting for the answer (or, with `lost`, rolls it back then). Both ways
 * of committing are covered: `transaction().execute()` (PostgreSQL, MySQL) and the controlled
 * transactions of SQLite's group commit; a late outcome only exists on the first (SQLite
 * commits synchronously in this process).
 */
export function flakyCommits(database: CofferDatabase, options: FlakyCommitOptions = {}): FlakyCommits {
  const { lateMs, lost = false } = options;
  let refuseNext = false;
  let failNext = false;
  let markLanded: () => void = () => {};
  const landed = new Promise<void>((resolve) => {
    markLanded = resolve;
  });
  const take = () => {
    if (!failNext) return false;
    failNext = false;
    return true;
  };
  const real = database.db;
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === 'transaction') {
        if (refuseNext) {
          refuseNext = false;
          return () => ({ execute: () => Promise.reject(connectionLost()) });
        }
        return () => ({
          execute: <T>(fn: (tx: never) => Promise<T>) =>
            new Promise<T>((resolve, reject) => {
              let reported = false;
              target
                .transaction()
                .execute(async (tx) => {
                  const result = await fn(tx as never);
                  if (lateMs !== undefined && take()) {
                    reported = true;
                    refuseNext = options.refuseNextTransaction === true;
                    reject(connectionLost());
                    await new Promise((r) => setTimeout(r, lateMs));
                    if (lost) throw connectionLost();
                  }
                  return result;
                })
                .then(
                  (result) => {
                    if (reported) return markLanded();
                    if (take()) {
                      markLanded();
                      reject(connectionLost());
                    } else {
                      resolve(result);
                    }
                  },
                  (err) => {
                    if (reported) markLanded();
                    else reject(err);
                  },
                );
            }),
        });
      }
      if (prop === 'startTransaction') {
        if (lateMs !== undefined)
          throw new Error('SQLite has no late commits: its commit runs in this process');
        return () => ({
          execute: async () => {
            const trx = await target.startTransaction().execute();
            return new Proxy(trx, {
              get(t, p) {
                if (p === 'commit') {
                  return () => ({
                    execute: async () => {
                      await t.commit().execute();
                      if (take()) {
                        markLanded();
                        throw connectionLost();
                      }
                    },
                  });
                }
                const value = Reflect.get(t, p, t);
                return typeof value === 'function' ? value.bind(t) : value;
              },
            });
          },
        });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Kysely<CofferTables>;
  return {
    database: { ...database, db },
    arm() {
      failNext = true;
    },
    armed: () => failNext,
    landed,
  };
}
