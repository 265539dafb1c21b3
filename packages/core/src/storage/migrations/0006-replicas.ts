import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * What several servers on one database share beyond the data itself:
 * - `events`: the change events (never values), written in the transaction of the change with
 *   the sequence number of its audit record. The audit head lock orders those transactions, so
 *   every replica can tail the table by `seq` without ever skipping a row that commits late.
 *   `events_horizon` remembers how far retention has pruned it.
 * - `login_throttle`: failed logins and attempts in flight per username and per address, so
 *   guesses spread over replicas still meet one limit.
 * - `job_leases`: which replica runs a background job (purge, reconciler, key re-wrap), until
 *   when, and the job's progress for every replica to show.
 */
export function replicasMigration(dialect: DialectName) {
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
      await table(db, 'events')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', ts, (c) => c.notNull())
        .addColumn('type', 'varchar(40)', (c) => c.notNull())
        .addColumn('secret_id', uuid)
        .addColumn('name', 'varchar(255)')
        .addColumn('kind', 'varchar(100)')
        .addColumn('version', 'integer')
        .addColumn('owner_id', uuid)
        .addColumn('actor_id', 'varchar(64)')
        /** For identity events: the user, group or token that changed. */
        .addColumn('subject', 'varchar(64)')
        .execute();
      await db.schema.createIndex('events_at').on('events').column('at').execute();
      // One row: the newest `seq` that retention has dropped, so a subscriber resuming from
      // before it learns that it missed events instead of silently skipping them.
      await table(db, 'events_horizon')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('pruned_through', 'bigint', (c) => c.notNull())
        .execute();

      await table(db, 'login_throttle')
        .addColumn('key', 'varchar(140)', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure_ms', 'bigint', (c) => c.notNull())
        .addColumn('locked_until_ms', 'bigint', (c) => c.notNull())
        .addColumn('in_flight', 'integer', (c) => c.notNull())
        .addColumn('in_flight_since_ms', 'bigint', (c) => c.notNull())
        .execute();

      await table(db, 'job_leases')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('owner', 'varchar(64)')
        .addColumn('expires_ms', 'bigint', (c) => c.notNull())
        .addColumn('started_at', ts)
        .addColumn('updated_at', ts)
        .addColumn('progress', 'varchar(2000)')
        .execute();
    },
  };
}
