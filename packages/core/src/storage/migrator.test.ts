import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import { type CofferDatabase, openDatabase } from './database.js';
import { migrateToLatest } from './migrator.js';

await describeEachDialect('schema migrations', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('creates every table and is idempotent when run again', async () => {
    await migrateToLatest(database);
    await migrateToLatest(database);
    const tables = await database.db.introspection.getTables();
    const names = tables.map((t) => t.name);
    for (const t of ['users', 'secrets', 'secret_versions', 'shares', 'audit_log', 'secret_values']) {
      expect(names).toContain(t);
    }
  });

  it('treats names case-sensitively and sorts them bytewise on every dialect', async () => {
    const now = new Date().toISOString();
    const owner = '00000000-0000-4000-8000-000000000001';
    const row = (id: string, name: string) => ({
      id,
      owner_id: owner,
      name,
      live_name: name,
      kind: 'generic',
      description: '',
      current_version: 1,
      backend: 'sql',
      created_at: now,
      updated_at: now,
      created_by: owner,
      updated_by: owner,
      deleted_at: null,
      purge_after: null,
    });
    await database.db
      .insertInto('secrets')
      .values([
        row('00000000-0000-4000-8000-00000000000a', 'prod'),
        row('00000000-0000-4000-8000-00000000000b', 'Prod'),
        row('00000000-0000-4000-8000-00000000000c', 'a-b'),
        row('00000000-0000-4000-8000-00000000000d', 'a_b'),
      ])
      .execute();
    const names = await database.db.selectFrom('secrets').select('name').orderBy('name').execute();
    expect(names.map((n) => n.name)).toEqual(['Prod', 'a-b', 'a_b', 'prod']);
  });
});
