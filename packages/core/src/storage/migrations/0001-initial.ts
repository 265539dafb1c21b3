import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';
import { dialectFeatures } from '../dialect.js';

/**
 * The initial schema: identity, secrets metadata, versions, shares, audit, keyring checks and
 * the `sql` backend's value table. Strings that are compared or sorted (names) use a binary
 * collation on every dialect, so "Prod" and "prod" are different names everywhere and lists
 * sort the same way on SQLite, PostgreSQL and MySQL.
 */
export function initialMigration(dialect: DialectName) {
  const blob = sql.raw(dialectFeatures[dialect].blobType);
  const ts = 'varchar(32)' as const;
  const uuid = 'char(36)' as const;
  /** A name column with binary collation (SQLite's default is already binary). */
  const nameType = (length: number) =>
    dialect === 'postgres' ? sql.raw(`varchar(${length}) collate "C"`) : sql.raw(`varchar(${length})`);
  const table = <T extends string>(db: Kysely<unknown>, name: T) => {
    const builder = db.schema.createTable(name);
    return (dialect === 'mysql'
      ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`)
      : builder) as unknown as CreateTableBuilder<T, never>;
  };
  const text = dialect === 'mysql' ? sql.raw('mediumtext') : sql.raw('text');

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await table(db, 'users')
        .addColumn('id', uuid, (c) => c.primaryKey())
        .addColumn('username', nameType(64), (c) => c.notNull().unique())
        .addColumn('display_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('email', 'varchar(320)')
        .addColumn('type', 'varchar(32)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('password_hash', 'varchar(255)')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addColumn('last_login_at', ts)
        .execute();

      await table(db, 'groups')
        .addColumn('id', uuid, (c) => c.primaryKey())
        .addColumn('name', nameType(64), (c) => c.notNull().unique())
        .addColumn('description', 'varchar(1000)', (c) => c.notNull())
        .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await table(db, 'group_members')
        .addColumn('group_id', uuid, (c) => c.notNull())
        .addColumn('user_id', uuid, (c) => c.notNull())
        .addColumn('added_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('group_members_user').on('group_members').column('user_id').execute();

      await table(db, 'api_tokens')
        .addColumn('id', uuid, (c) => c.primaryKey())
        .addColumn('user_id', uuid, (c) => c.notNull())
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('token_hash', 'char(64)', (c) => c.notNull().unique())
        .addColumn('prefix', 'varchar(16)', (c) => c.notNull())
        .addColumn('scope', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts)
        .addColumn('revoked_at', ts)
        .addColumn('last_used_at', ts)
        .execute();
      await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();

      await table(db, 'sessions')
        .addColumn('id_hash', 'char(64)', (c) => c.primaryKey())
        .addColumn('user_id', uuid, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts, (c) => c.notNull())
        .addColumn('last_seen_at', ts, (c) => c.notNull())
        .addColumn('address', 'varchar(64)')
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

      await table(db, 'secrets')
        .addColumn('id', uuid, (c) => c.primaryKey())
        .addColumn('owner_id', uuid, (c) => c.notNull())
        .addColumn('name', nameType(128), (c) => c.notNull())
        .addColumn('live_name', nameType(128))
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'varchar(1000)', (c) => c.notNull())
        .addColumn('current_version', 'integer', (c) => c.notNull())
        .addColumn('backend', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addColumn('created_by', uuid, (c) => c.notNull())
        .addColumn('updated_by', uuid, (c) => c.notNull())
        .addColumn('deleted_at', ts)
        .addColumn('purge_after', ts)
        .addUniqueConstraint('secrets_owner_live_name', ['owner_id', 'live_name'])
        .execute();
      await db.schema.createIndex('secrets_name').on('secrets').columns(['name', 'id']).execute();
      await db.schema.createIndex('secrets_kind').on('secrets').columns(['kind', 'name']).execute();
      await db.schema.createIndex('secrets_backend').on('secrets').columns(['backend', 'id']).execute();
      await db.schema.createIndex('secrets_purge').on('secrets').column('purge_after').execute();

      await table(db, 'secret_labels')
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('name', nameType(63), (c) => c.notNull())
        .addColumn('value', nameType(255), (c) => c.notNull())
        .addPrimaryKeyConstraint('secret_labels_pk', ['secret_id', 'name'])
        .execute();
      await db.schema
        .createIndex('secret_labels_name_value')
        .on('secret_labels')
        .columns(['name', 'value'])
        .execute();

      await table(db, 'secret_versions')
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('created_by', uuid, (c) => c.notNull())
        .addColumn('changed_fields', text, (c) => c.notNull())
        .addColumn('rollback_of', 'integer')
        .addPrimaryKeyConstraint('secret_versions_pk', ['secret_id', 'version'])
        .execute();

      await table(db, 'value_journal')
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('backend', 'varchar(64)', (c) => c.notNull())
        .addColumn('action', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('value_journal_pk', ['secret_id', 'version', 'backend'])
        .execute();
      await db.schema.createIndex('value_journal_created').on('value_journal').column('created_at').execute();

      await table(db, 'shares')
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('grantee_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('grantee_id', uuid, (c) => c.notNull())
        .addColumn('level', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('created_by', uuid, (c) => c.notNull())
        .addPrimaryKeyConstraint('shares_pk', ['secret_id', 'grantee_type', 'grantee_id'])
        .execute();
      await db.schema
        .createIndex('shares_grantee')
        .on('shares')
        .columns(['grantee_type', 'grantee_id'])
        .execute();

      await table(db, 'audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', ts, (c) => c.notNull())
        .addColumn('actor_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('actor_id', 'varchar(64)')
        .addColumn('actor_name', 'varchar(200)')
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('target_type', 'varchar(32)')
        .addColumn('target_id', 'varchar(64)')
        .addColumn('target_name', 'varchar(200)')
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('source', 'varchar(16)', (c) => c.notNull())
        .addColumn('address', 'varchar(64)')
        .addColumn('purpose', 'varchar(200)')
        .addColumn('details', text, (c) => c.notNull())
        .addColumn('prev_hash', 'char(64)', (c) => c.notNull())
        .addColumn('hash', 'char(64)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_at').on('audit_log').column('at').execute();
      await db.schema.createIndex('audit_actor').on('audit_log').columns(['actor_id', 'seq']).execute();
      await db.schema.createIndex('audit_target').on('audit_log').columns(['target_id', 'seq']).execute();
      await db.schema.createIndex('audit_action').on('audit_log').columns(['action', 'seq']).execute();

      await table(db, 'audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'char(64)', (c) => c.notNull())
        .execute();

      await table(db, 'keyring_keys')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('check_blob', blob, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await table(db, 'secret_values')
        .addColumn('store', 'varchar(64)', (c) => c.notNull())
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('kek_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('blob', blob, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('secret_values_pk', ['store', 'secret_id', 'version'])
        .execute();
      await db.schema
        .createIndex('secret_values_kek')
        .on('secret_values')
        .columns(['store', 'kek_id'])
        .execute();
    },
  };
}
