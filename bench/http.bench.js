// The HTTP server over loopback, measured with autocannon: reveal one secret, list a page of
// 100 secrets, create and update secrets, each beside a bare Fastify route (bench/bare-server.js,
// the floor any route over this stack can reach) measured in the same run, and the server's
// RSS after seeding 10,000 secrets through the API (16 requests in flight) beside the bare
// process's: 2 s after the last request, and idle, 10 s after it (the server gives memory back
// after ~7 s of quiet: docs/performance.md, "Idle RSS"; the header says whether its native
// helper, which trims the C heap, is built). On SQLite the idle RSS is measured a
// second time on a server started with COFFER_SQLITE_CACHE_MIB=2 (its page cache at SQLite's
// own default size instead of better-sqlite3's 16 MiB). The Coffer server is the real process (`packages/server/dist/main.js`),
// once on the embedded SQLite default and once on PostgreSQL (a fresh database on
// BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test, dropped at the end; skipped
// with the reason printed when it cannot be reached; ANALYZE runs after seeding, as autovacuum's
// first pass would). Each row prints the target of issue #13
// and whether this run met it; a missed target never fails the benchmark.
//
// BENCH_DURATION (seconds per run, default 5), BENCH_CONNECTIONS (default 16) and
// BENCH_HTTP_SEED (secrets seeded before the RSS reading, default 10000) tune it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadTrimHeap } from '../packages/server/dist/native-memory.js';
import {
  analyzePostgres,
  met,
  onEachDatabase,
  pool,
  printTable,
  rssMiB,
  startBareServer,
  startCofferServer,
  stopProcess,
  updatesSpreadOver,
} from './support.js';

if (process.argv[2] === '--bare-server') {
  // Still accepted for scripts that start the baseline this way: it is bench/bare-server.js now.
  await import('./bare-server.js');
  await new Promise(() => {});
}

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const seedCount = Number(process.env.BENCH_HTTP_SEED ?? 10_000);
/** How long after seeding the idle RSS is read: the server releases memory after ~7 s of quiet. */
const idleSeconds = 10;
const rssTargetMiB = 100;

const run = (options) =>
  new Promise((resolve, reject) => {
    autocannon({ connections, duration, ...options }, (err, result) => (err ? reject(err) : resolve(result)));
  });

/** Creates `count` secrets through the API, `inFlight` requests at a time; returns their ids. */
async function seed(server, count, inFlight) {
  const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  const ids = new Array(count);
  await pool(
    Array.from({ length: count }, (_, i) => i),
    inFlight,
    async (i) => {
      const response = await fetch(`${server.api}/secrets`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          name: `seed-${String(i).padStart(6, '0')}`,
          kind: 'api-token',
          values: { baseUrl: 'https://api.example.com', token: `t-${i}-${'x'.repeat(24)}` },
        }),
      });
      if (response.status !== 201)
        throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
      ids[i] = (await response.json()).id;
    },
  );
  return ids;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Creates `seedCount` secrets in a server whose SQLite page cache is 2 MiB; its idle RSS. */
async function smallCacheIdleRss(dir) {
  const server = await startCofferServer({
    dataDir: join(dir, 'small-cache'),
    env: { COFFER_SQLITE_CACHE_MIB: '2' },
  });
  try {
    await seed(server, seedCount, 16);
    await sleep(idleSeconds * 1000);
    return rssMiB(server.pid);
  } finally {
    await stopProcess(server.proc);
  }
}

/** Every figure for one database: RSS after seeding, then the four routes beside bare ones. */
async function measure(database, databaseUrl, bare) {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-http-bench-'));
  const server = await startCofferServer({ dataDir: join(dir, 'data'), databaseUrl });
  try {
    const seedStart = process.hrtime.bigint();
    const ids = await seed(server, seedCount, 16);
    const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
    // As autovacuum would within its first minute (analyzePostgres says why).
    if (databaseUrl !== undefined) await analyzePostgres(databaseUrl);
    await sleep(2000);
    const settlingRss = rssMiB(server.pid);
    await sleep((idleSeconds - 2) * 1000);
    const idleRss = rssMiB(server.pid);
    const bareIdleRss = rssMiB(bare.proc.child.pid);
    const smallCacheRss = databaseUrl === undefined ? await smallCacheIdleRss(dir) : undefined;

    const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const bareGet = await run({ url: bare.url });
    const reveal = await run({ url: `${server.api}/secrets/${ids[0]}/values?reveal=true`, headers: auth });
    const list = await run({ url: `${server.api}/secrets?limit=100`, headers: auth });
    const barePost = await run({
      url: bare.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', kind: 'api-token', values: { token: 'y' } }),
    });
    const create = await run({
      url: `${server.api}/secrets`,
      method: 'POST',
      headers: auth,
      idReplacement: true,
      body: JSON.stringify({ name: 'b-[<id>]', kind: 'api-token', values: { token: 'token-[<id>]' } }),
    });
    const update = await run({
      url: `${server.api}/secrets`,
      headers: auth,
      requests: updatesSpreadOver(ids, 7919),
    });
    const endRss = rssMiB(server.pid);

    const errors = (r) => r.non2xx + r.errors + r.timeouts;
    /** A row for a resident-memory reading (`undefined`: not measured on this database). */
    const rssRow = (figure, rss, bareRss, targetMiB) => [
      figure,
      database,
      rss === undefined ? '-' : `${rss.rss.toFixed(0)} MiB`,
      '-',
      '-',
      '-',
      `${bareRss.rss.toFixed(0)} MiB`,
      rss === undefined ? '-' : (rss.rss / bareRss.rss).toFixed(2),
      targetMiB === undefined ? '-' : `<= ${targetMiB} MiB`,
      targetMiB === undefined || rss === undefined ? '-' : met(rss.rss <= targetMiB),
    ];
    /** A target is a minimum ratio to the bare route (`{ ratio }`) or a minimum rate (`{ rate }`). */
    const row = (figure, result, baseline, target) => {
      const ratio = result.requests.average / baseline.requests.average;
      const ok = target.ratio !== undefined ? ratio >= target.ratio : result.requests.average >= target.rate;
      return [
        figure,
        database,
        `${result.requests.average.toFixed(0)} req/s`,
        result.latency.p50.toFixed(1),
        result.latency.p99.toFixed(1),
        errors(result),
        `${baseline.requests.average.toFixed(0)} req/s`,
        ratio.toFixed(3),
        target.ratio !== undefined ? `ratio >= ${target.ratio}` : `>= ${target.rate.toLocaleString('en')}/s`,
        met(ok && errors(result) === 0),
      ];
    };
    return {
      rows: [
        row('reveal one secret (GET values?reveal=true)', reveal, bareGet, { ratio: 0.5 }),
        row('list a page of 100 (GET metadata)', list, bareGet, { ratio: 0.25 }),
        row('create secret (POST, audited)', create, barePost, { rate: 5000 }),
        row('update values (PATCH, new version, audited)', update, barePost, { rate: 5000 }),
        rssRow(
          `server RSS 2 s after seeding ${seedCount.toLocaleString('en')} secrets`,
          settlingRss,
          bareIdleRss,
        ),
        rssRow(
          `server idle RSS after seeding ${seedCount.toLocaleString('en')} secrets (${idleSeconds} s quiet)`,
          idleRss,
          bareIdleRss,
          rssTargetMiB,
        ),
        rssRow(
          '  the same, COFFER_SQLITE_CACHE_MIB=2 (SQLite only)',
          smallCacheRss,
          bareIdleRss,
          rssTargetMiB,
        ),
      ],
      note:
        `${database}: seeded ${seedCount.toLocaleString('en')} secrets in ${seedSeconds.toFixed(1)} s ` +
        `(${(seedCount / seedSeconds).toFixed(0)}/s, 16 in flight); RSS ${endRss.rss.toFixed(0)} MiB after the runs ` +
        `(peak ${endRss.peak.toFixed(0)} MiB)`,
    };
  } finally {
    await stopProcess(server.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

const bare = await startBareServer();
let results;
let notes;
try {
  ({ results, notes } = await onEachDatabase('http', (database, url) => measure(database, url, bare)));
} finally {
  await stopProcess(bare.proc);
}

console.log(
  `autocannon, ${connections} connections, ${duration} s per run, over loopback; baseline: bare Fastify route in its own process`,
);
console.log(
  loadTrimHeap() === undefined
    ? "the idle release cannot trim the C heap here: the server's native helper is not built (npm run build says why)\n"
    : "the idle release trims the C heap (the server's native helper, packages/server/native, is built)\n",
);
// Rows of one figure side by side, SQLite then PostgreSQL.
const figures = results[0].rows.length;
const rows = [];
for (let i = 0; i < figures; i++) for (const r of results) rows.push(r.rows[i]);
printTable(
  ['figure', 'database', 'value', 'p50 ms', 'p99 ms', 'errors', 'baseline', 'ratio', 'target', 'met'],
  rows,
);
console.log('');
for (const r of results) console.log(r.note);
for (const n of notes) console.log(n);
