// Migration between backends: secrets per second moved from `sql` to `file` (journal, copy,
// read back and compare, switch, delete the source), beside the raw copy speed of the same
// data measured in the same run (each value read from the sql backend and written to a file
// backend, nothing else), at the same concurrency.
// BENCH_MIGRATION_SIZES=1000,10000 picks the sizes (default 10000,100000).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asUser, createCoffer } from '../packages/core/dist/index.js';
import { printTable } from './support.js';

const sizes = (process.env.BENCH_MIGRATION_SIZES ?? '10000,100000').split(',').map(Number);
const concurrency = 4;
const password = 'benchmark admin password';

/** Secrets written straight into the tables (one version each), values through the sql backend. */
async function seed(coffer, ownerId, count) {
  const { db } = coffer.database;
  const sql = coffer.backends.get('sql');
  const now = new Date().toISOString();
  const refs = [];
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const id = randomUUID();
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

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

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
    const refs = await seed(coffer, user.id, count);

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
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const size of sizes) {
  const r = await measure(size);
  rows.push([
    r.count.toLocaleString('en'),
    r.migration.toFixed(0),
    r.raw.toFixed(0),
    `${((r.migration / r.raw) * 100).toFixed(1)}%`,
    `${r.seconds.toFixed(1)} s / ${r.rawSeconds.toFixed(1)} s`,
  ]);
}
printTable(
  [
    'secrets (sql -> file)',
    'migration secrets/s',
    'raw copy secrets/s',
    'migration / raw',
    'time (migration / raw)',
  ],
  rows,
);
console.log(
  `(concurrency ${concurrency}, one version per secret, fsync on; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
);
