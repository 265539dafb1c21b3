import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CofferDatabase, openDatabase } from './database.js';
import { inTransaction } from './transaction.js';

// Group commit on SQLite (write-groups.ts): transactions asked for together share a commit,
// yet each one's outcome is its own. The statement counts are in statement-count.test.ts.

let dir: string;
let database: CofferDatabase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coffer-groups-'));
  database = await openDatabase(`sqlite:${join(dir, 'groups.db')}`);
  await sql`create table t (k text primary key, v text not null)`.execute(database.db);
});

afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (k: string, v = 'x') =>
  inTransaction(database, async (tx) => {
    await tx
      .insertInto('t' as never)
      .values({ k, v } as never)
      .execute();
    return k;
  });

const keys = async () =>
  (await sql<{ k: string }>`select k from t order by k`.execute(database.db)).rows.map((r) => r.k);

it('rolls back only the transaction that failed and gives its caller its own error', async () => {
  const outcomes = await Promise.allSettled([
    insert('a1'),
    inTransaction(database, async (tx) => {
      await tx
        .insertInto('t' as never)
        .values({ k: 'a2', v: 'x' } as never)
        .execute();
      throw new Error('changed my mind');
    }),
    insert('a3'),
    insert('a1'), // a duplicate key: this one fails, the first a1 stays
    insert('a4'),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual([
    'fulfilled',
    'rejected',
    'fulfilled',
    'rejected',
    'fulfilled',
  ]);
  expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('changed my mind');
  expect(String((outcomes[3] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
  expect(await keys()).toEqual(['a1', 'a3', 'a4']);
});

it('answers each caller only once its writes are committed', async () => {
  const seen: string[][] = [];
  await Promise.all(
    ['b1', 'b2', 'b3'].map(async (k) => {
      await insert(k);
      // A second connection sees only what was committed.
      const other = await openDatabase(`sqlite:${join(dir, 'groups.db')}`);
      try {
        seen.push(
          (await sql<{ k: string }>`select k from t where k = ${k}`.execute(other.db)).rows.map((r) => r.k),
        );
      } finally {
        await other.close();
      }
    }),
  );
  expect(seen.sort()).toEqual([['b1'], ['b2'], ['b3']]);
});

it('keeps taking transactions while a group is being written, and loses none', async () => {
  const first = Array.from({ length: 100 }, (_, i) => insert(`c${String(i).padStart(3, '0')}`));
  await new Promise((resolve) => setImmediate(resolve));
  const second = Array.from({ length: 100 }, (_, i) => insert(`d${String(i).padStart(3, '0')}`));
  await Promise.all([...first, ...second]);
  const all = await keys();
  expect(all.filter((k) => k.startsWith('c'))).toHaveLength(100);
  expect(all.filter((k) => k.startsWith('d'))).toHaveLength(100);
});

it('keeps no trace of a group that was run again because one of its transactions failed', async () => {
  // A database of its own: after a failure the next groups start with savepoints, and this
  // test is about the group that first ran without them.
  const fresh = await openDatabase(`sqlite:${join(dir, 'again.db')}`);
  await sql`create table appended (n integer primary key autoincrement, who text not null)`.execute(fresh.db);
  // Rows that a second run would add again rather than collide with: if the group's first
  // run (without savepoints) left anything behind, a member would have two rows.
  const append = (who: string, fail = false) =>
    inTransaction(fresh, async (tx) => {
      await sql`insert into appended (who) values (${who})`.execute(tx);
      await sql`insert into appended (who) values (${`${who}-second`})`.execute(tx);
      if (fail) throw new Error(`${who} failed`);
      return who;
    });
  const outcomes = await Promise.allSettled([
    append('e1'),
    append('e2'),
    append('e3', true),
    append('e4'),
    ...Array.from({ length: 20 }, (_, i) => append(`f${i}`)),
  ]);
  expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
  expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('e3 failed');
  // Later groups, with savepoints or without, lose nothing and repeat nothing either.
  const later = await Promise.all(
    Array.from({ length: 12 }, (_, round) => Promise.all([append(`g${round}a`), append(`g${round}b`)])),
  );
  expect(later.flat()).toHaveLength(24);
  const rows = (await sql<{ who: string }>`select who from appended`.execute(fresh.db)).rows.map(
    (r) => r.who,
  );
  await fresh.close();
  const expected = ['e1', 'e2', 'e4', ...Array.from({ length: 20 }, (_, i) => `f${i}`)];
  for (let round = 0; round < 12; round++) expected.push(`g${round}a`, `g${round}b`);
  expect(rows.sort()).toEqual(expected.flatMap((who) => [who, `${who}-second`]).sort());
});
