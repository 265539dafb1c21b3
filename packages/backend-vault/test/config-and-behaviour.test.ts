import vaultKv, {
  defaultMaxValueBytes,
  maxVersionsPerSecret,
  type VaultKvBackend,
} from '@coffer/backend-vault';
import { createCofferFixture } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendOnDouble, backendOnDouble, everything, rejection } from './support.js';

const id = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, '0')}`;

async function startError(settings: Record<string, unknown>, more: Record<string, unknown> = {}) {
  try {
    const fx = await createCofferFixture('sqlite', {
      backends: { vault: { type: 'vault-kv', ...settings } },
      backend: 'vault',
      ...more,
    });
    await fx.close();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the start to fail');
}

describe('vault-kv settings', () => {
  it('refuses bad settings with invalid_config naming each one, never echoing a value', async () => {
    const err = await startError({
      address: 'ftp://vault.example.com',
      mount: '/secret',
      pathPrefix: 'a/../b',
      auth: { method: 'token', tokenEnv: 'NOT A NAME' },
      maxValueBytes: 10,
      writesPerSecond: -1,
      token: 'hvs.never-in-config',
    });
    expect(err.code).toBe('invalid_config');
    for (const path of [
      'backends.vault.address',
      'backends.vault.mount',
      'backends.vault.pathPrefix',
      'backends.vault.auth.tokenEnv',
      'backends.vault.maxValueBytes',
      'backends.vault.writesPerSecond',
    ]) {
      expect(err.message).toContain(path);
    }
    expect(err.message).toContain('token');
    expect(err.message).not.toContain('hvs.never-in-config');
  });

  it('refuses an unknown auth method and an AppRole without role id', async () => {
    const unknown = await startError({ address: 'http://127.0.0.1:8200', auth: { method: 'userpass' } });
    expect(unknown.message).toContain('backends.vault.auth');
    const noRole = await startError({ address: 'http://127.0.0.1:8200', auth: { method: 'approle' } });
    expect(noRole.message).toContain('backends.vault.auth.roleId');
  });

  it('needs an address, from the settings or VAULT_ADDR', async () => {
    const saved = process.env.VAULT_ADDR;
    delete process.env.VAULT_ADDR;
    try {
      const err = await startError({});
      expect(err.code).toBe('invalid_config');
      expect(err.message).toContain('backends.vault.address');
    } finally {
      if (saved !== undefined) process.env.VAULT_ADDR = saved;
    }
  });

  it('refuses versions.keep above what the custom_metadata index holds', async () => {
    const err = await startError(
      { address: 'http://127.0.0.1:8200' },
      { versions: { keep: maxVersionsPerSecret } },
    );
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('versions.keep');
  });

  it('fills in the defaults', () => {
    expect(vaultKv.configSchema.parse({ address: 'https://vault.example.com:8200' })).toEqual({
      address: 'https://vault.example.com:8200',
      mount: 'secret',
      auth: { method: 'token', tokenEnv: 'VAULT_TOKEN' },
      maxValueBytes: defaultMaxValueBytes,
      maxAttempts: 5,
      requestTimeoutMs: 10_000,
    });
    expect(
      vaultKv.configSchema.parse({ address: 'http://v:8200', auth: { method: 'approle', roleId: 'r' } }),
    ).toMatchObject({
      auth: { method: 'approle', roleId: 'r', secretIdEnv: 'VAULT_SECRET_ID', mountPath: 'approle' },
    });
  });
});

describe('vault-kv behaviour on the double', () => {
  let made: BackendOnDouble;
  let backend: VaultKvBackend;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0, maxValueBytes: 4096 }, { throttle: false });
    backend = made.backend;
  });
  afterAll(() => made?.close());

  const kvMeta = (secretId: string) =>
    (made.double.faults.kv().readMetadata(backend.pathOf(secretId)) as { data: Record<string, unknown> })
      .data as {
      max_versions: number;
      current_version: number;
      custom_metadata: Record<string, string>;
      versions: Record<string, { destroyed: boolean }>;
    };

  it('declares its limits and refuses an oversized value before sending anything', async () => {
    expect(backend.limits).toEqual({ maxValueBytes: 4096, maxVersionsPerSecret: 61 });
    made.double.faults.resetCounts();
    const planted = `PLANTED-${'z'.repeat(5000)}`;
    const err = await rejection(backend.put({ secretId: id(1), version: 1 }, { blob: planted }));
    expect(err.code).toBe('payload_too_large');
    expect(everything(err)).not.toContain('PLANTED');
    expect(made.double.faults.requestCount()).toBe(0);
  });

  it('keeps 61 versions of one secret and refuses a 62nd with limit_exceeded', async () => {
    const secretId = id(2);
    for (let version = 1; version <= 61; version++) await backend.put({ secretId, version }, { version });
    await backend.put({ secretId, version: 61 }, { version: 'again' });
    const err = await rejection(backend.put({ secretId, version: 62 }, { version: 62 }));
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'limit_exceeded', vendorCode: 'custom_metadata_keys' });
    expect(await backend.get({ secretId, version: 1 })).toEqual({ version: 1 });
    expect(await backend.get({ secretId, version: 61 })).toEqual({ version: 'again' });
  });

  it('puts the same ref again as a new KV version and destroys the one it replaced', async () => {
    const secretId = id(3);
    await backend.put({ secretId, version: 1 }, { a: 1 });
    await backend.put({ secretId, version: 1 }, { a: 2 });
    const meta = kvMeta(secretId);
    expect(meta.current_version).toBe(2);
    expect(meta.versions['1']!.destroyed).toBe(true);
    expect(meta.custom_metadata['coffer-v1']).toBe('2');
    expect(await backend.get({ secretId, version: 1 })).toEqual({ a: 2 });
  });

  it('keeps max_versions above what the kept versions span, however often one is replaced', async () => {
    const secretId = id(4);
    await backend.put({ secretId, version: 1 }, { first: true });
    for (let i = 0; i < 40; i++) await backend.put({ secretId, version: 2 }, { i });
    const meta = kvMeta(secretId);
    expect(meta.max_versions).toBeGreaterThanOrEqual(meta.current_version);
    expect(await backend.get({ secretId, version: 1 })).toEqual({ first: true });
    expect(await backend.get({ secretId, version: 2 })).toEqual({ i: 39 });
  });

  it('finds versions again from their data when the index in custom_metadata was lost', async () => {
    const secretId = id(5);
    for (let version = 1; version <= 3; version++) await backend.put({ secretId, version }, { version });
    const labels = Object.fromEntries(
      Object.entries(kvMeta(secretId).custom_metadata).filter(([k]) => !k.startsWith('coffer-v')),
    );
    made.double.faults.kv().writeMetadata(backend.pathOf(secretId), { custom_metadata: labels });
    expect(await backend.get({ secretId, version: 2 })).toEqual({ version: 2 });
    expect(await backend.list({ secretId })).toEqual([1, 2, 3].map((version) => ({ secretId, version })));
    await backend.put({ secretId, version: 4 }, { version: 4 });
    expect(
      Object.keys(kvMeta(secretId).custom_metadata)
        .filter((k) => k.startsWith('coffer-v'))
        .sort(),
    ).toEqual(['coffer-v1', 'coffer-v2', 'coffer-v3', 'coffer-v4']);
  });

  it('lets two replicas write versions of one secret at once: Vault refuses the loser, which goes again', async () => {
    const secretId = id(6);
    const replica = await made.another({ writesPerSecond: 0 }, made.deploymentId);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? backend : replica).put({ secretId, version: i + 1 }, { v: i + 1 }),
      ),
    );
    for (let v = 1; v <= 12; v++) expect(await replica.get({ secretId, version: v })).toEqual({ v });
    expect(await backend.list({ secretId })).toHaveLength(12);
  });

  it('deletes the metadata with the last version, so nothing is left at the path', async () => {
    const secretId = id(7);
    await backend.put({ secretId, version: 1 }, { a: 1 });
    await backend.put({ secretId, version: 2 }, { a: 2 });
    await backend.delete({ secretId, version: 1 });
    expect(kvMeta(secretId).versions['1']!.destroyed).toBe(true);
    await backend.delete({ secretId, version: 2 });
    expect(made.double.faults.kv().keys()).not.toContain(backend.pathOf(secretId));
    await backend.put({ secretId, version: 3 }, { a: 3 });
    expect(await backend.list({ secretId })).toEqual([{ secretId, version: 3 }]);
  });

  it('refuses to read or delete a secret another deployment owns, and does not list it', async () => {
    const secretId = id(8);
    const other = await made.another({ writesPerSecond: 0 }, '99999999-9999-4999-8999-999999999999');
    await other.put({ secretId, version: 1 }, { theirs: true });
    const read = await rejection(backend.get({ secretId, version: 1 }));
    expect(read.code).toBe('integrity');
    expect((await rejection(backend.delete({ secretId, version: 1 }))).code).toBe('integrity');
    expect((await rejection(backend.put({ secretId, version: 2 }, { mine: true }))).code).toBe('integrity');
    expect(await backend.list({ secretId })).toEqual([]);
    expect((await backend.list()).some((r) => r.secretId === secretId)).toBe(false);
    expect(await other.get({ secretId, version: 1 })).toEqual({ theirs: true });
  });

  it('refuses data whose own labels name another deployment, even under its own metadata', async () => {
    const secretId = id(9);
    await backend.put({ secretId, version: 1 }, { a: 1 });
    const kv = made.double.faults.kv();
    const path = backend.pathOf(secretId);
    kv.writeData(path, {
      options: { cas: 1 },
      data: {
        'coffer-deployment': 'someone-else',
        'coffer-cluster': 'contract',
        'coffer-secret-id': secretId,
        'coffer-version': '1',
        values: { a: 'forged' },
      },
    });
    const custom = kvMeta(secretId).custom_metadata;
    kv.writeMetadata(path, { custom_metadata: { ...custom, 'coffer-v1': '2' } });
    expect((await rejection(backend.get({ secretId, version: 1 }))).code).toBe('integrity');
  });
});
