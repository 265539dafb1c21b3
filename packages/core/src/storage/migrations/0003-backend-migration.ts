import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Moving values between backends, and which deployment this database belongs to:
 * - `deployment`: one row with this deployment's id, which backends with labels put on values;
 * - `migration_runs`: one row per migration run (target, counters, lease of the process running it);
 * - `migration_failures`: the secrets whose move failed, with the reason (never a value);
 * - `migration_kept_values`: source copies kept by a `keepSource` migration, so they are known
 *   (not orphans) and are cleaned up when the secret moves back or the copies are dropped.
 */
export function backendMigrationMigration(dialect: DialectName) {
  const ts = 'varchar(32)' as const;
  const uuid = 'char(36)' as const;
  const table = <T extends string>(db: Kysely<unknown>, name: T) => {
    const builder = db.schema.createTable(name);
    return (dialect === 'mysql'
      ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`)
      : builder) as unknown as CreateTableBuilder<T, never>;
  };

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await table(db, 'deployment')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('deployment_id', uuid, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await table(db, 'migration_runs')
        .addColumn('id', uuid, (c) => c.primaryKey())
        .addColumn('number', 'integer', (c) => c.notNull().unique())
        .addColumn('target', 'varchar(64)', (c) => c.notNull())
        .addColumn('keep_source', 'integer', (c) => c.notNull())
        .addColumn('retry_failed', 'integer', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('done', 'integer', (c) => c.notNull())
        .addColumn('failed', 'integer', (c) => c.notNull())
        .addColumn('started_at', ts, (c) => c.notNull())
        .addColumn('finished_at', ts)
        .addColumn('started_by', 'varchar(200)', (c) => c.notNull())
        .addColumn('owner', 'varchar(64)')
        .addColumn('heartbeat_at', ts)
        .execute();

      await table(db, 'migration_failures')
        .addColumn('secret_id', uuid, (c) => c.primaryKey())
        .addColumn('target', 'varchar(64)', (c) => c.notNull())
        .addColumn('run_id', uuid, (c) => c.notNull())
        .addColumn('reason', 'varchar(1000)', (c) => c.notNull())
        .addColumn('failed_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('migration_failures_run')
        .on('migration_failures')
        .columns(['run_id', 'secret_id'])
        .execute();

      await table(db, 'migration_kept_values')
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('backend', 'varchar(64)', (c) => c.notNull())
        .addColumn('run_id', uuid, (c) => c.notNull())
        .addColumn('kept_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('migration_kept_values_pk', ['secret_id', 'backend', 'version'])
        .execute();
      await db.schema
        .createIndex('migration_kept_values_backend')
        .on('migration_kept_values')
        .columns(['backend', 'secret_id'])
        .execute();
    },
  };
}
