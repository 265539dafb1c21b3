import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Single sign-on with OpenID Connect (docs/sso.md):
 * - `external_identities`: which Coffer user an identity provider's account is, by the
 *   provider's issuer and its stable subject (never by email or a name the provider may let
 *   people change).
 * - `sso_requests`: sign-ins started and not finished yet (ten minutes at most), by a hash of
 *   their `state`. The PKCE verifier and the nonce are derived from a random value that lives
 *   only in the browser's cookie; the row holds a hash of that value, so the table alone can
 *   finish no sign-in.
 * - `sso_handoffs`: one-time codes that hand a finished sign-in to `coffer login --sso`,
 *   redeemable once, within a minute, and only with the PKCE verifier of the CLI that asked.
 */
export function ssoMigration(dialect: DialectName) {
  const ts = 'varchar(32)' as const;
  const uuid = 'char(36)' as const;
  const hash = 'char(64)' as const;
  const table = <T extends string>(db: Kysely<unknown>, name: T) => {
    const builder = db.schema.createTable(name);
    return (dialect === 'mysql'
      ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`)
      : builder) as unknown as CreateTableBuilder<T, never>;
  };

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await table(db, 'external_identities')
        .addColumn('issuer', 'varchar(255)', (c) => c.notNull())
        .addColumn('subject', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', uuid, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('last_login_at', ts)
        .addPrimaryKeyConstraint('external_identities_pk', ['issuer', 'subject'])
        .execute();
      await db.schema
        .createIndex('external_identities_user')
        .on('external_identities')
        .column('user_id')
        .execute();

      await table(db, 'sso_requests')
        .addColumn('state_hash', hash, (c) => c.primaryKey())
        .addColumn('binding_hash', hash, (c) => c.notNull())
        .addColumn('return_to', 'varchar(2048)', (c) => c.notNull())
        .addColumn('cli_challenge', 'varchar(64)')
        .addColumn('cli_state', 'varchar(256)')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sso_requests_expires').on('sso_requests').column('expires_at').execute();

      await table(db, 'sso_handoffs')
        .addColumn('code_hash', hash, (c) => c.primaryKey())
        .addColumn('user_id', uuid, (c) => c.notNull())
        .addColumn('challenge', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sso_handoffs_expires').on('sso_handoffs').column('expires_at').execute();
    },
  };
}
