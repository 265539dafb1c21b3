import { CompiledQuery, type Kysely } from 'kysely';
import type { CofferTables } from './schema.js';
import { isRetryableTransactionError } from './sql-errors.js';
import type { Tx } from './transaction.js';

/** Transactions that may share one commit at most. */
const maxGroup = 64;

interface Member {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Each member's savepoint statements, compiled once: Kysely's savepoint API builds and compiles
 * them (and a new transaction object) anew for every write. The SQL is the same as Kysely's.
 */
const savepoints = Array.from({ length: maxGroup }, (_, i) => ({
  open: CompiledQuery.raw(`savepoint "coffer_w${i}"`),
  release: CompiledQuery.raw(`release "coffer_w${i}"`),
  rollback: CompiledQuery.raw(`rollback to "coffer_w${i}"`),
}));

/** Groups that run with savepoints straight away after a group had a member fail. */
const guardedAfterFailure = 8;

/** What a member's function did inside the group. */
type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/**
 * Group commit of transactions on SQLite, where one connection runs every statement and a
 * commit (writing each changed page to the write-ahead log, now and then checkpointing it) costs
 * more than the statements of a typical write. Transactions asked for in the same turn of the
 * event loop, and those asked for while a group is being written, run one after the other in one
 * transaction:
 * - first without savepoints, since nearly every group succeeds whole and a savepoint makes
 *   SQLite copy each page a member changes into its statement journal (~15% of an import's CPU);
 * - when a member throws, that transaction is rolled back whole and the group runs again with
 *   each member inside a savepoint of its own, as do the next few groups (failures come in runs,
 *   e.g. racing updates of one secret): the member that throws is rolled back to its savepoint
 *   and its caller gets its error, the others are not affected;
 * - every caller is answered only after the commit that holds its writes, so nothing is
 *   acknowledged before it is as durable as a transaction of its own would be;
 * - when the group as a whole fails (its commit, or a savepoint statement), or a member fails
 *   with a retryable error (busy), those members run again alone (`runAlone`, which retries),
 *   which is safe because transaction functions may run more than once (see inTransaction).
 * A lone transaction runs as it always did, without savepoints.
 */
export function createWriteGroups(
  db: Kysely<CofferTables>,
  runAlone: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
) {
  const pending: Member[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    try {
      while (pending.length > 0) {
        const group = pending.splice(0, maxGroup);
        if (group.length === 1) {
          const [only] = group as [Member];
          await runAlone(only.fn).then(only.resolve, only.reject);
        } else {
          await runGroup(group);
        }
      }
    } finally {
      flushing = false;
    }
  }

  /** Groups left to run with savepoints from the start, after a member failed. */
  let guarded = 0;

  async function runGroup(group: readonly Member[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await outcomesOf(group);
    } catch {
      // Nothing of the group committed: each member alone, with the usual retries.
      await Promise.all(group.map((m) => runAlone(m.fn).then(m.resolve, m.reject)));
      return;
    }
    await Promise.all(
      group.map((m, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) {
          m.resolve(outcome.value);
          return undefined;
        }
        if (isRetryableTransactionError(outcome.err)) return runAlone(m.fn).then(m.resolve, m.reject);
        m.reject(outcome.err);
        return undefined;
      }),
    );
  }

  /** The group run and committed, without savepoints while groups keep succeeding whole. */
  async function outcomesOf(group: readonly Member[]): Promise<Outcome[]> {
    if (guarded > 0) {
      guarded--;
      return eachInSavepoint(group);
    }
    const whole = await allOrNothing(group);
    if (whole !== undefined) return whole;
    guarded = guardedAfterFailure;
    return eachInSavepoint(group);
  }

  /**
   * Every member in one transaction without savepoints: their outcomes, or undefined when one
   * of them threw, in which case nothing of the group was written.
   */
  async function allOrNothing(group: readonly Member[]): Promise<Outcome[] | undefined> {
    const trx = await db.startTransaction().execute();
    const outcomes: Outcome[] = [];
    try {
      for (const member of group) outcomes.push({ ok: true, value: await member.fn(trx) });
    } catch {
      await trx.rollback().execute();
      return undefined;
    }
    try {
      await trx.commit().execute();
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => {});
      throw err;
    }
    return outcomes;
  }

  async function eachInSavepoint(group: readonly Member[]): Promise<Outcome[]> {
    const trx = await db.startTransaction().execute();
    try {
      const outcomes: Outcome[] = [];
      for (const [i, member] of group.entries()) {
        const savepoint = savepoints[i]!;
        await trx.executeQuery(savepoint.open);
        try {
          const value = await member.fn(trx);
          await trx.executeQuery(savepoint.release);
          outcomes.push({ ok: true, value });
        } catch (err) {
          await trx.executeQuery(savepoint.rollback);
          await trx.executeQuery(savepoint.release);
          outcomes.push({ ok: false, err });
        }
      }
      await trx.commit().execute();
      return outcomes;
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => {});
      throw err;
    }
  }

  return {
    run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        if (!flushing) {
          flushing = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}
