import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Expiry and rotation reminders (docs/reminders.md):
 * - on `secrets`: `expires_at` and `rotate_every_days` (metadata an owner sets), the derived
 *   `rotation_due_at` (last values change + interval) and `due_at`, the earlier of the two, kept
 *   with every write so "what is due within N days" is one indexed range;
 * - `reminders_sent`: one row per mail about a secret, a reason and a period (the due date it is
 *   about). Its primary key is the claim: the replica whose insert succeeds sends the mail, so a
 *   reminder goes out at most once per secret, reason and period across every server. `sent_at`
 *   stays NULL while the mail is on its way; a claim left unsent by a crash expires.
 */
export function remindersMigration(dialect: DialectName) {
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
      // One column per statement: SQLite adds only one at a time.
      await db.schema.alterTable('secrets').addColumn('expires_at', ts).execute();
      await db.schema.alterTable('secrets').addColumn('rotate_every_days', 'integer').execute();
      await db.schema.alterTable('secrets').addColumn('rotation_due_at', ts).execute();
      await db.schema.alterTable('secrets').addColumn('due_at', ts).execute();
      await db.schema.createIndex('secrets_due').on('secrets').columns(['due_at', 'id']).execute();

      await table(db, 'reminders_sent')
        .addColumn('secret_id', uuid, (c) => c.notNull())
        .addColumn('reason', 'varchar(16)', (c) => c.notNull())
        .addColumn('period_key', ts, (c) => c.notNull())
        .addColumn('claimed_at', ts, (c) => c.notNull())
        .addColumn('claimed_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('sent_at', ts)
        .addPrimaryKeyConstraint('reminders_sent_pk', ['secret_id', 'reason', 'period_key'])
        .execute();
    },
  };
}
