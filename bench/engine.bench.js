// The embedded SQLite engine: create, reveal and list throughput, each beside the raw
// better-sqlite3 operation it is built on, measured in the same run.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { asUser, createCoffer } from '../packages/core/dist/index.js';
import { printTable, time } from './support.js';

const N = Number(process.env.BENCH_N ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));

try {
  // Baseline: the same work done directly on better-sqlite3, WAL, one statement per operation.
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('create table t (id text primary key, name text not null, blob blob not null)');
  raw.exec('create index t_name on t (name, id)');
  const insert = raw.prepare('insert into t (id, name, blob) values (?, ?, ?)');
  const select = raw.prepare('select blob from t where id = ?');
  const page = raw.prepare('select id, name from t where name > ? order by name, id limit 100');
  const rawIds = [];
  const rawCreate = time(N, (i) => {
    const id = randomUUID();
    rawIds.push(id);
    insert.run(id, `secret-${String(i).padStart(6, '0')}`, randomBytes(160));
  });
  const rawReveal = time(N, (i) => select.get(rawIds[(i * 7919) % rawIds.length]));
  const pages = Math.ceil(N / 100);
  const rawList = time(pages, (i) => page.all(`secret-${String(i * 100).padStart(6, '0')}`));
  raw.close();

  const coffer = await createCoffer(
    { dataDir: join(dir, 'coffer'), adminPassword: 'benchmark admin password' },
    { maintenance: false },
  );
  const { user } = await coffer.identity.login('admin', 'benchmark admin password');
  const admin = asUser(user.id);
  const ids = [];
  const create = await time(N, async (i) => {
    const s = await coffer.secrets.create(admin, {
      name: `secret-${String(i).padStart(6, '0')}`,
      kind: 'api-token',
      values: { token: randomBytes(24).toString('base64') },
    });
    ids.push(s.id);
  });
  const reveal = await time(N, (i) =>
    coffer.secrets.readValues(admin, ids[(i * 7919) % ids.length], { reveal: true }),
  );
  // 32 reveals in flight, as a server sees them: audit records then share one commit.
  const inFlight = 32;
  const concurrentStart = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < N) {
        const i = next++;
        await coffer.secrets.readValues(admin, ids[(i * 7919) % ids.length], { reveal: true });
      }
    }),
  );
  const concurrentSeconds = Number(process.hrtime.bigint() - concurrentStart) / 1e9;
  const revealConcurrent = { n: N, seconds: concurrentSeconds, opsPerSecond: N / concurrentSeconds };
  let cursor = null;
  const list = await time(pages, async () => {
    const result = await coffer.secrets.list(admin, { cursor, limit: 100 });
    cursor = result.nextCursor;
  });
  await coffer.close();

  printTable(
    ['operation', 'engine ops/s', 'raw better-sqlite3 ops/s', 'engine / raw'],
    [
      ['create secret (seal + journal + metadata + audit)', create, rawCreate],
      ['reveal secret (access check + open + audit)', reveal, rawReveal],
      ['reveal secret, 32 in flight (audit group commit)', revealConcurrent, rawReveal],
      ['list page of 100 (access filter + labels + audit)', list, rawList],
    ].map(([name, engine, baseline]) => [
      name,
      engine.opsPerSecond.toFixed(0),
      baseline.opsPerSecond.toFixed(0),
      `${((engine.opsPerSecond / baseline.opsPerSecond) * 100).toFixed(2)}%`,
    ]),
  );
  console.log(`(${N} secrets; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
