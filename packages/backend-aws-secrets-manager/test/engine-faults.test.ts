import { describeCredentialFailures, everythingIn, rejectionOf } from '@coffer/aws-store-kit/testing';
import awsSecretsManager from '@coffer/backend-aws-secrets-manager';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-aws-secrets-manager/double';
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

// Engine-level faults: a Coffer on SQLite whose active backend is the AWS Secrets Manager double.
const definitions = [awsSecretsManager as BackendDefinition];
const planted = `PLANTED-aws-${Math.random().toString(36).slice(2)}`;

async function fixtureOn(
  double: StoreDoubleHandle,
  settings: Record<string, unknown> = {},
  more: { clusterPrefix?: string } = {},
): Promise<CofferFixture> {
  return createCofferFixture(
    'sqlite',
    {
      ...more,
      backends: {
        store: {
          type: 'aws-secrets-manager',
          ...double.settings,
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

describe('aws-secrets-manager under faults, through the engine', () => {
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

  const nameOf = (secretId: string) => `coffer/${secretId}`;

  it('retries a burst of throttling and succeeds', async () => {
    double.faults.resetCounts();
    double.faults.inject(
      { kind: 'error', status: 400, code: 'ThrottlingException' },
      { count: 2, operation: 'PutSecretValue' },
    );
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'throttled',
      kind: 'generic',
      values: { token: `${planted}-throttled` },
    });
    expect(double.faults.requestCount('PutSecretValue')).toBe(3);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-throttled` });
  });

  it('gives backend_unavailable (server_error) on persistent 500s and writes nothing half', async () => {
    const before = await fx.coffer.secrets.list(fx.admin.actor);
    double.faults.inject(
      { kind: 'error', status: 500, code: 'InternalServiceError' },
      { count: 50, operation: 'PutSecretValue' },
    );
    const err = await rejectionOf(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'fails',
        kind: 'generic',
        values: { token: `${planted}-500` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details.reason).toBe('server_error');
    expect(err.details.vendorCode).toBe('InternalServiceError');
    expect(err.details.attempts).toBe(3);
    double.faults.clear();
    const after = await fx.coffer.secrets.list(fx.admin.actor);
    expect(after.items.map((s) => s.id)).toEqual(before.items.map((s) => s.id));
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('fails an update on 500s and keeps the current version and its value', async () => {
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'kept',
      kind: 'generic',
      values: { token: `${planted}-v1` },
    });
    double.faults.inject(
      { kind: 'error', status: 503, code: 'ServiceUnavailable' },
      { count: 50, operation: 'PutSecretValue' },
    );
    const err = await rejectionOf(
      fx.coffer.secrets.update(fx.admin.actor, made.id, { values: { token: `${planted}-v2` } }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details.reason).toBe('server_error');
    double.faults.clear();
    const meta = await fx.coffer.secrets.get(fx.admin.actor, made.id);
    expect(meta.currentVersion).toBe(1);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-v1` });
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('gives backend_unavailable (timeout) when the store does not answer in time', async () => {
    // an instance of its own with a short request timeout, under a prefix of its own
    const slow = await fixtureOn(double, { requestTimeoutMs: 400 }, { clusterPrefix: 'slow' });
    try {
      double.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 3, operation: 'PutSecretValue' });
      const err = await rejectionOf(
        slow.coffer.secrets.create(slow.admin.actor, {
          name: 'slow',
          kind: 'generic',
          values: { token: `${planted}-slow` },
        }),
      );
      errors.push(err);
      expect(err.code).toBe('backend_unavailable');
      expect(err.details.reason).toBe('timeout');
      double.faults.clear();
      // the delayed requests are answered late; let them land before checking nothing is left over
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await assertNoOrphans(slow.coffer, ['store']);
      expect(slow.logText()).not.toContain(planted);
    } finally {
      await slow.close();
    }
  });

  it('retries a dropped connection and succeeds', async () => {
    double.faults.inject({ kind: 'drop' }, { count: 1, operation: 'PutSecretValue' });
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
    expect(double.faults.secretNames().length).toBeGreaterThan(0); // pending deletion, recovery window
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

  it('reports a value deleted behind its back as value_not_found, for that secret only', async () => {
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
    const err = await rejectionOf(fx.coffer.secrets.readValues(fx.admin.actor, gone.id, { reveal: true }));
    errors.push(err);
    expect(err.code).toBe('value_not_found');
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-stays` });
    // one version removed from a secret with two
    await fx.coffer.secrets.update(fx.admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
    expect(double.faults.removeVersion(nameOf(stays.id), 'coffer-v1')).toBe(true);
    const old = await rejectionOf(
      fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true, version: 1 }),
    );
    expect(old.code).toBe('value_not_found');
    const current = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(current.values).toEqual({ token: `${planted}-stays-2` });
  });

  it('never lets a planted value into errors, the log or the audit records', async () => {
    expect(errors.length).toBeGreaterThan(3);
    for (const err of errors) expect(everythingIn(err)).not.toContain(planted);
    expect(fx.logText()).not.toContain(planted);
    let exported = '';
    for await (const line of fx.coffer.audit.export(fx.admin.actor, {})) exported += line;
    expect(exported.length).toBeGreaterThan(0);
    expect(exported).not.toContain(planted);
  });
});

describeCredentialFailures({
  type: 'aws-secrets-manager',
  definition: awsSecretsManager as BackendDefinition,
  start: () => startStoreDouble({ throttle: false }),
  storedNames: (double) => double.faults.secretNames(),
});
