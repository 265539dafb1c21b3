import type { Kysely } from 'kysely';

/**
 * `migration_runs.rate_per_second`: the running server writes its rate with each heartbeat, so
 * every server sharing the database shows the rate and the time left, not only the one moving.
 */
export function runRateMigration() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('migration_runs').addColumn('rate_per_second', 'double precision').execute();
    },
  };
}
