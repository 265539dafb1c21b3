import type { Kysely } from 'kysely';

/**
 * An index on `secrets.live_name`. Every reference by name (`GET /secrets/mail/values`,
 * `coffer run` resolving `coffer://mail/password`) and every create (is the name free?) looks
 * a live secret up by that column alone; the only index holding it starts with `owner_id`, so
 * each of those was a scan of the whole table (130 us at 3,000 secrets, growing with every one).
 */
export function nameLookupMigration() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('secrets_live_name').on('secrets').column('live_name').execute();
    },
  };
}
