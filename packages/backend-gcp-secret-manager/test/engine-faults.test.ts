import gcpSecretManager from '@coffer/backend-gcp-secret-manager';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-gcp-secret-manager/double';
import type { BackendDefinition } from '@coffer/core';
import {
  assertNoOrphans,
  type CofferFixture,
  createCofferFixture,
  refsIn,
  secretsPerBackend,
} from '@coffer/core/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useEnv } from './support.js';

// Engine-level faults: a Coffer on SQLite whose active backend is the Secret Manager double.
const definitions = [gcpSecretManager as BackendDefinition];
const planted = `PLANTED-gcp-${Math.random().toString(36).slice(2)}`;

function everything(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; details?: unknown; cause?: unknown };
  return [
    e.name,
    e.message,
    e.stack,
    JSON.stringify(e.details ?? {}),
    String(e.code),
    everything(e.cause ?? ''),
  ].join('\n');
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error('expected the operation to fail');
}

async function fixtureOn(
  double: StoreDoubleHandle,
  settings: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture(
    'sqlite',
    {
      backends: {
        store: {
          type: 'gcp-secret-manager',
          ...double.settings,
          writesPerSecond: 0,
          maxAttempts: 3,
          requestTimeoutMs: 400,
          ...settings,
        },
      },
      backend: 'store',
    },
    { backendDefinitions: definitions },
  );
}

describe('gcp-secret-manager under faults, through the engine', () => {
  let double: StoreDoubleHandle;
  let fx: CofferFixture;
  let restoreEnv: () => void;
  const errors: unknown[] = [];

  beforeAll(async () => {
    double = await startStoreDouble();
    restoreEnv = useEnv(double.env);
    fx = await fixtureOn(double);
  });
  afterEach(() => double.faults.clear());
  afterAll(async () => {
    await fx?.close();
    await double?.close();
    restoreEnv?.();
  });

  const idOf = (secretId: string) => `coffer-${secretId}`;

  it('retries a burst of RESOURCE_EXHAUSTED (429), waiting what RetryInfo asks, and succeeds', async () => {
    double.faults.resetCounts();
    double.faults.inject(
      { kind: 'error', status: 'RESOURCE_EXHAUSTED', retryDelaySeconds: 0.05 },
      { count: 2, rpc: 'AddSecretVersion' },
    );
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'throttled',
      kind: 'generic',
      values: { token: `${planted}-throttled` },
    });
    expect(double.faults.requestCount('AddSecretVersion')).toBe(3);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-throttled` });
  });

  it('gives backend_unavailable (server_error) on persistent 503s and writes nothing half', async () => {
    const before = await fx.coffer.secrets.list(fx.admin.actor);
    const live = double.faults.liveVersionCount();
    double.faults.inject({ kind: 'error', status: 'UNAVAILABLE' }, { count: 50, rpc: 'AddSecretVersion' });
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'fails',
        kind: 'generic',
        values: { token: `${planted}-503` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details.reason).toBe('server_error');
    expect(err.details.vendorCode).toBe('UNAVAILABLE');
    expect(err.details.attempts).toBe(3);
    double.faults.clear();
    const after = await fx.coffer.secrets.list(fx.admin.actor);
    expect(after.items.map((s) => s.id)).toEqual(before.items.map((s) => s.id));
    expect(double.faults.liveVersionCount()).toBe(live);
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('fails an update when moving the alias fails, keeps version 1 and leaves no readable orphan', async () => {
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'kept',
      kind: 'generic',
      values: { token: `${planted}-v1` },
    });
    const live = double.faults.liveVersionCount();
    double.faults.inject({ kind: 'error', status: 'INTERNAL' }, { count: 50, rpc: 'UpdateSecret' });
    const err = await rejection(
      fx.coffer.secrets.update(fx.admin.actor, made.id, { values: { token: `${planted}-v2` } }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: 'INTERNAL' });
    double.faults.clear();
    // the version added for v2 was destroyed again
    expect(double.faults.liveVersionCount()).toBe(live);
    const meta = await fx.coffer.secrets.get(fx.admin.actor, made.id);
    expect(meta.currentVersion).toBe(1);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-v1` });
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('gives backend_unavailable (timeout) when the store does not answer in time', async () => {
    double.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 3, rpc: 'AddSecretVersion' });
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'slow',
        kind: 'generic',
        values: { token: `${planted}-slow` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'timeout', vendorCode: 'DEADLINE_EXCEEDED', attempts: 3 });
    double.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('retries a dropped connection and succeeds', async () => {
    double.faults.inject({ kind: 'drop' }, { count: 1, rpc: 'AddSecretVersion' });
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'dropped',
      kind: 'generic',
      values: { token: `${planted}-dropped` },
    });
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-dropped` });
  });

  it('moves secrets from sql to the store and back, verified', async () => {
    const back = await fx.reopen({ backendDefinitions: definitions }, { backend: 'sql' });
    await back.migration.start(fx.admin.actor, { target: 'sql' });
    await back.migration.wait();
    const status = await back.migration.status(fx.admin.actor);
    expect(status.failures ?? [], JSON.stringify(status.failures ?? [])).toEqual([]);
    expect(status.failed).toBe(0);
    const count = (await back.secrets.list(fx.admin.actor)).items.length;
    expect(count).toBeGreaterThan(2);
    expect(await secretsPerBackend(back)).toEqual({ sql: count });
    expect(await refsIn(back, 'store')).toEqual([]);
    // every version gone: the secrets themselves were deleted
    expect(double.faults.secretIds()).toEqual([]);
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

  it('reports a value deleted or destroyed behind its back as value_not_found, for that secret only', async () => {
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
    expect(double.faults.removeSecret(idOf(gone.id))).toBe(true);
    const err = await rejection(fx.coffer.secrets.readValues(fx.admin.actor, gone.id, { reveal: true }));
    errors.push(err);
    expect(err.code).toBe('value_not_found');
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-stays` });
    await fx.coffer.secrets.update(fx.admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
    expect(double.faults.destroyVersion(idOf(stays.id), 'coffer-v1')).toBe(true);
    const old = await rejection(
      fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true, version: 1 }),
    );
    errors.push(old);
    expect(old.code).toBe('value_not_found');
    const current = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(current.values).toEqual({ token: `${planted}-stays-2` });
  });

  it('never lets a planted value into errors, the log or the audit records', async () => {
    expect(errors.length).toBeGreaterThan(3);
    for (const err of errors) expect(everything(err)).not.toContain(planted);
    expect(fx.logText()).not.toContain(planted);
    let exported = '';
    for await (const line of fx.coffer.audit.export(fx.admin.actor, {})) exported += line;
    expect(exported.length).toBeGreaterThan(0);
    expect(exported).not.toContain(planted);
  });
});

describe('gcp-secret-manager with wrong credentials, project or endpoint', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble();
  });
  afterAll(() => double?.close());

  async function failureWith(env: Record<string, string>, settings: Record<string, unknown>) {
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
      expect(double.faults.secretIds()).toEqual([]);
      return err.details;
    } finally {
      await fx.close();
      restore();
    }
  }

  it('an identity the token exchange does not know is unauthenticated (invalid_grant)', async () => {
    const details = await failureWith(
      { GOOGLE_APPLICATION_CREDENTIALS: double.faults.credentialFiles.unknownIdentity },
      {},
    );
    expect(details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'invalid_grant' });
  });

  it('an identity that may only read is permission_denied (PERMISSION_DENIED)', async () => {
    const details = await failureWith(
      { GOOGLE_APPLICATION_CREDENTIALS: double.faults.credentialFiles.readOnly },
      {},
    );
    expect(details).toMatchObject({ reason: 'permission_denied', vendorCode: 'PERMISSION_DENIED' });
  });

  it('another project is permission_denied', async () => {
    const details = await failureWith(double.env, { projectId: 'someone-elses' });
    expect(details).toMatchObject({ reason: 'permission_denied', vendorCode: 'PERMISSION_DENIED' });
  });

  it('an endpoint nobody listens on is unreachable (ECONNREFUSED, retried)', async () => {
    const details = await failureWith(double.env, { endpoint: 'http://127.0.0.1:9' });
    expect(details).toMatchObject({ reason: 'unreachable', vendorCode: 'ECONNREFUSED', attempts: 3 });
  });
});
