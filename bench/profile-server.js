// Profiles the real server process under load on one route, for docs/performance.md's
// "Profiling a request": starts packages/server/dist/main.js on a fresh SQLite data directory
// with `node --cpu-prof`, loads one route with autocannon (16 connections), stops the server and
// prints where its CPU time went: by package (SQLite's own work shows as the Kysely SQLite
// driver's `executeQuery`, which calls better-sqlite3), then the functions with the most self
// and inclusive time. The .cpuprofile stays in the printed directory (it opens in Chrome
// DevTools, Performance tab).
//
//   npm run build && node bench/profile-server.js create|batch|update|reveal|list|health [seconds]
// (`health` loads GET /healthz: what every request pays before any route of the API runs;
// PROFILE_PG=1 runs the server on a fresh PostgreSQL database instead of SQLite)
//
// TOP=N prints N functions by inclusive time instead of 30.
//
// `batch` posts 100 new secrets per request to POST /secrets/batch, as `coffer import` does.
//
// It is not a benchmark (the profiler itself slows the server): compare its shares, not its rate.

import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freshPostgres, startCofferServer, stopProcess, updatesSpreadOver } from './support.js';

const route = process.argv[2] ?? 'reveal';
const seconds = Number(process.argv[3] ?? 8);
const routes = ['create', 'batch', 'update', 'reveal', 'list', 'health'];
if (!routes.includes(route)) {
  console.error(`usage: node bench/profile-server.js ${routes.join('|')} [seconds]`);
  process.exit(2);
}
const profileDir = mkdtempSync(join(tmpdir(), 'coffer-profile-'));
// PROFILE_PG=1: the server on a fresh PostgreSQL database (BENCH_PG_URL), dropped at the end.
const pg = process.env.PROFILE_PG === '1' ? await freshPostgres('profile') : undefined;
if (pg?.skipped !== undefined) {
  console.error(`PostgreSQL: ${pg.skipped}`);
  process.exit(2);
}
const server = await startCofferServer({
  dataDir: join(profileDir, 'data'),
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  databaseUrl: pg?.url,
});
const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
const post = (body) =>
  fetch(`${server.api}/secrets`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
const load = (options) =>
  new Promise((resolve, reject) => {
    autocannon({ connections: 16, duration: seconds, ...options }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });

let result;
try {
  if (route === 'create') {
    result = await load({
      url: `${server.api}/secrets`,
      method: 'POST',
      headers: auth,
      idReplacement: true,
      body: JSON.stringify({ name: 'p-[<id>]', kind: 'api-token', values: { token: 'token-[<id>]' } }),
    });
  } else if (route === 'batch') {
    const secrets = Array.from({ length: 100 }, (_, i) => ({
      name: `p-[<id>]-${i}`,
      kind: 'api-token',
      values: { token: `token-[<id>]-${i}` },
    }));
    result = await load({
      url: `${server.api}/secrets/batch`,
      method: 'POST',
      headers: auth,
      idReplacement: true,
      connections: 4,
      body: JSON.stringify({ secrets }),
    });
  } else if (route === 'list') {
    for (let i = 0; i < 150; i++) await post({ name: `l-${i}`, kind: 'api-token', values: { token: 'x' } });
    result = await load({ url: `${server.api}/secrets?limit=100`, headers: auth });
  } else if (route === 'health') {
    result = await load({ url: `${server.base}/healthz` });
  } else if (route === 'reveal') {
    const { id } = await (await post({ name: 'one', kind: 'api-token', values: { token: 'x' } })).json();
    result = await load({ url: `${server.api}/secrets/${id}/values?reveal=true`, headers: auth });
  } else {
    // As http.bench.js does: updates spread over 200 secrets. Sixteen connections updating one
    // secret would profile the wait for that secret's write lease instead.
    const ids = [];
    for (let i = 0; i < 200; i++) {
      ids.push((await (await post({ name: `u-${i}`, kind: 'api-token', values: { token: 'x' } })).json()).id);
    }
    result = await load({ url: `${server.api}/secrets`, headers: auth, requests: updatesSpreadOver(ids) });
  }
} finally {
  await stopProcess(server.proc);
  await pg?.drop();
}
console.log(
  `${route}: ${Math.round(result.requests.average)} req/s under the profiler, ${result.non2xx} errors`,
);

const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`no .cpuprofile in ${profileDir}`);
const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));
summarize(profile);
console.log(`\nprofile: ${join(profileDir, file)}`);

/** Self time per package and per function, and inclusive time per function, in % of samples. */
function summarize({ nodes, samples, timeDeltas }) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const selfTime = new Map();
  let total = 0;
  samples.forEach((id, i) => {
    selfTime.set(id, (selfTime.get(id) ?? 0) + (timeDeltas[i] ?? 0));
    total += timeDeltas[i] ?? 0;
  });
  const where = (n) => {
    const url = n.callFrame.url;
    if (url === '') return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
    if (url.includes('sqlite-driver')) return 'SQLite (better-sqlite3 via Kysely)';
    if (url.includes('node_modules/')) {
      const parts = url.split('node_modules/').pop().split('/');
      return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    }
    if (url.includes('/packages/')) return `@coffer/${url.split('/packages/')[1].split('/')[0]}`;
    return url.startsWith('node:') ? 'node' : url;
  };
  const label = (n) => {
    const f = n.callFrame;
    const url = f.url.replace(/.*node_modules\//, '').replace(/.*\/packages\//, '');
    return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
  };
  const add = (map, key, t) => map.set(key, (map.get(key) ?? 0) + t);
  const packages = new Map();
  const selfByFunction = new Map();
  const inclusive = new Map();
  for (const [id, t] of selfTime) {
    const node = byId.get(id);
    add(packages, where(node), t);
    add(selfByFunction, label(node), t);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const key = label(byId.get(at));
      if (!seen.has(key)) add(inclusive, key, t);
      seen.add(key);
    }
  }
  const print = (title, map, n) => {
    console.log(`\n${title}`);
    for (const [k, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  print('self time by package', packages, 15);
  print('self time by function', selfByFunction, 20);
  print('inclusive time by function', inclusive, Number(process.env.TOP ?? 30));
}
