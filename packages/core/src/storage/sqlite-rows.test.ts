import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { type CofferDatabase, openDatabase } from './database.js';

// On SQLite a reading statement that names its columns returns arrays that the statement cache
// makes into objects (database.ts, `rowsAsArrays`). Rows must come out exactly as better-sqlite3
// itself would make them, and a `select *`, whose columns can change under a cached statement,
// must keep better-sqlite3's own objects.

const dir = mkdtempSync(join(tmpdir(), 'coffer-sqlite-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let file: string;
let database: CofferDatabase;
let db: Kysely<Record<string, Record<string, unknown>>>;
beforeEach(async () => {
  file = join(dir, `r-${Math.random()}.db`);
  database = await openDatabase(`sqlite:${file}`);
  db = database.db as unknown as typeof db;
  await sql`create table t (id integer primary key, name text, blob blob, n real, absent text)`.execute(db);
  await sql`insert into t values (1, 'ada', x'00ff', 1.5, null), (2, 'grace', x'', -2, null)`.execute(db);
});
afterEach(async () => {
  await database.close();
});

/** What better-sqlite3 answers for `query` on its own connection, as objects. */
function direct(query: string): unknown[] {
  const own = new Database(file, { readonly: true });
  try {
    return own.prepare(query).all();
  } finally {
    own.close();
  }
}

it('returns named columns as better-sqlite3 would, every type and NULL included, run after run', async () => {
  const query = 'select id, name, blob, n, absent from t order by id';
  for (let run = 0; run < 3; run++) {
    const { rows } = await sql.raw(query).execute(db);
    expect(rows).toEqual(direct(query));
  }
  expect(direct(query)[0]).toEqual({
    id: 1,
    name: 'ada',
    blob: Buffer.from([0, 255]),
    n: 1.5,
    absent: null,
  });
});

it('names a column by its alias, and keeps the last of two columns of one name, as better-sqlite3 does', async () => {
  const query = 'select id as key, name as x, n as x from t order by id';
  const { rows } = await sql.raw(query).execute(db);
  expect(rows).toEqual(direct(query));
  expect(rows[0]).toEqual({ key: 1, x: 1.5 });
});

it('answers a query with no rows, and streams rows one at a time', async () => {
  expect((await db.selectFrom('t').select(['id', 'name']).where('id', '=', 99).execute()).length).toBe(0);
  const streamed = [];
  for await (const row of db.selectFrom('t').select(['id', 'name']).orderBy('id').stream())
    streamed.push(row);
  expect(streamed).toEqual([
    { id: 1, name: 'ada' },
    { id: 2, name: 'grace' },
  ]);
});

it('asks better-sqlite3 for arrays for a statement that names its columns, and only for such', async () => {
  const scratch = new Database(':memory:');
  const statementPrototype = Object.getPrototypeOf(scratch.prepare('select 1'));
  scratch.close();
  const original = statementPrototype.raw;
  const rawSources: string[] = [];
  statementPrototype.raw = function (this: { source: string }, ...args: unknown[]) {
    if (args[0] !== false) rawSources.push(this.source);
    return original.apply(this, args);
  };
  try {
    await db.selectFrom('t').select(['id', 'name']).where('id', '>', 0).execute();
    await db.selectFrom('t').selectAll().where('id', '>', 0).execute();
    await db
      .selectFrom('t')
      .select((eb) => eb.fn.countAll().as('n'))
      .execute();
  } finally {
    statementPrototype.raw = original;
  }
  expect(rawSources).toEqual(['select "id", "name" from "t" where "id" > ?']);
});

it('gives a cached `select *` the columns a later change of the table added', async () => {
  const all = () => db.selectFrom('t').selectAll().where('id', '=', 1).execute();
  const named = () => db.selectFrom('t').select(['id', 'name']).where('id', '=', 1).execute();
  await all();
  await named();
  await sql`alter table t add column added text default 'new'`.execute(db);
  expect(await all()).toEqual([
    { id: 1, name: 'ada', blob: Buffer.from([0, 255]), n: 1.5, absent: null, added: 'new' },
  ]);
  expect(await named()).toEqual([{ id: 1, name: 'ada' }]);
});
