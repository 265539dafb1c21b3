import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import kubernetes from '@coffer/backend-kubernetes';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-kubernetes/double';
import type { BackendDefinition } from '@coffer/core';
import {
  assertNoOrphans,
  type CofferFixture,
  createCofferFixture,
  refsIn,
  secretsPerBackend,
} from '@coffer/core/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble, everything, rejection } from './support.js';

// Engine-level faults: a Coffer on SQLite whose active backend is the Kubernetes double.
const definitions = [kubernetes as BackendDefinition];
const planted = `PLANTED-k8s-${Math.random().toString(36).slice(2)}`;

async function fixtureOn(
  double: StoreDoubleHandle,
  settings: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture(
    'sqlite',
    {
      backends: {
        store: {
          type: 'kubernetes',
          ...double.settings,
          writesPerSecond: 0,
          maxAttempts: 3,
          requestTimeoutMs: 1_000,
          ...settings,
        },
      },
      backend: 'store',
    },
    { backendDefinitions: definitions },
  );
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('kubernetes under faults, through the engine', () => {
  let double: StoreDoubleHandle;
  let fx: CofferFixture;
  const errors: unknown[] = [];

  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
    fx = await fixtureOn(double);
  });
  afterEach(() => double.faults.clear());
  afterAll(async () => {
    await fx?.close();
    await double?.close();
  });

  const nameOf = (secretId: string, version = 1) => `coffer-${secretId}-v${version}`;

  it('retries 429 TooManyRequests (API Priority and Fairness), waiting what Retry-After asks, and succeeds', async () => {
    double.faults.resetCounts();
    double.faults.inject(
      { kind: 'status', code: 429, reason: 'TooManyRequests', retryAfterSeconds: 0.05 },
      { count: 2, verb: 'create' },
    );
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'throttled',
      kind: 'generic',
      values: { token: `${planted}-throttled` },
    });
    expect(double.faults.requestCount('create')).toBe(3);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-throttled` });
  });

  it('gives backend_unavailable (server_error) on persistent 500s and writes nothing half', async () => {
    const before = await fx.coffer.secrets.list(fx.admin.actor);
    const names = double.faults.secretNames();
    double.faults.inject(
      { kind: 'status', code: 500, reason: 'InternalError' },
      { count: 50, verb: 'create' },
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
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: 'InternalError', attempts: 3 });
    double.faults.clear();
    const after = await fx.coffer.secrets.list(fx.admin.actor);
    expect(after.items.map((s) => s.id)).toEqual(before.items.map((s) => s.id));
    expect(double.faults.secretNames()).toEqual(names);
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('fails an update whose write keeps failing, and keeps version 1 readable', async () => {
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'kept',
      kind: 'generic',
      values: { token: `${planted}-v1` },
    });
    double.faults.inject(
      { kind: 'status', code: 503, reason: 'ServiceUnavailable' },
      { count: 50, verb: 'create' },
    );
    const err = await rejection(
      fx.coffer.secrets.update(fx.admin.actor, made.id, { values: { token: `${planted}-v2` } }),
    );
    errors.push(err);
    expect(err.details).toMatchObject({ reason: 'server_error', vendorCode: 'ServiceUnavailable' });
    double.faults.clear();
    expect((await fx.coffer.secrets.get(fx.admin.actor, made.id)).currentVersion).toBe(1);
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-v1` });
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('gives backend_unavailable (timeout) when the API server does not answer in time', async () => {
    const before = double.faults.secretNames().filter((n) => n.startsWith('coffer-')).length;
    double.faults.inject({ kind: 'delay', ms: 2_500 }, { count: 3, verb: 'create' });
    const err = await rejection(
      fx.coffer.secrets.create(fx.admin.actor, {
        name: 'slow',
        kind: 'generic',
        values: { token: `${planted}-slow` },
      }),
    );
    errors.push(err);
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'timeout', vendorCode: 'RequestTimeout', attempts: 3 });
    double.faults.clear();
    // the client went away from each held request, so the API server carried none of them out
    expect(double.faults.secretNames().filter((n) => n.startsWith('coffer-'))).toHaveLength(before);
    await assertNoOrphans(fx.coffer, ['store']);
  });

  it('retries a dropped connection and succeeds', async () => {
    double.faults.inject({ kind: 'drop' }, { count: 1, verb: 'create' });
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'dropped',
      kind: 'generic',
      values: { token: `${planted}-dropped` },
    });
    const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
    expect(read.values).toEqual({ token: `${planted}-dropped` });
  });

  it('moves secrets from the store to sql and back, verified', async () => {
    const back = await fx.reopen({ backendDefinitions: definitions }, { backend: 'sql' });
    await back.migration.start(fx.admin.actor, { target: 'sql' });
    await back.migration.wait();
    const status = await back.migration.status(fx.admin.actor);
    expect(status.failures ?? [], JSON.stringify(status.failures ?? [])).toEqual([]);
    const count = (await back.secrets.list(fx.admin.actor)).items.length;
    expect(count).toBeGreaterThan(2);
    expect(await secretsPerBackend(back)).toEqual({ sql: count });
    // migration.wait() can resolve while the last source copies are still being deleted (seen
    // with the start-up run of a reopened engine), so look until they are gone
    for (let i = 0; i < 50 && (await refsIn(back, 'store')).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await refsIn(back, 'store')).toEqual([]);
    expect(double.faults.secretNames().filter((n) => n.startsWith('coffer-'))).toEqual([]);
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

  it('reports a Secret deleted behind its back as value_not_found, for that version only', async () => {
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
    await fx.coffer.secrets.update(fx.admin.actor, stays.id, { values: { token: `${planted}-stays-2` } });
    expect(double.faults.removeSecret(nameOf(stays.id, 1))).toBe(true);
    const old = await rejection(
      fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true, version: 1 }),
    );
    errors.push(old);
    expect(old.code).toBe('value_not_found');
    const current = await fx.coffer.secrets.readValues(fx.admin.actor, stays.id, { reveal: true });
    expect(current.values).toEqual({ token: `${planted}-stays-2` });
  });

  it('refuses a value a Secret holds for another deployment with integrity', async () => {
    const made = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'relabelled',
      kind: 'generic',
      values: { token: `${planted}-relabelled` },
    });
    const name = nameOf(made.id);
    const labels = (double.faults.secret(name) as { metadata: { labels: Record<string, string> } }).metadata
      .labels;
    double.faults.modifySecret(name, {
      labels: { ...labels, 'coffer.dev/deployment': 'another-deployment' },
    });
    const err = await rejection(fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true }));
    errors.push(err);
    expect(err.code).toBe('integrity');
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

describe('kubernetes with wrong credentials, namespace, endpoint or throttling', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
  });
  afterAll(() => double?.close());

  async function failureWith(settings: Record<string, unknown>) {
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
      expect(double.faults.secretNames()).toEqual([]);
      return err;
    } finally {
      await fx.close();
    }
  }

  it('a token the API server does not know is unauthenticated (401 Unauthorized)', async () => {
    const err = await failureWith({ context: double.faults.kubeconfig.contexts.wrongToken });
    expect(err.details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'Unauthorized' });
  });

  it('a service account that may only read is permission_denied (403 Forbidden)', async () => {
    const err = await failureWith({ context: double.faults.kubeconfig.contexts.readOnly });
    expect(err.details).toMatchObject({ reason: 'permission_denied', vendorCode: 'Forbidden' });
    // the RBAC message names the user and the namespace; it stays out of the error
    expect(err.message).not.toContain('system:serviceaccount');
  });

  it('a namespace that does not exist is rejected, saying so by its code', async () => {
    const err = await failureWith({ namespace: 'no-such-namespace' });
    expect(err.details).toMatchObject({ reason: 'rejected', vendorCode: 'NotFound:namespaces' });
  });

  it('an endpoint nobody listens on is unreachable (ECONNREFUSED, retried)', async () => {
    const port = await closedPort();
    const kubeconfig = `${double.faults.kubeconfig.path}.closed`;
    writeFileSync(
      kubeconfig,
      readFileSync(double.faults.kubeconfig.path, 'utf8').replace(double.url, `https://127.0.0.1:${port}`),
    );
    const err = await failureWith({ kubeconfigPath: kubeconfig });
    expect(err.details).toMatchObject({ reason: 'unreachable', vendorCode: 'ECONNREFUSED', attempts: 3 });
  });

  it("a server whose certificate the kubeconfig's CA did not sign is unreachable, not retried", async () => {
    const kubeconfig = `${double.faults.kubeconfig.path}.noca`;
    writeFileSync(
      kubeconfig,
      readFileSync(double.faults.kubeconfig.path, 'utf8')
        .split('\n')
        .filter((line) => !line.includes('certificate-authority'))
        .join('\n'),
    );
    const err = await failureWith({ kubeconfigPath: kubeconfig });
    expect(err.details.reason).toBe('unreachable');
    expect(String(err.details.vendorCode)).toMatch(/CERT|SIGNATURE/);
    expect(err.details.attempts).toBe(1);
  });
});

describe('kubernetes throttled by the API server', () => {
  it('says throttled (TooManyRequests) when API Priority and Fairness keeps answering 429', async () => {
    // each user's bucket holds 3 requests and refills at one every hundred seconds
    const made = await backendOnDouble(
      { writesPerSecond: 0, maxAttempts: 1 },
      { throttle: { perSecond: 0.01, burst: 3 } },
    );
    try {
      const ref = { secretId: '33333333-4444-4555-8666-777777777777', version: 1 };
      await made.backend.put(ref, { token: planted });
      await made.backend.get(ref);
      await made.backend.get(ref);
      const err = await rejection(made.backend.get(ref));
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({ reason: 'throttled', vendorCode: 'TooManyRequests' });
      expect(everything(err)).not.toContain(planted);
    } finally {
      await made.close();
    }
  });
});
