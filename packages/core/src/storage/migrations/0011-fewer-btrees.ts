import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';
import { rebuildSqliteTable } from './sqlite-rebuild.js';

/**
 * Fewer B-trees for every write to touch (docs/performance.md, "Fewer B-trees per write").
 *
 * - `secrets_purge` and `secrets_due` become partial indexes of the rows that have a date
 *   (SQLite and PostgreSQL): a live secret has no `purge_after` and most have no `due_at`, so
 *   their inserts and updates no longer add a NULL entry to each. Every query on them already
 *   asks for `IS NOT NULL` or a range, which is what lets the planner use a partial index.
 * - On SQLite, three tables are rebuilt so that their primary key is the table itself:
 *   `audit_log` and `events` (`seq bigint primary key` is not SQLite's rowid, so each carried a
 *   separate unique index on `seq`; `integer primary key` makes `seq` the rowid), and
 *   `secret_versions` (a composite key: `without rowid` stores its small rows in the key's
 *   B-tree instead of a rowid table plus a key index). A reveal's audit record then writes five
 *   B-trees instead of six, a create 18 instead of 23 (a secret without a purge or due date;
 *   the audit head not counted).
 *   `secret_values` stays a rowid table: sealed values reach tens of KiB, and in a `without
 *   rowid` table a large row is copied into the tree's inner pages and read through them (a
 *   value of 2 KB read 2x slower, of 16 KB 2.4x, measured here), which would cost every reveal
 *   of a large secret more than the index saves.
 *   The rebuild copies each table once, inside one transaction, at the first start after the
 *   upgrade: about 2 s for 100,000 secrets with their audit records here.
 *
 * MySQL and MariaDB keep their schema: InnoDB already stores every table in its primary key,
 * and has no partial indexes.
 */
export function fewerBtreesMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'mysql') return;
      if (dialect === 'postgres') {
        await partialDateIndexes(db);
        return;
      }
      // SQLite: Kysely runs its migrations outside a transaction there; a rebuild must never
      // be left half done.
      await db.transaction().execute(async (trx) => {
        await partialDateIndexes(trx);
        const seqAsRowid = (ddl: string) =>
          ddl.replace('"seq" bigint primary key', '"seq" integer primary key');
        const withoutRowid = (ddl: string) => `${ddl} without rowid`;
        await rebuildSqliteTable(trx, 'audit_log', seqAsRowid);
        await rebuildSqliteTable(trx, 'events', seqAsRowid);
        await rebuildSqliteTable(trx, 'secret_versions', withoutRowid);
      });
    },
  };
}

async function partialDateIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('secrets_purge').execute();
  await db.schema
    .createIndex('secrets_purge')
    .on('secrets')
    .column('purge_after')
    .where(sql.ref('purge_after'), 'is not', null)
    .execute();
  await db.schema.dropIndex('secrets_due').execute();
  await db.schema
    .createIndex('secrets_due')
    .on('secrets')
    .columns(['due_at', 'id'])
    .where(sql.ref('due_at'), 'is not', null)
    .execute();
}
