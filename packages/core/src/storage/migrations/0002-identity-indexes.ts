import type { Kysely } from 'kysely';

/** Indexes for session expiry sweeps and token listing pages. */
export function identityIndexesMigration() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
      await db.schema
        .createIndex('api_tokens_user_created')
        .on('api_tokens')
        .columns(['user_id', 'created_at', 'id'])
        .execute();
    },
  };
}
