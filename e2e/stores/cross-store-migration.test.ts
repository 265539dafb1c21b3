// Migration between any two stores: values hop sql -> AWS Secrets Manager -> GCP Secret Manager
// -> Azure Key Vault -> AWS SSM -> Vault KV v2 -> Kubernetes -> file -> sql, through each store's
// local double (its vendor's wire protocol, driven by the vendor's client), with the engine's
// resumable, verified migration; then straight between two cloud stores in both directions, and
// with the source copies kept and dropped. After every move each backend holds exactly what the
// metadata says (plus recorded kept copies), the trash moved too, and every version of every
// secret reads back as it was written. The doubles' quotas and Coffer's write rate limits are
// off: this is about correctness, the quota tests live in each store's package.
import {
  assertNoOrphans,
  assertSeededReadable,
  type CofferFixture,
  createCofferFixture,
  type SeededSecret,
  secretsPerBackend,
  seedSecrets,
} from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The handle every store double returns (`@coffer/<pkg>/double`), as far as this test uses it. */
interface StoreDouble {
  settings: Record<string, unknown>;
  env: Record<string, string>;
  close(): Promise<void>;
}
type DoubleModule = { startStoreDouble(options: { throttle: false }): Promise<StoreDouble> };

/** Instance name, backend type, the double's module. */
const stores: readonly (readonly [string, string, () => Promise<unknown>])[] = [
  ['aws', 'aws-secrets-manager', () => import('@coffer/backend-aws-secrets-manager/double')],
  ['gcp', 'gcp-secret-manager', () => import('@coffer/backend-gcp-secret-manager/double')],
  ['azure', 'azure-key-vault', () => import('@coffer/backend-azure-key-vault/double')],
  ['ssm', 'aws-ssm', () => import('@coffer/backend-aws-ssm/double')],
  ['vault', 'vault-kv', () => import('@coffer/backend-vault/double')],
  ['k8s', 'kubernetes', () => import('@coffer/backend-kubernetes/double')],
];
const everyBackend = ['sql', 'files', ...stores.map(([name]) => name)];

describe('migration between the stores', () => {
  const doubles: StoreDouble[] = [];
  const savedEnv: Record<string, string | undefined> = {};
  let fx: CofferFixture;
  let seeded: SeededSecret[];
  let refCount: number;

  beforeAll(async () => {
    const backends: Record<string, { type: string; [setting: string]: unknown }> = {
      files: { type: 'file', fsync: false },
    };
    const started = await Promise.allSettled(
      stores.map(async ([, , load]) =>
        ((await load()) as DoubleModule).startStoreDouble({ throttle: false }),
      ),
    );
    // the ones that did start are closed by afterAll even when another failed
    for (const s of started) if (s.status === 'fulfilled') doubles.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    for (const [i, [name, type]] of stores.entries()) {
      const double = doubles[i]!;
      // One process reaches every double through each vendor's default credential chain, so
      // the doubles must agree on every variable they share (the two AWS doubles share keys).
      for (const [key, value] of Object.entries(double.env)) {
        if (key in savedEnv && process.env[key] !== value) {
          throw new Error(`two doubles need different values of ${key}; they must share test credentials`);
        }
        if (!(key in savedEnv)) savedEnv[key] = process.env[key];
        process.env[key] = value;
      }
      backends[name] = { type, ...double.settings, writesPerSecond: 0 };
    }
    fx = await createCofferFixture('sqlite', { backends, migration: { onStart: false, concurrency: 4 } });
    seeded = await seedSecrets(fx.coffer, fx.admin.id, { count: 40, prefix: 'hop', deletedEvery: 7 });
    refCount = seeded.reduce((n, s) => n + s.versions, 0);
  }, 60_000);

  afterAll(async () => {
    await fx?.close();
    await Promise.all(doubles.map((d) => d.close()));
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  /** Secrets in the trash, by the backend holding their values. */
  async function trashedPerBackend(): Promise<Record<string, number>> {
    const rows = await fx.coffer.database.db
      .selectFrom('secrets')
      .select('backend')
      .where('deleted_at', 'is not', null)
      .execute();
    const counts: Record<string, number> = {};
    for (const { backend } of rows) counts[backend] = (counts[backend] ?? 0) + 1;
    return counts;
  }

  async function keptCopies(): Promise<Record<string, number>> {
    const rows = await fx.coffer.database.db.selectFrom('migration_kept_values').select('backend').execute();
    const counts: Record<string, number> = {};
    for (const { backend } of rows) counts[backend] = (counts[backend] ?? 0) + 1;
    return counts;
  }

  /** Moves everything to `target` and checks the result: done, nothing failed, nothing orphaned, all readable. */
  async function moveTo(target: string, keepSource = false): Promise<void> {
    const { coffer, admin } = fx;
    await coffer.migration.start(admin.actor, { target, keepSource });
    await coffer.migration.wait();
    const status = await coffer.migration.status(admin.actor);
    expect(status, JSON.stringify(status.failures)).toMatchObject({
      state: 'done',
      target,
      failed: 0,
      total: seeded.length,
      done: seeded.length,
    });
    expect(await secretsPerBackend(coffer)).toEqual({ [target]: seeded.length });
    expect(await trashedPerBackend()).toEqual({ [target]: seeded.filter((s) => s.index % 7 === 0).length });
    await assertNoOrphans(coffer, everyBackend);
    await assertSeededReadable(coffer, admin.actor, seeded);
  }

  const chain = ['aws', 'gcp', 'azure', 'ssm', 'vault', 'k8s', 'files', 'sql'];
  for (const [i, target] of chain.entries()) {
    it(`moves every secret from ${i === 0 ? 'sql' : chain[i - 1]} to ${target}, verified`, async () => {
      await moveTo(target);
    }, 60_000);
  }

  it('moves straight between two stores, both ways (gcp <-> aws, k8s <-> vault, files <-> azure)', async () => {
    // The chain went aws -> gcp and vault -> k8s; these add the other directions.
    for (const target of ['gcp', 'aws', 'gcp', 'k8s', 'vault', 'k8s', 'files', 'azure', 'files']) {
      await moveTo(target);
    }
  }, 90_000);

  it('keeps the source copies when asked, takes them up again on the way back, and drops them on command', async () => {
    const { coffer, admin } = fx;
    await moveTo('k8s');
    // k8s -> azure keeping the Kubernetes Secrets: they are recorded, so not orphans.
    await moveTo('azure', true);
    expect(await keptCopies()).toEqual({ k8s: refCount });
    // Back onto the kept copies: they are the live values again, the Key Vault copies go.
    await moveTo('k8s');
    expect(await keptCopies()).toEqual({});
    // Away again keeping them, then drop them: the move becomes one-way.
    await moveTo('azure', true);
    expect(await keptCopies()).toEqual({ k8s: refCount });
    expect(await coffer.migration.dropKeptSources(admin.actor)).toEqual({ dropped: refCount });
    expect(await keptCopies()).toEqual({});
    await assertNoOrphans(coffer, everyBackend);
    await assertSeededReadable(coffer, admin.actor, seeded);
  }, 90_000);
});
