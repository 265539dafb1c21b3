import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, probeDialect, type TestDatabase } from '../test-support/databases.js';
import { type CofferDatabase, openDatabase } from './database.js';
import { migrateToLatest } from './migrator.js';
import { preparedQuery } from './prepared.js';
import type { CofferTables } from './schema.js';

// preparedQuery's statements run as named prepared statements on PostgreSQL, so the server
// parses and plans each once per connection (docs/performance.md, "Prepared statements on
// PostgreSQL"). These tests look at what the server itself holds (pg_prepared_statements) on the
// connection that ran them.

const postgres = await probeDialect('postgres');
const groupId = '0193b9c8-6a1e-7c3d-9f00-000000000001';

/** The statements the server keeps prepared on the connection `on` runs on. */
async function preparedOn(on: Kysely<CofferTables>): Promise<{ name: string; statement: string }[]> {
  const { rows } = await sql<{
    name: string;
    statement: string;
  }>`select name, statement from pg_prepared_statements order by name`.execute(on);
  return rows;
}

describe.skipIf(!postgres.available)(
  `prepared statements on PostgreSQL${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`,
  () => {
    let testDb: TestDatabase;
    let database: CofferDatabase;
    beforeAll(async () => {
      testDb = await createTestDatabase('postgres');
      database = await openDatabase(testDb.url);
      await migrateToLatest(database);
      await database.db
        .insertInto('groups')
        .values({ id: groupId, name: 'ops', description: 'the ops team', builtin: 0, created_at: 'now' })
        .execute();
    });
    afterAll(async () => {
      await database?.close();
      await testDb?.drop();
    });

    const groupById = preparedQuery((id: string) =>
      database.db.selectFrom('groups').select(['id', 'name']).where('id', '=', id),
    );

    it('keeps a preparedQuery statement prepared on its connection, and nothing built ad hoc', async () => {
      await database.db.connection().execute(async (connection) => {
        expect(await preparedOn(connection)).toEqual([]);
        const first = await groupById.execute(connection, groupId);
        const again = await groupById.execute(connection, groupId);
        await connection.selectFrom('groups').select('id').where('name', '=', 'ops').execute();
        expect(first.rows).toEqual([{ id: groupId, name: 'ops' }]);
        expect(again.rows).toEqual(first.rows);
        const kept = await preparedOn(connection);
        expect(kept).toHaveLength(1);
        expect(kept[0]!.name).toMatch(/^coffer_\d+$/);
        expect(kept[0]!.statement).toContain('from "groups" where "id" = $1');
      });
    });

    it('runs a kept statement again after another connection adds a column to its table', async () => {
      const everything = preparedQuery((id: string) =>
        database.db.selectFrom('groups').selectAll().where('id', '=', id),
      );
      await database.db.connection().execute(async (connection) => {
        await groupById.execute(connection, groupId);
        await everything.execute(connection, groupId);
        // A statement whose result is `*` is not kept: its columns would change under it, and
        // PostgreSQL refuses to run it again ("cached plan must not change result type").
        expect((await preparedOn(connection)).map((p) => p.statement)).not.toContainEqual(
          expect.stringContaining('select *'),
        );
        await sql`alter table groups add column added_later varchar(10)`.execute(database.db);
        try {
          expect((await groupById.execute(connection, groupId)).rows).toEqual([{ id: groupId, name: 'ops' }]);
          expect((await everything.execute(connection, groupId)).rows[0]).toHaveProperty('added_later', null);
        } finally {
          await sql`alter table groups drop column added_later`.execute(database.db);
        }
      });
    });

    it('does not keep a statement of many parameters (a large batch)', async () => {
      const ids = [groupId, ...Array.from({ length: 299 }, (_, i) => `g-${i}`)];
      const many = preparedQuery((...wanted: string[]) =>
        database.db.selectFrom('groups').select('id').where('id', 'in', wanted),
      );
      await database.db.connection().execute(async (connection) => {
        expect((await many.execute(connection, ...ids)).rows).toEqual([{ id: groupId }]);
        expect((await preparedOn(connection)).map((p) => p.statement)).not.toContainEqual(
          expect.stringContaining('"id" in ('),
        );
      });
    });

    it('keeps nothing prepared when turned off', async () => {
      const off = await openDatabase(testDb.url, { postgresPreparedStatements: false });
      try {
        const byIdOff = preparedQuery((id: string) =>
          off.db.selectFrom('groups').select(['id', 'name']).where('id', '=', id),
        );
        await off.db.connection().execute(async (connection) => {
          expect((await byIdOff.execute(connection, groupId)).rows).toEqual([{ id: groupId, name: 'ops' }]);
          expect(await preparedOn(connection)).toEqual([]);
        });
      } finally {
        await off.close();
      }
    });
  },
);
