import azureKeyVault, { secretNameOf } from '@coffer/backend-azure-key-vault';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-azure-key-vault/double';
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

// Engine-level faults: a Coffer on SQLite whose active backend is the Key Vault double.
const definitions = [azureKeyVault as BackendDefinition];
const planted = `PLANTED-azure-${Math.random().toString(36).slice(2)}`;

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
          type: 'azure-key-vault',
          ...double.settings,
          writesPerSecond: 0,
          maxAttempts: 3,
          requestTimeoutMs: 5_000,
          ...settings,
        },
      },
      backend: 'store',
    },
    { backendDefinitions: definitions },
  );
}

const nameOf = (secretId: string) => secretNameOf('coffer', secretId);

describe('azure-key-vault under faults, through the engine', () => {
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

  it('retries a burst of 429 Throttled, waiting what Retry-After asks, and succeeds', async () => {
    // a first write, so the bearer challenge is behind us
    await fx.coffer.secrets.create(fx.admin.actor, { name: 'warm', kind: 'generic', values: { a: 'b' } });
    double.faults.resetCounts();
    double.faults.inject(
      { kind: 'error', status: 429, code: 'Throttled', retryAfterSeconds: 1 },
      { count: 2, operation: 'SetSecret' },
    );
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'throttled',
      kind: 'generic',
      values: { token: `${planted}-throttled` },
    });
    expect(double.faults.requestCount('SetSecret')).toBe(3);
    // both waits were the second Retry-After asked for (the backoff alone stays far below it)
    const waits = fx
      .logText()
      .split('\n')
      .filter((line) => line.includes('retrying a Key Vault call') && line.includes('"Throttled"'))
      .map((line) => (JSON.parse(line) as { delayMs: number }).delayMs);
    expect(waits).toEqual([1000, 1000]);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-throttled` });
  });

  it('gives backend_unavailable (server_error) on persistent 500s and writes nothing half', async () => {
    const before = await fx.coffer.secrets.list(fx.admin.actor);
    const live = double.faults.enabledVersionCount();
    double.faults.inject(
      { kind: 'error', status: 500, code: 'InternalServerError' },
      { count: 50, operation: 'SetSecret' },
    );
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'fails',
        kind: 'generic',
        values: { token: `${planted}-500` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({
      reason: 'server_error',
      vendorCode: 'InternalServerError',
      attempts: 3,
    });
    double.faults.clear();
    const after = await fx.coffer.secrets.list(fx.admin.actor);
    expect(after.items.map((s) => s.id)).toEqual(before.items.map((s) => s.id));
    expect(double.faults.enabledVersionCount()).toBe(live);
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('fails an update when disabling the replaced version fails, and keeps version 1 readable', async () => {
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'kept',
      kind: 'generic',
      values: { token: `${planted}-v1` },
    });
    double.faults.inject(
      { kind: 'error', status: 503, code: 'ServiceUnavailable' },
      { count: 50, operation: 'GetSecretVersions' },
    );
    const err = await rejection(
      fx.coffer.secrets.update(fx.admin.actor, made.id, { values: { token: `${planted}-v2` } }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: 'ServiceUnavailable' });
    double.faults.clear();
    const meta = await fx.coffer.secrets.get(fx.admin.actor, made.id);
    expect(meta.currentVersion).toBe(1);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-v1` });
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('gives backend_unavailable (timeout) when the vault does not answer in time', async () => {
    const quick = await fixtureOn(double, { requestTimeoutMs: 300, maxAttempts: 2 });
    try {
      // a first write, so the bearer challenge is behind us
      await quick.coffer.secrets.create(quick.admin.actor, {
        name: 'warm',
        kind: 'generic',
        values: { a: 'b' },
      });
      double.faults.inject({ kind: 'delay', ms: 700 }, { count: 2, operation: 'SetSecret' });
      const err = await rejection(
        quick.coffer.secrets.create(quick.admin.actor, {
          name: 'slow',
          kind: 'generic',
          values: { token: `${planted}-slow` },
        }),
      );
      errors.push(err);
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({ reason: 'timeout', vendorCode: 'Timeout', attempts: 2 });
      expect(quick.logText()).not.toContain(planted);
      double.faults.clear();
      // the delayed sets land after the client gave up: nothing the metadata names is missing
      await new Promise((resolve) => setTimeout(resolve, 800));
      await assertNoOrphans(quick.coffer, ['store']);
    } finally {
      await quick.close();
    }
  });

  it('retries a dropped connection and succeeds', async () => {
    double.faults.inject({ kind: 'drop' }, { count: 1, operation: 'SetSecret' });
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'dropped',
      kind: 'generic',
      values: { token: `${planted}-dropped` },
    });
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-dropped` });
  });

  it('moves secrets from the vault to sql and back, the names pending deletion recovered', async () => {
    const back = await fx.reopen({ backendDefinitions: definitions }, { backend: 'sql' });
    await back.migration.start(fx.admin.actor, { target: 'sql' });
    await back.migration.wait();
    const status = await back.migration.status(fx.admin.actor);
    expect(status.failures ?? [], JSON.stringify(status.failures ?? [])).toEqual([]);
    const count = (await back.secrets.list(fx.admin.actor)).items.length;
    expect(count).toBeGreaterThan(2);
    expect(await secretsPerBackend(back)).toEqual({ sql: count });
    expect(await refsIn(back, 'store')).toEqual([]);
    // every secret deleted with its last version, soft: pending deletion, not purged
    const names = (await back.secrets.list(fx.admin.actor)).items.map((s) => nameOf(s.id));
    expect(double.faults.secretNames().filter((n) => names.includes(n))).toEqual([]);
    expect(double.faults.deletedNames()).toEqual(expect.arrayContaining(names));
    await back.migration.start(fx.admin.actor, { target: 'store' });
    await back.migration.wait();
    expect((await back.migration.status(fx.admin.actor)).failed).toBe(0);
    expect(await secretsPerBackend(back)).toEqual({ store: count });
    // writing a name pending deletion recovered it
    expect(double.faults.deletedNames().filter((n) => names.includes(n))).toEqual([]);
    await assertNoOrphans(back, ['store', 'sql']);
    for (const secret of (await back.secrets.list(fx.admin.actor)).items) {
      const read = await back.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
      expect(String(read.values.token ?? read.values.a)).toBeTruthy();
    }
  });

  it('reports a secret deleted or a version disabled behind its back as value_not_found, for that secret only', async () => {
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
    expect(double.faults.removeSecret(nameOf(gone.id))).toBe(true);
    const err = await rejection(fx.coffer.secrets.readValues(fx.admin.actor, gone.id, { reveal: true }));
    errors.push(err);
    expect(err.code).toBe('value_not_found');
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-stays` });
    await fx.coffer.secrets.update(fx.admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
    expect(double.faults.disableCofferVersion(nameOf(stays.id), 1)).toBe(1);
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

describe('azure-key-vault with wrong credentials, permissions, trust or endpoint', () => {
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
      expect(double.faults.storedValues().join('\n')).not.toContain(planted);
      return err.details;
    } finally {
      await fx.close();
      restore();
    }
  }

  it('a wrong client secret is unauthenticated (AADSTS7000215), never retried', async () => {
    const details = await failureWith(double.faults.identities.wrongSecret.env, {});
    expect(details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'AADSTS7000215' });
    expect(details.attempts ?? 1).toBe(1);
  });

  it('no credentials at all is unauthenticated (CredentialUnavailable)', async () => {
    const details = await failureWith({ AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential' }, {});
    expect(details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'CredentialUnavailable' });
  });

  it('an identity that may only read is permission_denied (ForbiddenByRbac)', async () => {
    const details = await failureWith(double.faults.identities.reader.env, {});
    expect(details).toMatchObject({ reason: 'permission_denied', vendorCode: 'ForbiddenByRbac' });
  });

  it('a vault whose certificate is not trusted is unreachable: TLS is never weakened', async () => {
    const details = await failureWith(double.env, { caCertificatesFile: undefined });
    expect(details.reason).toBe('unreachable');
    expect(String(details.vendorCode)).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it('an endpoint nobody listens on is unreachable (ECONNREFUSED, retried)', async () => {
    const details = await failureWith(double.env, { vaultUrl: 'https://127.0.0.1:9' });
    expect(details).toMatchObject({ reason: 'unreachable', vendorCode: 'ECONNREFUSED', attempts: 3 });
  });
});
