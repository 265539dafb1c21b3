import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../../test-support/databases.js';
import { type CofferDatabase, openDatabase } from '../database.js';
import { migrateToLatest, migrateUpTo } from '../migrator.js';
import type { CofferTables } from '../schema.js';

/**
 * Upgrading a database that holds data: every row of the rebuilt tables comes through
 * unchanged, the storage is what the migration promises, and a rebuild that fails half way
 * leaves the database as it was.
 */
await describeEachDialect('migration 0011: fewer B-trees per write', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  beforeEach(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
    await migrateUpTo(database, '0010-name-lookup');
    await plantRows(database.db);
  });
  afterEach(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('keeps every row of the tables it touches', async () => {
    const before = await snapshot(database.db);
    await migrateToLatest(database);
    expect(await snapshot(database.db)).toEqual(before);
    // Rows written after the upgrade land as before, in seq order.
    await database.db
      .insertInto('events')
      .values({ ...eventRow(4), secret_id: null })
      .execute();
    const seqs = await database.db.selectFrom('events').select('seq').orderBy('seq').execute();
    expect(seqs.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4]);
  });

  it('uses the date indexes for the purge and reminder queries', async () => {
    await migrateToLatest(database);
    if (dialect === 'mysql') return;
    const definitions =
      dialect === 'sqlite'
        ? await sql<{
            name: string;
            sql: string;
          }>`select name, sql from sqlite_master where name in ('secrets_purge', 'secrets_due')`.execute(
            database.db,
          )
        : await sql<{
            name: string;
            sql: string;
          }>`select indexname as name, indexdef as sql from pg_indexes where indexname in ('secrets_purge', 'secrets_due')`.execute(
            database.db,
          );
    expect(definitions.rows).toHaveLength(2);
    for (const d of definitions.rows) expect(d.sql.toLowerCase()).toMatch(/where .*is not null/);
    if (dialect !== 'sqlite') return;
    const plan = async (query: string) =>
      (await sql<{ detail: string }>`explain query plan ${sql.raw(query)}`.execute(database.db)).rows
        .map((r) => r.detail)
        .join('; ');
    expect(
      await plan("select id from secrets where purge_after is not null and purge_after <= '2027-01-01'"),
    ).toContain('secrets_purge');
    expect(
      await plan(
        "select id from secrets where due_at is not null and due_at <= '2027-01-01' order by due_at, id",
      ),
    ).toContain('secrets_due');
  });

  it.runIf(dialect === 'sqlite')('stores audit records, events and versions in one B-tree each', async () => {
    await migrateToLatest(database);
    const tables = await sql<{
      name: string;
      sql: string;
    }>`select name, sql from sqlite_master where type = 'table'`.execute(database.db);
    const ddl = new Map(tables.rows.map((t) => [t.name, t.sql]));
    expect(ddl.get('audit_log')).toContain('"seq" integer primary key');
    expect(ddl.get('events')).toContain('"seq" integer primary key');
    expect(ddl.get('secret_versions')).toMatch(/without rowid$/);
    // Values stay a rowid table: large rows do not belong in a without-rowid tree.
    expect(ddl.get('secret_values')).not.toMatch(/without rowid/);
    expect([...ddl.keys()].filter((name) => name.endsWith('_rebuilt'))).toEqual([]);
    const autoIndexes = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'index' and name like 'sqlite_autoindex_%' and tbl_name in ('audit_log', 'events', 'secret_versions')`.execute(
      database.db,
    );
    expect(autoIndexes.rows).toEqual([]);
    // The indexes the tables had are all there again.
    const indexes = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'index' and tbl_name in ('audit_log', 'events', 'secret_values') order by name`.execute(
      database.db,
    );
    expect(indexes.rows.map((r) => r.name)).toEqual([
      'audit_action',
      'audit_actor',
      'audit_at',
      'audit_target',
      'events_at',
      'secret_values_kek',
      'sqlite_autoindex_secret_values_1',
    ]);
  });

  it.runIf(dialect === 'sqlite')('leaves the database as it was when a rebuild fails half way', async () => {
    const before = await snapshot(database.db);
    const ddlBefore = await sql<{
      name: string;
      sql: string | null;
    }>`select name, sql from sqlite_master order by name`.execute(database.db);
    // A table in the way of the second rebuild: the first (audit_log) has run by then.
    await sql`create table events_rebuilt (x integer)`.execute(database.db);
    await expect(migrateToLatest(database)).rejects.toMatchObject({
      message: 'database migration 0011-fewer-btrees failed',
    });
    await sql`drop table events_rebuilt`.execute(database.db);
    const ddlAfter = await sql<{
      name: string;
      sql: string | null;
    }>`select name, sql from sqlite_master order by name`.execute(database.db);
    expect(ddlAfter.rows).toEqual(ddlBefore.rows);
    expect(await snapshot(database.db)).toEqual(before);
    // Once out of the way, the next start migrates.
    await migrateToLatest(database);
    expect(await snapshot(database.db)).toEqual(before);
  });
});

const at = '2026-12-06T10:00:00.000Z';
const owner = '00000000-0000-7000-8000-000000000001';
const secretId = (i: number) => `0193a000-0000-7000-8000-00000000000${i}`;

function eventRow(seq: number) {
  return {
    seq,
    at,
    type: 'secret.updated',
    secret_id: secretId(1),
    name: 'mail',
    kind: 'smtp',
    version: seq,
    owner_id: owner,
    actor_id: owner,
    subject: null,
  };
}

async function plantRows(db: Kysely<CofferTables>) {
  const secret = (i: number, extra: { purge_after?: string; due_at?: string; deleted_at?: string }) => ({
    id: secretId(i),
    owner_id: owner,
    name: `secret-${i}`,
    live_name: extra.deleted_at === undefined ? `secret-${i}` : null,
    kind: 'smtp',
    description: `the ${i}th`,
    current_version: 2,
    revision: 3,
    backend: 'sql',
    created_at: at,
    updated_at: at,
    created_by: owner,
    updated_by: owner,
    deleted_at: extra.deleted_at ?? null,
    purge_after: extra.purge_after ?? null,
    due_at: extra.due_at ?? null,
  });
  await db
    .insertInto('secrets')
    .values([
      secret(1, {}),
      secret(2, { due_at: '2026-12-20T00:00:00.000Z' }),
      secret(3, { deleted_at: at, purge_after: '2027-01-05T00:00:00.000Z' }),
    ])
    .execute();
  for (let i = 1; i <= 3; i++) {
    for (let version = 1; version <= 2; version++) {
      await db
        .insertInto('secret_versions')
        .values({
          secret_id: secretId(i),
          version,
          created_at: at,
          created_by: owner,
          changed_fields: '["password"]',
          rollback_of: null,
        })
        .execute();
      await db
        .insertInto('secret_values')
        .values({
          store: 'sql',
          secret_id: secretId(i),
          version,
          kek_id: 'kek-1',
          blob: Buffer.from(`sealed ${i}.${version} \u0000\u00ff`, 'latin1'),
          created_at: at,
        })
        .execute();
    }
  }
  for (let seq = 1; seq <= 3; seq++) {
    await db
      .insertInto('audit_log')
      .values({
        seq,
        at,
        actor_type: 'user',
        actor_id: owner,
        actor_name: 'ada',
        action: 'secret.reveal',
        target_type: 'secret',
        target_id: secretId(seq),
        target_name: `secret-${seq}`,
        outcome: 'success',
        source: 'api',
        address: '127.0.0.1',
        purpose: null,
        details: '{"fields":["password"]}',
        prev_hash: String(seq - 1).repeat(64),
        hash: String(seq).repeat(64),
      })
      .execute();
    await db.insertInto('events').values(eventRow(seq)).execute();
  }
}

async function snapshot(db: Kysely<CofferTables>) {
  const normalize = (rows: object[]) =>
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [
          k,
          Buffer.isBuffer(v) ? v.toString('hex') : typeof v === 'bigint' || k === 'seq' ? String(v) : v,
        ]),
      ),
    );
  return {
    secrets: normalize(await db.selectFrom('secrets').selectAll().orderBy('id').execute()),
    versions: normalize(
      await db.selectFrom('secret_versions').selectAll().orderBy('secret_id').orderBy('version').execute(),
    ),
    values: normalize(
      await db.selectFrom('secret_values').selectAll().orderBy('secret_id').orderBy('version').execute(),
    ),
    audit: normalize(await db.selectFrom('audit_log').selectAll().orderBy('seq').execute()),
    events: normalize(await db.selectFrom('events').selectAll().orderBy('seq').execute()),
  };
}
