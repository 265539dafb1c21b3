import { writeFileSync } from 'node:fs';
import { createContractContext } from '@coffer/backend-contract';
import kubernetes, {
  connectKubernetes,
  KubernetesBackend,
  kubernetesLimits,
  secretNameOf,
  valuesKey,
} from '@coffer/backend-kubernetes';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-kubernetes/double';
import type { BackendDefinition } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble, everything, rejection } from './support.js';

const definitions = [kubernetes as BackendDefinition];

async function startError(
  settings: Record<string, unknown>,
  options: { viaStorePackage?: boolean } = {},
): Promise<{ code: string; message: string }> {
  try {
    const fx = await createCofferFixture(
      'sqlite',
      { backends: { k8s: { type: 'kubernetes', ...settings } }, backend: 'k8s' },
      options.viaStorePackage === true ? {} : { backendDefinitions: definitions },
    );
    await fx.close();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the start to fail');
}

/** Sets environment variables for the duration of `work`. */
async function withEnv<T>(env: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const id = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, '0')}`;

describe('kubernetes settings', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
  });
  afterAll(() => double?.close());

  it("refuses bad settings with invalid_config naming each one, never echoing an unknown key's value", async () => {
    const err = await startError({
      namespace: 'Not_A_Namespace',
      auth: 'magic',
      writesPerSecond: -1,
      token: 'never-in-config',
    });
    expect(err.code).toBe('invalid_config');
    for (const path of ['backends.k8s.namespace', 'backends.k8s.auth', 'backends.k8s.writesPerSecond']) {
      expect(err.message).toContain(path);
    }
    expect(err.message).toContain('token');
    expect(err.message).not.toContain('never-in-config');
  });

  it('refuses kubeconfig settings with auth in-cluster', async () => {
    const err = await startError({ auth: 'in-cluster', kubeconfigPath: '/etc/kubeconfig', context: 'prod' });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.k8s.kubeconfigPath');
    expect(err.message).toContain('backends.k8s.context');
  });

  it('fills in the defaults', () => {
    expect(kubernetes.configSchema.parse({ namespace: 'coffer' })).toEqual({
      namespace: 'coffer',
      auth: 'auto',
      maxAttempts: 5,
      requestTimeoutMs: 10_000,
    });
  });

  it('is loaded by type through the store packages, without a backendModules entry', async () => {
    const fx = await createCofferFixture('sqlite', {
      backends: { k8s: { type: 'kubernetes', ...double.settings, writesPerSecond: 0 } },
      backend: 'k8s',
    });
    try {
      const made = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'by-type',
        kind: 'generic',
        values: { token: 'loaded by type' },
      });
      expect(double.faults.secretNames()).toContain(`coffer-${made.id}-v1`);
    } finally {
      await fx.close();
    }
  });

  it("needs a namespace with kubeconfig credentials (no following the context's namespace)", async () => {
    const err = await startError({ auth: 'kubeconfig', kubeconfigPath: double.faults.kubeconfig.path });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.k8s.namespace');
  });

  it('names an unknown context, and a kubeconfig it cannot read, without printing its content', async () => {
    const context = await startError({ ...double.settings, context: 'no-such-context' });
    expect(context.code).toBe('invalid_config');
    expect(context.message).toContain('backends.k8s.context');
    const planted = 'PLANTED-token-in-a-broken-kubeconfig';
    const broken = `${double.faults.kubeconfig.path}.broken`;
    writeFileSync(
      broken,
      `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: ${planted}\n  : [unbalanced\n`,
    );
    const err = await startError({ ...double.settings, kubeconfigPath: broken });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.k8s.kubeconfigPath');
    expect(everything(err)).not.toContain(planted);
    const missing = await startError({ ...double.settings, kubeconfigPath: `${broken}.missing` });
    expect(missing.message).toContain('ENOENT');
  });

  it('says in-cluster needs a pod when there is no service account', async () => {
    const err = await withEnv({ KUBERNETES_SERVICE_HOST: undefined }, () =>
      startError({ auth: 'in-cluster', namespace: 'coffer' }),
    );
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.k8s.auth');
  });

  it('refuses a cluster prefix that is no label value', async () => {
    const made = await createContractContext({ name: 'k8s', clusterPrefix: 'ends-with-' });
    try {
      const config = kubernetes.configSchema.parse(double.settings);
      await expect(
        Promise.resolve().then(() => kubernetes.create(config, made.context)),
      ).rejects.toMatchObject({
        code: 'invalid_config',
      });
    } finally {
      await made.close();
    }
  });

  it('works in a pod: the service account token and CA, the namespace from its file', async () => {
    const pod = double.faults.inCluster!;
    await withEnv(pod.env, async () => {
      const config = kubernetes.configSchema.parse({ auth: 'in-cluster', writesPerSecond: 0 });
      const connection = connectKubernetes(config, { name: 'k8s', inClusterRoot: pod.root });
      expect(connection.auth).toBe('in-cluster');
      expect(connection.namespace).toBe('coffer');
      const made = await createContractContext({ name: 'k8s', clusterPrefix: 'pod' });
      const backend = new KubernetesBackend(connection.api, connection.namespace, config, made.context, () =>
        connection.close(),
      );
      try {
        const ref = { secretId: id(1), version: 1 };
        await backend.put(ref, { from: 'a pod' });
        expect(await backend.get(ref)).toEqual({ from: 'a pod' });
        expect(double.faults.secretNames()).toContain(`pod-${id(1)}-v1`);
      } finally {
        await backend.close();
        await made.close();
      }
    });
  });
});

describe('kubernetes naming, labels and limits', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
  });
  afterAll(() => made?.close());

  it('writes one Opaque Secret per version, named and labelled from the prefix, secret id and version', async () => {
    const ref = { secretId: id(2), version: 7 };
    await made.backend.put(ref, { user: 'alice', port: 5432 });
    const name = `contract-${ref.secretId}-v7`;
    expect(secretNameOf('contract', ref)).toBe(name);
    const secret = made.double.faults.secret(name) as {
      type: string;
      data: Record<string, string>;
      metadata: { labels: Record<string, string> };
    };
    expect(secret.type).toBe('Opaque');
    expect(Object.keys(secret.data)).toEqual([valuesKey]);
    expect(JSON.parse(Buffer.from(secret.data[valuesKey]!, 'base64').toString('utf8'))).toEqual({
      user: 'alice',
      port: 5432,
    });
    expect(secret.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'coffer',
      'coffer.dev/deployment': made.deploymentId,
      'coffer.dev/cluster': 'contract',
      'coffer.dev/secret-id': ref.secretId,
      'coffer.dev/version': '7',
    });
  });

  it('declares the 1 MiB Secret limit and no version limit', () => {
    expect(kubernetesLimits).toEqual({ maxValueBytes: 1_048_576 });
    expect(made.backend.limits).toEqual(kubernetesLimits);
  });

  it('refuses a value over 1 MiB with payload_too_large before sending anything', async () => {
    made.double.faults.resetCounts();
    const planted = `PLANTED-${'z'.repeat(1_048_576)}`;
    const err = await rejection(made.backend.put({ secretId: id(3), version: 1 }, { blob: planted }));
    expect(err.code).toBe('payload_too_large');
    expect(err.details).toMatchObject({ limit: 1_048_576 });
    expect(everything(err)).not.toContain('PLANTED');
    expect(made.double.faults.requestCount()).toBe(0);
  });

  it('stores exactly 1,048,576 bytes, which the API server takes (keys and base64 do not count)', async () => {
    const ref = { secretId: id(4), version: 1 };
    const blob = 'a'.repeat(1_048_576 - '{"b":""}'.length);
    await made.backend.put(ref, { b: blob });
    expect(await made.backend.get(ref)).toEqual({ b: blob });
  });

  it('refuses to read, replace or delete a Secret another deployment labelled', async () => {
    const ref = { secretId: id(5), version: 1 };
    await made.backend.put(ref, { mine: 'no longer' });
    const name = `contract-${ref.secretId}-v1`;
    const labels = (made.double.faults.secret(name) as { metadata: { labels: Record<string, string> } })
      .metadata.labels;
    made.double.faults.modifySecret(name, { labels: { ...labels, 'coffer.dev/deployment': 'someone-else' } });
    expect((await rejection(made.backend.get(ref))).code).toBe('integrity');
    expect((await rejection(made.backend.put(ref, { taken: 'over' }))).code).toBe('integrity');
    expect((await rejection(made.backend.delete(ref))).code).toBe('integrity');
    const kept = made.double.faults.secret(name) as { data: Record<string, string> };
    expect(Buffer.from(kept.data[valuesKey]!, 'base64').toString('utf8')).toBe('{"mine":"no longer"}');
    expect(await made.backend.list({ secretId: ref.secretId })).toEqual([]);
  });

  it('refuses a Secret of the same name that Coffer did not write', async () => {
    const ref = { secretId: id(6), version: 1 };
    const name = `contract-${ref.secretId}-v1`;
    await made.double.rawPut(name, 'made by hand');
    expect((await rejection(made.backend.get(ref))).code).toBe('integrity');
    expect((await rejection(made.backend.put(ref, { a: 1 }))).code).toBe('integrity');
    expect(made.double.faults.secret(name)).toMatchObject({
      data: { value: Buffer.from('made by hand').toString('base64') },
    });
  });

  it('lists only its own Secrets, also when others share the namespace', async () => {
    const other = await backendOnDouble({ writesPerSecond: 0 }, { double: made.double });
    try {
      await other.backend.put({ secretId: id(7), version: 1 }, { other: true });
      await made.double.rawPut('unrelated', 'x');
      const listed = await made.backend.list();
      expect(listed.map((r) => r.secretId)).not.toContain(id(7));
      expect(await other.backend.list()).toEqual([{ secretId: id(7), version: 1 }]);
    } finally {
      await other.close();
    }
  });
});
