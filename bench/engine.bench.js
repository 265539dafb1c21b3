// The embedded engine: create, reveal (1 and 32 in flight) and list throughput, each beside
// the raw driver operation it is built on, measured in the same run: better-sqlite3 (WAL, one
// statement per operation) on SQLite, and the `pg` driver (a pool of 10, like the engine's) on
// PostgreSQL. PostgreSQL runs on a fresh database on BENCH_PG_URL (default
// postgres://postgres@127.0.0.1:5432/test), dropped at the end, and analyzed after its creates
// as autovacuum's first pass would; when it cannot be reached its rows are skipped with the
// reason printed. The audited reveal rows print the targets of issue
// #13 (1 in flight >= 20,000/s, 32 in flight >= 50,000/s) and whether this run met them; a
// missed target never fails the benchmark.
//
// BENCH_N (operations per measurement, default 3000) tunes it.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { asUser, createCoffer } from '../packages/core/dist/index.js';
import { analyzePostgres, met, onEachDatabase, printTable, time } from './support.js';

const N = Number(process.env.BENCH_N ?? 3000);
const pages = Math.ceil(N / 100);
const inFlight = 32;
const name = (i) => `secret-${String(i).padStart(6, '0')}`;

/** Runs `fn(i)` for i < n with `limit` calls in flight; returns the rate. */
async function concurrently(n, limit, fn) {
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { n, seconds, opsPerSecond: n / seconds };
}

/** Baseline on SQLite: the same work straight on better-sqlite3. */
function rawSqlite(dir) {
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('create table t (id text primary key, name text not null, blob blob not null)');
  raw.exec('create index t_name on t (name, id)');
  const insert = raw.prepare('insert into t (id, name, blob) values (?, ?, ?)');
  const select = raw.prepare('select blob from t where id = ?');
  const page = raw.prepare('select id, name from t where name > ? order by name, id limit 100');
  const ids = [];
  const create = time(N, (i) => {
    const id = randomUUID();
    ids.push(id);
    insert.run(id, name(i), randomBytes(160));
  });
  const reveal = time(N, (i) => select.get(ids[(i * 7919) % ids.length]));
  const list = time(pages, (i) => page.all(name(i * 100)));
  raw.close();
  // better-sqlite3 is synchronous: 32 callers in flight are served one after another.
  return { create, reveal, revealConcurrent: reveal, list };
}

/** Baseline on PostgreSQL: the same work through a pg pool of 10. */
async function rawPostgres(url) {
  const db = new pg.Pool({ connectionString: url, max: 10 });
  try {
    await db.query(
      'create table raw_t (id char(36) primary key, name varchar(128) collate "C" not null, blob bytea not null)',
    );
    await db.query('create index raw_t_name on raw_t (name, id)');
    const ids = [];
    const create = await time(N, async (i) => {
      const id = randomUUID();
      ids.push(id);
      await db.query({
        name: 'ins',
        text: 'insert into raw_t (id, name, blob) values ($1, $2, $3)',
        values: [id, name(i), randomBytes(160)],
      });
    });
    const select = (i) =>
      db.query({
        name: 'sel',
        text: 'select blob from raw_t where id = $1',
        values: [ids[(i * 7919) % ids.length]],
      });
    await analyzePostgres(url);
    const reveal = await time(N, select);
    const revealConcurrent = await concurrently(N, inFlight, select);
    const list = await time(pages, (i) =>
      db.query({
        name: 'page',
        text: 'select id, name from raw_t where name > $1 order by name, id limit 100',
        values: [name(i * 100)],
      }),
    );
    return { create, reveal, revealConcurrent, list };
  } finally {
    await db.end();
  }
}

async function engine(dir, database) {
  const coffer = await createCoffer(
    {
      dataDir: join(dir, 'coffer'),
      adminPassword: 'benchmark admin password',
      ...(database === undefined ? {} : { database }),
    },
    { maintenance: false },
  );
  try {
    const { user } = await coffer.identity.login('admin', 'benchmark admin password');
    const admin = asUser(user.id);
    const ids = [];
    const create = await time(N, async (i) => {
      const s = await coffer.secrets.create(admin, {
        name: name(i),
        kind: 'api-token',
        values: { token: randomBytes(24).toString('base64') },
      });
      ids.push(s.id);
    });
    // As autovacuum would within its first minute (analyzePostgres says why).
    if (database !== undefined) await analyzePostgres(database.url);
    const revealOne = (i) => coffer.secrets.readValues(admin, ids[(i * 7919) % ids.length], { reveal: true });
    const reveal = await time(N, revealOne);
    // 32 reveals in flight, as a server sees them: audit records then share one commit.
    const revealConcurrent = await concurrently(N, inFlight, revealOne);
    let cursor = null;
    const list = await time(pages, async () => {
      const result = await coffer.secrets.list(admin, { cursor, limit: 100 });
      cursor = result.nextCursor;
    });
    return { create, reveal, revealConcurrent, list };
  } finally {
    await coffer.close();
  }
}

function rowsOf(database, e, raw) {
  return [
    [
      'create secret, 1 in flight (seal, then value + metadata + audit in one commit)',
      e.create,
      raw.create,
      undefined,
    ],
    ['reveal secret, 1 in flight (access check + open + audit)', e.reveal, raw.reveal, 20_000],
    ['reveal secret, 32 in flight (audit group commit)', e.revealConcurrent, raw.revealConcurrent, 50_000],
    ['list page of 100 (access filter + labels + audit)', e.list, raw.list, undefined],
  ].map(([figure, result, baseline, target]) => [
    figure,
    database,
    result.opsPerSecond.toFixed(0),
    baseline.opsPerSecond.toFixed(0),
    (result.opsPerSecond / baseline.opsPerSecond).toFixed(3),
    target === undefined ? '-' : `>= ${target.toLocaleString('en')}/s`,
    target === undefined ? '-' : met(result.opsPerSecond >= target),
  ]);
}

const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
let results;
let notes;
try {
  ({ results, notes } = await onEachDatabase('engine', async (database, url) => {
    if (url === undefined) return rowsOf(database, await engine(dir, undefined), rawSqlite(dir));
    const raw = await rawPostgres(url);
    return rowsOf(database, await engine(join(dir, 'pg'), { url }), raw);
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows = [];
for (let i = 0; i < results[0].length; i++) for (const r of results) rows.push(r[i]);
printTable(
  ['operation', 'database', 'engine ops/s', 'raw driver ops/s', 'engine / raw', 'target', 'met'],
  rows,
);
console.log(
  `(${N} secrets; baseline: better-sqlite3 on SQLite, pg pool on PostgreSQL; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
);
for (const n of notes) console.log(n);
