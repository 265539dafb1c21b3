import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../../test-support/databases.js';
import { secretRow } from '../../test-support/secret-rows.js';
import { type CofferDatabase, openDatabase } from '../database.js';
import { migrateToLatest, migrateUpTo } from '../migrator.js';
import type { CofferTables } from '../schema.js';
import { isUniqueViolation } from '../sql-errors.js';

/**
 * Upgrading a database that holds secrets: every row comes through unchanged, a live name is
 * still unique per owner (and only per owner), lookups by name alone use the unique index and
 * lookups by owner an index of their own, the indexes replaced are gone, and on SQLite a rebuild
 * that fails half way leaves the database as it was.
 */
await describeEachDialect('migration 0013: the name first in the unique index', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  beforeEach(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
    await migrateUpTo(database, '0012-audit-time-pages');
    await database.db
      .insertInto('secrets')
      .values([
        secret(1, ada, 'mail'),
        secret(2, grace, 'mail'),
        secret(3, ada, 'mail', { deleted: true }),
        secret(4, ada, 'jira', { due: true }),
      ])
      .execute();
  });
  afterEach(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('keeps every secret', async () => {
    const before = await secrets(database.db);
    await migrateToLatest(database);
    expect(await secrets(database.db)).toEqual(before);
  });

  it('still refuses a second live secret of one name for one owner, and only that', async () => {
    await migrateToLatest(database);
    const insert = (row: ReturnType<typeof secret>) =>
      database.db.insertInto('secrets').values(row).execute();
    const refused = await insert(secret(5, ada, 'mail')).then(
      () => 'inserted',
      (err: unknown) => (isUniqueViolation(err) ? 'unique violation' : err),
    );
    expect(refused).toBe('unique violation');
    // Another owner's secret of that name, and deleted secrets of it, are not in the way.
    await insert(secret(6, carol, 'mail'));
    await insert(secret(7, ada, 'mail', { deleted: true }));
    const named = await database.db
      .selectFrom('secrets')
      .select('id')
      .where('name', '=', 'mail')
      .orderBy('id')
      .execute();
    expect(named.map((r) => r.id)).toEqual([1, 2, 3, 6, 7].map(id));
  });

  it("finds a secret by its name alone through the unique index, and an owner's through an index of owners", async () => {
    await migrateToLatest(database);
    expect(await secretIndexes(database, dialect)).toEqual(
      expect.arrayContaining(['secrets_live_name_owner', 'secrets_owner', 'secrets_name', 'secrets_kind']),
    );
    const names = await secretIndexes(database, dialect);
    expect(names).not.toContain('secrets_live_name');
    expect(names).not.toContain('secrets_owner_live_name');
    const byName = await planOf(database, dialect, "live_name = 'mail'");
    expect(byName).toMatch(dialect === 'sqlite' ? /\(live_name, owner_id\)$/ : /secrets_live_name_owner/);
    // What a member may list starts from the secrets it owns: found through an index too.
    expect(await planOf(database, dialect, `owner_id = '${ada}'`)).toContain('secrets_owner');
    const found = await database.db
      .selectFrom('secrets')
      .select('id')
      .where('live_name', '=', 'mail')
      .orderBy('id')
      .execute();
    expect(found.map((r) => r.id)).toEqual([id(1), id(2)]);
  });

  it.runIf(dialect === 'sqlite')(
    'leaves the database as it was when the rebuild fails half way',
    async () => {
      const before = await secrets(database.db);
      const ddl = () =>
        sql<{ name: string; sql: string | null }>`select name, sql from sqlite_master order by name`.execute(
          database.db,
        );
      const ddlBefore = (await ddl()).rows;
      // A table in the way of the rebuild: the index has been dropped by the time it fails.
      await sql`create table secrets_rebuilt (x integer)`.execute(database.db);
      await expect(migrateToLatest(database)).rejects.toMatchObject({
        message: 'database migration 0013-name-first-unique failed',
      });
      await sql`drop table secrets_rebuilt`.execute(database.db);
      expect((await ddl()).rows).toEqual(ddlBefore);
      expect(await secrets(database.db)).toEqual(before);
      await migrateToLatest(database);
      expect(await secrets(database.db)).toEqual(before);
    },
  );
});

const at = '2026-12-07T10:00:00.000Z';
const ada = '00000000-0000-7000-8000-00000000000a';
const grace = '00000000-0000-7000-8000-00000000000b';
const carol = '00000000-0000-7000-8000-00000000000c';
const id = (i: number) => `0193a000-0000-7000-8000-00000000000${i}`;

function secret(i: number, owner: string, name: string, extra: { deleted?: boolean; due?: boolean } = {}) {
  return secretRow(id(i), owner, name, at, {
    kind: 'smtp',
    description: `the ${i}th`,
    ...(extra.deleted === true
      ? { live_name: null, deleted_at: at, purge_after: '2027-01-06T00:00:00.000Z' }
      : {}),
    ...(extra.due === true ? { due_at: '2026-12-20T00:00:00.000Z' } : {}),
  });
}

async function secrets(db: Kysely<CofferTables>) {
  return db.selectFrom('secrets').selectAll().orderBy('id').execute();
}

async function secretIndexes(database: CofferDatabase, dialect: string): Promise<string[]> {
  const query =
    dialect === 'sqlite'
      ? sql<{ name: string }>`select name from pragma_index_list('secrets')`
      : dialect === 'postgres'
        ? sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'secrets'`
        : sql<{
            name: string;
          }>`select distinct index_name as name from information_schema.statistics where table_schema = database() and table_name = 'secrets'`;
  const rows = (await query.execute(database.db)).rows;
  // SQLite names a table constraint's index after the table; the DDL keeps the constraint's name.
  if (dialect !== 'sqlite') return rows.map((r) => r.name);
  const ddl = (
    await sql<{
      sql: string;
    }>`select sql from sqlite_master where type = 'table' and name = 'secrets'`.execute(database.db)
  ).rows[0]!.sql;
  const constraint = /constraint "(\w+)" unique \("live_name", "owner_id"\)/.exec(ddl)?.[1];
  return [...rows.map((r) => r.name), ...(constraint === undefined ? [] : [constraint])];
}

/** The plan of a query on `secrets` by `where`, as text naming the index it uses. */
async function planOf(database: CofferDatabase, dialect: string, where: string): Promise<string> {
  const query = sql.raw(`select * from secrets where ${where}`);
  if (dialect === 'sqlite') {
    const plan = await sql<{ detail: string }>`explain query plan ${query}`.execute(database.db);
    const detail = plan.rows.map((r) => r.detail).join('; ');
    // SQLite's plan names a table constraint's index after the table: name it by its columns.
    const index = /USING INDEX (sqlite_autoindex_\w+)/.exec(detail)?.[1];
    if (index === undefined) return detail;
    const columns = await sql<{ name: string }>`select name from pragma_index_info(${index})`.execute(
      database.db,
    );
    return `${detail} (${columns.rows.map((c) => c.name).join(', ')})`;
  }
  if (dialect === 'postgres') {
    // A table of four rows is read whole; ask for the plan an index would give.
    const plan = await database.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      return sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(trx);
    });
    return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  }
  const plan = await sql<{ key: string | null }>`explain ${query}`.execute(database.db);
  return plan.rows.map((r) => r.key ?? '(no index)').join(',');
}
