import type { CofferDatabase } from '../storage/database.js';
import type { MigrationRunRow } from '../storage/schema.js';

/** SQL of the migration tables: runs, failures and kept copies. */

export async function latestRun(database: CofferDatabase): Promise<MigrationRunRow | undefined> {
  return database.db
    .selectFrom('migration_runs')
    .selectAll()
    .orderBy('number', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** How many secrets a run to `target` still has to move. */
export async function countPending(
  database: CofferDatabase,
  target: string,
  retryFailed: boolean,
): Promise<number> {
  const { db } = database;
  const row = retryFailed
    ? await db
        .selectFrom('migration_failures')
        .innerJoin('secrets', 'secrets.id', 'migration_failures.secret_id')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('migration_failures.target', '=', target)
        .where('secrets.backend', '!=', target)
        .executeTakeFirstOrThrow()
    : await db
        .selectFrom('secrets')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('backend', '!=', target)
        .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A page of ids of secrets to move, in id order after `after`. */
export async function pendingPage(
  database: CofferDatabase,
  target: string,
  retryFailed: boolean,
  after: string,
  limit: number,
): Promise<string[]> {
  const { db } = database;
  if (retryFailed) {
    const rows = await db
      .selectFrom('migration_failures')
      .select('secret_id')
      .where('target', '=', target)
      .where('secret_id', '>', after)
      .orderBy('secret_id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.secret_id);
  }
  const rows = await db
    .selectFrom('secrets')
    .select('id')
    .where('backend', '!=', target)
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function failuresOf(
  database: CofferDatabase,
  runId: string,
  limit: number,
): Promise<{ secretId: string; name: string; reason: string }[]> {
  const rows = await database.db
    .selectFrom('migration_failures')
    .leftJoin('secrets', 'secrets.id', 'migration_failures.secret_id')
    .select(['migration_failures.secret_id', 'migration_failures.reason', 'secrets.name'])
    .where('migration_failures.run_id', '=', runId)
    .orderBy('migration_failures.secret_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ secretId: r.secret_id, name: r.name ?? '(purged)', reason: r.reason }));
}

/** Records (or replaces) a secret's failure. */
export async function recordFailure(
  database: CofferDatabase,
  failure: { secretId: string; target: string; runId: string; reason: string; at: string },
): Promise<void> {
  const { db } = database;
  await db.deleteFrom('migration_failures').where('secret_id', '=', failure.secretId).execute();
  await db
    .insertInto('migration_failures')
    .values({
      secret_id: failure.secretId,
      target: failure.target,
      run_id: failure.runId,
      reason: failure.reason,
      failed_at: failure.at,
    })
    .execute();
}
