import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * An audit query given only a time range pages along (at, seq), newest first
 * (audit/audit-service.ts; docs/performance.md, "Deep pages"). On PostgreSQL `audit_at`
 * becomes that pair, so the page after a cursor is a seek of one index. SQLite's `audit_at`
 * already ends in the rowid, which is `seq`, and InnoDB's secondary indexes end in the
 * primary key, which is `seq`: both keep their schema.
 */
export function auditTimePagesMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'postgres') return;
      await db.schema.createIndex('audit_at_seq').on('audit_log').columns(['at', 'seq']).execute();
      await db.schema.dropIndex('audit_at').execute();
    },
  };
}
