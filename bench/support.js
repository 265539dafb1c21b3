// Small helpers shared by the benchmarks.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeOrderedUuid } from '../packages/core/dist/shared/time-ordered-id.js';

/**
 * Runs `fn(i)` n times (awaiting it when it returns a promise) and returns the rate.
 * Sync functions stay sync, so the raw baselines are not slowed by await.
 */
export function time(n, fn) {
  const start = process.hrtime.bigint();
  const first = fn(0);
  if (first && typeof first.then === 'function') {
    return (async () => {
      await first;
      for (let i = 1; i < n; i++) await fn(i);
      return result(n, start);
    })();
  }
  for (let i = 1; i < n; i++) fn(i);
  return result(n, start);
}

function result(n, start) {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { n, seconds, opsPerSecond: n / seconds };
}

/** Prints rows as an aligned text table. */
export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Secrets written straight into the tables (one version each), values through the sql backend. */
export async function seedSqlSecrets(coffer, ownerId, count) {
  const { db } = coffer.database;
  const sql = coffer.backends.get('sql');
  const now = new Date().toISOString();
  const refs = [];
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      // Time-ordered, as the ids of the secrets Coffer creates: they share a shard directory of
      // the file backend and sit next to each other in every index that leads with the id.
      const id = timeOrderedUuid();
      const name = `secret-${String(i).padStart(7, '0')}`;
      rows.push({
        id,
        owner_id: ownerId,
        name,
        live_name: name,
        kind: 'api-token',
        description: '',
        current_version: 1,
        backend: 'sql',
        created_at: now,
        updated_at: now,
        created_by: ownerId,
        updated_by: ownerId,
        deleted_at: null,
        purge_after: null,
      });
      refs.push({ secretId: id, version: 1 });
    }
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('secrets').values(rows).execute();
      await tx
        .insertInto('secret_versions')
        .values(
          rows.map((r) => ({
            secret_id: r.id,
            version: 1,
            created_at: now,
            created_by: ownerId,
            changed_fields: '["token"]',
            rollback_of: null,
          })),
        )
        .execute();
    });
    const batch = refs.slice(start);
    await pool(batch, 16, (ref) => sql.put(ref, { token: randomBytes(24).toString('base64') }));
  }
  return refs;
}

export async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** 'yes' or 'no' for a target column. */
export const met = (ok) => (ok ? 'yes' : 'no');

/**
 * `ANALYZE` on a PostgreSQL database a benchmark has just filled, as autovacuum's first pass
 * would within a minute (autovacuum_naptime). Without statistics PostgreSQL guesses that 0.5% of
 * the rows have `deleted_at is null`, and sorts the whole secrets table for every list page
 * (10,000 secrets: 8 ms a page instead of under 1; docs/server.md, "Databases").
 */
export async function analyzePostgres(url) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('analyze');
  } finally {
    await client.end();
  }
}

/**
 * A fresh PostgreSQL database for one benchmark (BENCH_PG_URL names the server, default
 * postgres://postgres@127.0.0.1:5432/test). Returns `{ url, drop }`, or `{ skipped: reason }`
 * when the server cannot be reached, so a benchmark prints the reason and goes on.
 */
export async function freshPostgres(label) {
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  let pg;
  try {
    pg = (await import('pg')).default;
  } catch (err) {
    return { skipped: `the pg package cannot be loaded (${err.message})` };
  }
  const name = `coffer_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (err) {
    await admin.end().catch(() => {});
    return { skipped: `${adminUrl.replace(/\/\/[^@]*@/, '//')}: ${err.message || err.code}` };
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end().catch(() => {});
      }
    },
  };
}

/** A child Node process whose standard output is collected (standard error is inherited). */
export function startProcess(args, env) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => {
    out += c;
  });
  return { child, output: () => out };
}

export async function waitFor(proc, pattern) {
  for (let i = 0; i < 600; i++) {
    const match = pattern.exec(proc.output());
    if (match) return match;
    if (proc.child.exitCode !== null) throw new Error(`process exited:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern}`);
}

export async function stopProcess(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  await exited;
}

/** Resident memory of a process from /proc, in MiB (Linux only). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

const benchDir = dirname(fileURLToPath(import.meta.url));

/** The bare Fastify baseline process (bench/bare-server.js); resolves once it listens. */
export async function startBareServer() {
  const proc = startProcess([join(benchDir, 'bare-server.js')], {});
  const port = (await waitFor(proc, /listening (\d+)/))[1];
  return { proc, url: `http://127.0.0.1:${port}/bare` };
}

/**
 * The real server process (`packages/server/dist/main.js`) on a fresh data directory, SQLite
 * unless `databaseUrl` is given, with an admin API token made for it. COFFER_* variables of
 * the calling shell are not passed on; `env` adds variables of the caller's choosing.
 */
export async function startCofferServer({ dataDir, databaseUrl, nodeArgs = [], env: extraEnv = {} }) {
  const password = 'benchmark admin password';
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_')));
  const child = spawn(process.execPath, [...nodeArgs, join(benchDir, '../packages/server/dist/main.js')], {
    env: {
      ...env,
      COFFER_DATA_DIR: dataDir,
      COFFER_PORT: '0',
      COFFER_ADMIN_PASSWORD: password,
      COFFER_LOG_LEVEL: 'warn',
      ...extraEnv,
      ...(databaseUrl === undefined ? {} : { COFFER_DATABASE_URL: databaseUrl }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => {
    out += c;
  });
  const proc = { child, output: () => out };
  const base = (await waitFor(proc, /Coffer is running at (\S+)/))[1];
  const api = `${base}/api/v1`;
  const login = await fetch(`${api}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const { csrfToken } = await login.json();
  const created = await fetch(`${api}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'bench', scope: 'read-write' }),
  });
  if (created.status !== 201) throw new Error(`token failed: ${created.status} ${await created.text()}`);
  const { token } = await created.json();
  return { proc, base, api, token, pid: child.pid };
}

/**
 * Runs `measure(database, url)` on SQLite (`url` undefined) and then on a fresh PostgreSQL
 * database (dropped afterwards). Returns the results and notes such as
 * "PostgreSQL rows skipped: <reason>" when PostgreSQL cannot be reached.
 */
export async function onEachDatabase(label, measure) {
  const results = [await measure('SQLite', undefined)];
  const notes = [];
  const pg = await freshPostgres(label);
  if (pg.skipped !== undefined) notes.push(`PostgreSQL rows skipped: ${pg.skipped}`);
  else {
    try {
      results.push(await measure('PostgreSQL', pg.url));
    } finally {
      await pg.drop();
    }
  }
  return { results, notes };
}

/**
 * autocannon's `requests` for value updates spread over `ids` (PATCH .../values, a new token
 * each time), stepping through them by `stride` so consecutive requests hit different secrets.
 */
export function updatesSpreadOver(ids, stride = 1) {
  let next = 0;
  return [
    {
      method: 'PATCH',
      setupRequest: (request) => {
        const i = next++;
        return {
          ...request,
          path: `/api/v1/secrets/${ids[(i * stride) % ids.length]}/values`,
          body: JSON.stringify({ values: { token: `t-${i}-${Math.random()}` } }),
        };
      },
    },
  ];
}
