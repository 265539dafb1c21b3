import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';
import { dialectFeatures } from '../dialect.js';

/**
 * One-time share links (docs/share-links.md): `share_links` holds each link's metadata and its
 * sealed copy of the shared values. The copy is sealed under a key derived from the link's key
 * (and its passphrase), which is never stored: this table alone can never open a copy. `sealed`
 * becomes NULL when the link ends (last view, expiry, revocation), so an ended link holds
 * nothing worth stealing; its row stays for the list and the audit trail.
 */
export function shareLinksMigration(dialect: DialectName) {
  const blob = sql.raw(dialectFeatures[dialect].blobType);
  const ts = 'varchar(32)' as const;
  const uuid = 'char(36)' as const;
  const text = dialect === 'mysql' ? sql.raw('mediumtext') : sql.raw('text');
  const nameType = dialect === 'postgres' ? sql.raw('varchar(128) collate "C"') : sql.raw('varchar(128)');
  const table = <T extends string>(db: Kysely<unknown>, name: T) => {
    const builder = db.schema.createTable(name);
    return (dialect === 'mysql'
      ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`)
      : builder) as unknown as CreateTableBuilder<T, never>;
  };

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await table(db, 'share_links')
        .addColumn('id', uuid, (c) => c.primaryKey())
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('secret_name', nameType, (c) => c.notNull())
        .addColumn('secret_kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_by', uuid, (c) => c.notNull())
        .addColumn('created_by_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('fields', text, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts, (c) => c.notNull())
        .addColumn('max_views', 'integer', (c) => c.notNull())
        .addColumn('views', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('passphrase', 'integer', (c) => c.notNull())
        .addColumn('kdf', 'varchar(200)', (c) => c.notNull())
        .addColumn('key_check', 'char(64)', (c) => c.notNull())
        .addColumn('sealed', blob)
        .addColumn('last_viewed_at', ts)
        .addColumn('revoked_at', ts)
        .addColumn('revoked_by', 'varchar(64)')
        .addColumn('ended_at', ts)
        .addColumn('end_reason', 'varchar(32)')
        .execute();
      await db.schema
        .createIndex('share_links_secret')
        .on('share_links')
        .columns(['secret_id', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('share_links_open_expiry')
        .on('share_links')
        .columns(['ended_at', 'expires_at'])
        .execute();
    },
  };
}
