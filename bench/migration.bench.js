// Migration between backends: secrets per second moved from `sql` to `file` (journal, copy,
// read back and compare, switch, delete the source), beside the raw copy speed of the same
// data measured in the same run (each value read from the sql backend and written to a file
// backend, nothing else), at the same concurrency.
// The 100,000 row prints the target of issue #13 (<= 30 s) and whether this run met it; a missed
// target never fails the benchmark.
// BENCH_MIGRATION_SIZES=1000,10000 picks the sizes (default 10000,100000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asUser, createCoffer } from '../packages/core/dist/index.js';
import { met, pool, printTable, seedSqlSecrets } from './support.js';

const sizes = (process.env.BENCH_MIGRATION_SIZES ?? '10000,100000').split(',').map(Number);
/** `migration.concurrency`'s default on SQLite (migrationConcurrencyFor); the raw copy runs at the same. */
const concurrency = 16;
const password = 'benchmark admin password';
/** Issue #13: 100,000 secrets sql -> file in at most 30 s. */
const targets = new Map([[100_000, 30]]);

/**
 * Each size's files stay until every size is measured. On ext4 without a journal (this
 * machine's disk), making a file right after many were deleted costs several times more kernel
 * time: the inode allocator checks every recently freed inode it passes over. Removing the
 * 10,000 secrets' files just before measuring 100,000 made that run 30-45% slower.
 */
const kept = [];

async function measure(count) {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-migration-'));
  try {
    const coffer = await createCoffer(
      {
        dataDir: dir,
        adminPassword: password,
        backends: { files: { type: 'file' }, raw: { type: 'file', directory: 'raw' } },
        migration: { onStart: false, concurrency },
      },
      { maintenance: false },
    );
    const { user } = await coffer.identity.login('admin', password);
    const admin = asUser(user.id);
    const refs = await seedSqlSecrets(coffer, user.id, count);

    // Baseline: the same values read from sql and written to a file backend, nothing else.
    const sql = coffer.backends.get('sql');
    const raw = coffer.backends.get('raw');
    let started = process.hrtime.bigint();
    await pool(refs, concurrency, async (ref) => raw.put(ref, await sql.get(ref)));
    const rawSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    started = process.hrtime.bigint();
    await coffer.migration.start(admin, { target: 'files' });
    await coffer.migration.wait();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const status = await coffer.migration.status(admin);
    if (status.state !== 'done' || status.done !== count) {
      throw new Error(`migration ended ${status.state} with ${status.done}/${count} done`);
    }
    await coffer.close();
    return { count, migration: count / seconds, raw: count / rawSeconds, seconds, rawSeconds };
  } finally {
    kept.push(dir);
  }
}

const rows = [];
try {
  for (const size of sizes) {
    const r = await measure(size);
    rows.push([
      r.count.toLocaleString('en'),
      r.migration.toFixed(0),
      r.raw.toFixed(0),
      `${((r.migration / r.raw) * 100).toFixed(1)}%`,
      `${r.seconds.toFixed(1)} s / ${r.rawSeconds.toFixed(1)} s`,
      targets.has(r.count) ? `<= ${targets.get(r.count)} s` : '-',
      targets.has(r.count) ? met(r.seconds <= targets.get(r.count)) : '-',
    ]);
  }
} finally {
  for (const dir of kept) rmSync(dir, { recursive: true, force: true });
}
printTable(
  [
    'secrets (sql -> file)',
    'migration secrets/s',
    'raw copy secrets/s',
    'migration / raw',
    'time (migration / raw)',
    'target',
    'met',
  ],
  rows,
);
console.log(
  `(concurrency ${concurrency}, one version per secret, fsync on; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
);
