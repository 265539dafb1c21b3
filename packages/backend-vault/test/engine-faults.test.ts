import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-vault/double';
import {
  assertNoOrphans,
  type CofferFixture,
  createCofferFixture,
  refsIn,
  secretsPerBackend,
} from '@coffer/core/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { everything, rejection, useEnv } from './support.js';

// Engine-level faults: a Coffer on SQLite whose active backend is the Vault double. The backend
// is configured by its type alone (`vault-kv`), so this also checks the store-package registry.
const planted = `PLANTED-vault-${Math.random().toString(36).slice(2)}`;

async function fixtureOn(
  double: StoreDoubleHandle,
  settings: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture('sqlite', {
    backends: {
      store: {
        type: 'vault-kv',
        ...double.settings,
        writesPerSecond: 0,
        maxAttempts: 3,
        requestTimeoutMs: 400,
        ...settings,
      },
    },
    backend: 'store',
  });
}

describe('vault-kv under faults, through the engine', () => {
  let double: StoreDoubleHandle;
  let fx: CofferFixture;
  let restoreEnv: () => void;
  const errors: unknown[] = [];
  const pathOf = (secretId: string) => `coffer/${secretId}`;

  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
    restoreEnv = useEnv(double.env);
    fx = await fixtureOn(double);
  });
  afterEach(() => double.faults.clear());
  afterAll(async () => {
    await fx?.close();
    await double?.close();
    restoreEnv?.();
  });

  it('retries 429 (a rate limit quota) as Retry-After asks, and succeeds', async () => {
    double.faults.resetCounts();
    double.faults.inject(
      { kind: 'status', status: 429, retryAfterSeconds: 0 },
      { count: 2, operation: 'kv.data.write' },
    );
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'throttled',
      kind: 'generic',
      values: { token: `${planted}-throttled` },
    });
    expect(double.faults.requestCount('kv.data.write')).toBe(3);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-throttled` });
  });

  it('retries 412 (a standby not caught up with X-Vault-Index) and a dropped connection', async () => {
    double.faults.inject({ kind: 'status', status: 412 }, { count: 1, operation: 'kv.metadata.read' });
    double.faults.inject({ kind: 'drop' }, { count: 1, operation: 'kv.data.write' });
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'eventually',
      kind: 'generic',
      values: { token: `${planted}-412` },
    });
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-412` });
  });

  it('gives backend_unavailable (server_error) on persistent 500s and writes nothing half', async () => {
    const before = await fx.coffer.secrets.list(fx.admin.actor);
    double.faults.inject({ kind: 'status', status: 500 }, { count: 50, operation: 'kv.data.write' });
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'fails',
        kind: 'generic',
        values: { token: `${planted}-500` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: '500', attempts: 3 });
    double.faults.clear();
    const after = await fx.coffer.secrets.list(fx.admin.actor);
    expect(after.items.map((s) => s.id)).toEqual(before.items.map((s) => s.id));
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('tells a sealed Vault (503) apart, and works again once unsealed', async () => {
    double.faults.seal();
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'sealed',
        kind: 'generic',
        values: { token: `${planted}-sealed` },
      }),
    );
    double.faults.unseal();
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: 'sealed', attempts: 3 });
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'unsealed',
      kind: 'generic',
      values: { token: `${planted}-unsealed` },
    });
    expect((await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true })).values).toEqual({
      token: `${planted}-unsealed`,
    });
  });

  it('fails an update whose index write fails, keeps version 1 and leaves no readable orphan', async () => {
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'kept',
      kind: 'generic',
      values: { token: `${planted}-v1` },
    });
    double.faults.inject({ kind: 'status', status: 500 }, { count: 3, operation: 'kv.metadata.write' });
    const err = await rejection(
      fx.coffer.secrets.update(fx.admin.actor, made.id, { values: { token: `${planted}-v2` } }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: '500' });
    double.faults.clear();
    expect((await fx.coffer.secrets.get(fx.admin.actor, made.id)).currentVersion).toBe(1);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-v1` });
    // the KV version written for v2 was destroyed by the engine's undo
    const kvMeta = double.faults.kv().readMetadata(pathOf(made.id)) as {
      data: { versions: Record<string, { destroyed: boolean }> };
    };
    expect(Object.values(kvMeta.data.versions).filter((v) => !v.destroyed)).toHaveLength(1);
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('gives backend_unavailable (timeout) when Vault does not answer in time', async () => {
    double.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 3, operation: 'kv.data.write' });
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'slow',
        kind: 'generic',
        values: { token: `${planted}-slow` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'timeout', vendorCode: 'timeout', attempts: 3 });
    double.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('moves secrets from the store to sql and back, verified', async () => {
    const back = await fx.reopen({}, { backend: 'sql' });
    await back.migration.start(fx.admin.actor, { target: 'sql' });
    await back.migration.wait();
    const status = await back.migration.status(fx.admin.actor);
    expect(status.failed, JSON.stringify(status.failures ?? [])).toBe(0);
    const count = (await back.secrets.list(fx.admin.actor)).items.length;
    expect(count).toBeGreaterThan(2);
    expect(await secretsPerBackend(back)).toEqual({ sql: count });
    expect(await refsIn(back, 'store')).toEqual([]);
    await back.migration.start(fx.admin.actor, { target: 'store' });
    await back.migration.wait();
    expect((await back.migration.status(fx.admin.actor)).failed).toBe(0);
    expect(await secretsPerBackend(back)).toEqual({ store: count });
    await assertNoOrphans(back, ['store', 'sql']);
    for (const secret of (await back.secrets.list(fx.admin.actor)).items) {
      const read = await back.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
      expect(String(read.values.token)).toContain(planted);
    }
  });

  it('reports a path or version removed behind its back as value_not_found, for that secret only', async () => {
    const gone = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'gone',
      kind: 'generic',
      values: { token: `${planted}-gone` },
    });
    const stays = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'stays',
      kind: 'generic',
      values: { token: `${planted}-stays` },
    });
    double.faults.kv().deleteMetadata(pathOf(gone.id));
    const err = await rejection(fx.coffer.secrets.readValues(fx.admin.actor, gone.id, { reveal: true }));
    errors.push(err);
    expect(err.code).toBe('value_not_found');
    await fx.coffer.secrets.update(fx.admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
    double.faults.kv().destroyVersions(pathOf(stays.id), { versions: [1] });
    const old = await rejection(
      fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true, version: 1 }),
    );
    errors.push(old);
    expect(old.code).toBe('value_not_found');
    const current = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(current.values).toEqual({ token: `${planted}-stays-2` });
  });

  it('never lets a planted value into errors, the log or the audit records', async () => {
    expect(errors.length).toBeGreaterThan(4);
    for (const err of errors) expect(everything(err)).not.toContain(planted);
    expect(fx.logText()).not.toContain(planted);
    let exported = '';
    for await (const line of fx.coffer.audit.export(fx.admin.actor, {})) exported += line;
    expect(exported.length).toBeGreaterThan(0);
    expect(exported).not.toContain(planted);
  });
});

describe('vault-kv with wrong credentials or address', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
  });
  afterAll(() => double?.close());

  async function failureWith(env: Record<string, string>, settings: Record<string, unknown> = {}) {
    const restore = useEnv(env);
    const fx = await fixtureOn(double, settings);
    try {
      const err = await rejection(
        fx.coffer.secrets.create(fx.admin.actor, {
          name: 'denied',
          kind: 'generic',
          values: { token: planted },
        }),
      );
      expect(everything(err)).not.toContain(planted);
      expect(fx.logText()).not.toContain(planted);
      expect(err.code).toBe('backend_unavailable');
      expect((await fx.coffer.secrets.list(fx.admin.actor)).items).toEqual([]);
      return err.details;
    } finally {
      await fx.close();
      restore();
    }
  }

  it('a token Vault does not know is unauthenticated', async () => {
    expect(await failureWith({ ...double.env, VAULT_TOKEN: 'hvs.not-a-token' })).toMatchObject({
      reason: 'unauthenticated',
      vendorCode: '403',
    });
  });

  it('no token at all is unauthenticated (no_token), without a request', async () => {
    double.faults.resetCounts();
    const { VAULT_TOKEN: _, ...env } = double.env;
    expect(await failureWith(env)).toMatchObject({ reason: 'unauthenticated', vendorCode: 'no_token' });
    expect(double.faults.requestCount()).toBe(0);
  });

  it('a read-only token is permission_denied', async () => {
    expect(await failureWith({ ...double.env, VAULT_TOKEN: double.faults.tokens.readOnly })).toMatchObject({
      reason: 'permission_denied',
      vendorCode: '403',
    });
  });

  it('another mount is permission_denied for a token whose policy does not cover it', async () => {
    expect(await failureWith(double.env, { mount: 'other' })).toMatchObject({ reason: 'permission_denied' });
  });

  it('an address nobody listens on is unreachable (ECONNREFUSED, retried)', async () => {
    expect(await failureWith(double.env, { address: 'http://127.0.0.1:9' })).toMatchObject({
      reason: 'unreachable',
      vendorCode: 'ECONNREFUSED',
      attempts: 3,
    });
  });
});
