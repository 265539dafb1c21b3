// Migration into each store: secrets per second moved from `sql` to AWS Secrets Manager, AWS SSM
// Parameter Store, GCP Secret Manager, Azure Key Vault, Vault KV v2 and Kubernetes Secrets, each
// through its local double (the vendor's wire protocol over loopback, driven by the vendor's
// client), beside a baseline measured in the same run against the same double: a loop of the
// same number of writes through the vendor's client alone (`double.rawPut`, one write per
// secret, nothing of Coffer around it), at the same concurrency.
//
// The columns: "migration secrets/s" is secrets switched to the store per second (each one a
// put, a read-back and compare, the switch in SQL and the delete of the sql copy); "raw SDK
// puts/s" is the baseline; "migration / raw" their ratio, what the figures are for. The doubles'
// request quotas and Coffer's write rate limit (`writesPerSecond: 0`) are off, so the figures show
// Coffer's own cost, not a vendor's quota. Parameter Store's double keeps its 10,000 standard
// parameter quota even then; the raw loop and the migration together hold twice the count, so
// the benchmark lifts it (`standardParameterLimit`) and says so under the table.
//
// BENCH_STORE_SECRETS=1000 changes the count (default 10000);
// BENCH_STORES=aws-ssm,kubernetes picks stores by backend type.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asUser, createCoffer } from '../packages/core/dist/index.js';
import { pool, printTable, seedSqlSecrets } from './support.js';

const count = Number(process.env.BENCH_STORE_SECRETS ?? 10_000);
const concurrency = 4;
const password = 'benchmark admin password';

/** Backend type, its package's folder, and what its double needs beyond `throttle: false`. */
const allStores = [
  ['aws-secrets-manager', 'backend-aws-secrets-manager', {}],
  ['aws-ssm', 'backend-aws-ssm', { standardParameterLimit: Number.POSITIVE_INFINITY }],
  ['gcp-secret-manager', 'backend-gcp-secret-manager', {}],
  ['azure-key-vault', 'backend-azure-key-vault', {}],
  ['vault-kv', 'backend-vault', {}],
  ['kubernetes', 'backend-kubernetes', {}],
];
const picked = (process.env.BENCH_STORES ?? '').split(',').filter(Boolean);
const unknown = picked.filter((type) => !allStores.some(([t]) => t === type));
if (unknown.length > 0) {
  console.error(`unknown store ${unknown.join(', ')}; known: ${allStores.map(([t]) => t).join(', ')}`);
  process.exit(2);
}
const stores = picked.length === 0 ? allStores : allStores.filter(([type]) => picked.includes(type));

function secondsSince(started) {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function measure([type, folder, doubleOptions]) {
  const { startStoreDouble } = await import(`../packages/${folder}/dist/double/index.js`);
  const dir = mkdtempSync(join(tmpdir(), `coffer-bench-${type}-`));
  const saved = {};
  let double;
  let coffer;
  try {
    double = await startStoreDouble({ throttle: false, ...doubleOptions });
    for (const [key, value] of Object.entries(double.env)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    // Baseline: the same number of writes through the vendor's client alone.
    const values = Array.from({ length: count }, (_, i) => ({
      name: `raw-${String(i).padStart(7, '0')}`,
      json: JSON.stringify({ token: randomBytes(24).toString('base64') }),
    }));
    let started = process.hrtime.bigint();
    await pool(values, concurrency, ({ name, json }) => double.rawPut(name, json));
    const rawSeconds = secondsSince(started);

    coffer = await createCoffer(
      {
        dataDir: dir,
        adminPassword: password,
        backends: { store: { type, ...double.settings, writesPerSecond: 0 } },
        migration: { onStart: false, concurrency },
      },
      { maintenance: false },
    );
    const { user } = await coffer.identity.login('admin', password);
    const admin = asUser(user.id);
    await seedSqlSecrets(coffer, user.id, count);
    const rssBefore = process.memoryUsage().rss;
    started = process.hrtime.bigint();
    await coffer.migration.start(admin, { target: 'store' });
    await coffer.migration.wait();
    const seconds = secondsSince(started);
    const status = await coffer.migration.status(admin);
    if (status.state !== 'done' || status.done !== count) {
      throw new Error(
        `migration to ${type} ended ${status.state} with ${status.done}/${count} done: ` +
          JSON.stringify(status.failures.slice(0, 3)),
      );
    }
    return {
      type,
      migration: count / seconds,
      raw: count / rawSeconds,
      seconds,
      rawSeconds,
      rssMiB: Math.max(rssBefore, process.memoryUsage().rss) / 2 ** 20,
    };
  } finally {
    await coffer?.close();
    await double?.close();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dir, { recursive: true, force: true });
    globalThis.gc?.();
  }
}

const rows = [];
for (const store of stores) {
  const r = await measure(store);
  rows.push([
    `sql -> ${r.type}`,
    r.migration.toFixed(0),
    r.raw.toFixed(0),
    `${((r.migration / r.raw) * 100).toFixed(1)}%`,
    `${r.seconds.toFixed(1)} s / ${r.rawSeconds.toFixed(1)} s`,
    r.rssMiB.toFixed(0),
  ]);
}
printTable(
  [
    `${count.toLocaleString('en')} secrets`,
    'migration secrets/s',
    'raw SDK puts/s',
    'migration / raw',
    'time (migration / raw)',
    'RSS MiB',
  ],
  rows,
);
console.log(
  `(concurrency ${concurrency}, one version per secret; each migrated secret is a put, a read-back and a source delete; ` +
    'the raw loop is one client write per secret; doubles on loopback in this process, throttling off, writesPerSecond 0; ' +
    'RSS is the whole process after each store, the stores one after another)',
);
if (stores.some(([type]) => type === 'aws-ssm')) {
  console.log(
    `(aws-ssm: the double's 10,000 standard-parameter quota is lifted, since the raw loop and the migration hold ${(
      2 * count
    ).toLocaleString('en')} parameters)`,
  );
}
