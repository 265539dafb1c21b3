import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import {
  type DoublePrincipal,
  defaultThrottle,
  type FaultAction,
  FaultPlan,
  startKubernetesServer,
  type ThrottleLimits,
  type Verb,
} from './k8s-server.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { SecretStore, secretJson as secretJsonOf } from './secret-store.js';
import { doubleTls } from './tls.js';

export { apiGroups, apiVersions, coreV1Resources, doubleVersion, secretTable } from './discovery.js';
export {
  type DoublePrincipal,
  defaultThrottle,
  type FaultAction,
  FaultPlan,
  maxRequestBodyBytes,
  startKubernetesServer,
  type ThrottleLimits,
  type Verb,
} from './k8s-server.js';
export { KubeStatusError } from './k8s-status.js';
export { jsonMergePatch, jsonPatch, strategicMergePatch } from './patches.js';
export {
  maxSecretBytes,
  type SecretPage,
  SecretStore,
  type StoredSecret,
  secretJson,
} from './secret-store.js';
export {
  labelValueProblem,
  parseLabelSelector,
  parseSecretFieldSelector,
  qualifiedNameProblem,
} from './selectors.js';
export { doubleTls, opensslPath } from './tls.js';

/** The verbs RBAC's `view`-like role grants on secrets: read, never write. */
export const readOnlyVerbs: ReadonlySet<Verb> = new Set<Verb>(['get', 'list', 'watch']);

/** Fault injection and state of a running double. */
export interface KubernetesFaults {
  /** The next `count` requests (of `verb`, on Secret `name`, or any) meet `action`. */
  inject(action: FaultAction, options?: { count?: number; verb?: Verb; name?: string }): void;
  /** Drops faults not yet used. */
  clear(): void;
  /** Requests that reached the double, of one verb or in all (refused ones too). */
  requestCount(verb?: Verb): number;
  resetCounts(): void;
  /** Deletes a Secret behind the client's back. */
  removeSecret(name: string, namespace?: string): boolean;
  /** Changes a Secret behind the client's back (a new resourceVersion). */
  modifySecret(
    name: string,
    change: {
      labels?: Record<string, string>;
      data?: Record<string, string>;
      annotations?: Record<string, string>;
    },
    namespace?: string,
  ): boolean;
  /** A Secret as stored (wire form), or undefined. */
  secret(name: string, namespace?: string): Record<string, unknown> | undefined;
  /** Names of the Secrets in a namespace (default: the double's). */
  secretNames(namespace?: string): string[];
  createNamespace(name: string): void;
  deleteNamespace(name: string): boolean;
  /** Forgets every continue token handed out, as an etcd compaction does. */
  compact(): void;
  /** The double's kubeconfig file and its contexts: `main` (all verbs), `readOnly`, `wrongToken`. */
  kubeconfig: { path: string; contexts: { main: string; readOnly: string; wrongToken: string } };
  /** Bearer tokens of the principals. */
  tokens: { main: string; readOnly: string };
  /** The CA certificate file of an HTTPS double (undefined for plain HTTP). */
  caFile: string | undefined;
  /**
   * A service-account tree (`<root>/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}`)
   * and the environment a pod has, for in-cluster loading with `loadFromCluster(root)`.
   */
  inCluster: { root: string; env: Record<string, string> } | undefined;
}

/** What every store double of Coffer hands its tests and the benchmark. */
export interface StoreDoubleHandle {
  /** The double's base URL. */
  url: string;
  /** Backend settings (without `type`) that point an instance at this double. */
  settings: Record<string, unknown>;
  /** Environment variables for clients that read the usual places (KUBECONFIG); the caller sets them. */
  env: Record<string, string>;
  /** One write through the vendor SDK alone, nothing of Coffer around it (the benchmark's baseline). */
  rawPut(name: string, value: string): Promise<void>;
  /** Fault injection and state, for tests. */
  faults: KubernetesFaults;
  close(): Promise<void>;
}

export interface StoreDoubleOptions {
  /** Throttle with 429 TooManyRequests like API Priority and Fairness (default true), or these limits. */
  throttle?: boolean | Partial<ThrottleLimits>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** Serve HTTPS with a self-signed CA (default true; needs openssl). */
  tls?: boolean;
  /** The namespace the settings point at (default `coffer`); it exists from the start. */
  namespace?: string;
  /** How long continue tokens stay valid (default 5 minutes). */
  continueTtlMs?: number;
}

/**
 * Starts a local Kubernetes API server for Secrets on 127.0.0.1 (HTTPS with its own CA by
 * default), writes a kubeconfig for it and returns the settings that point Coffer at it.
 *
 * @example
 * const double = await startStoreDouble();
 * const config = { type: 'kubernetes', ...double.settings }; // namespace, kubeconfigPath
 * // kubectl --kubeconfig "$(double.faults.kubeconfig.path)" get secrets
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const namespace = options.namespace ?? 'coffer';
  const store = new SecretStore(options.continueTtlMs ?? 300_000);
  for (const ns of ['default', 'kube-system', namespace]) store.createNamespace(ns);
  const plan = new FaultPlan();
  const main: DoublePrincipal = {
    token: `coffer-double-main-${randomBytes(16).toString('hex')}`,
    user: `system:serviceaccount:${namespace}:coffer`,
  };
  const reader: DoublePrincipal = {
    token: `coffer-double-reader-${randomBytes(16).toString('hex')}`,
    user: `system:serviceaccount:${namespace}:coffer-reader`,
    verbs: readOnlyVerbs,
  };
  const useTls = options.tls ?? true;
  const tls = useTls ? await doubleTls() : undefined;
  const throttle = options.throttle ?? true;
  const running = await startKubernetesServer({
    store,
    principals: [main, reader],
    faults: plan,
    throttle: throttle === false ? false : { ...defaultThrottle, ...(throttle === true ? {} : throttle) },
    ...(tls === undefined ? {} : { tls: { key: tls.serverKey, cert: tls.serverCert } }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'coffer-k8s-double-'));
  const caFile = tls === undefined ? undefined : join(dir, 'ca.crt');
  if (caFile !== undefined) writeFileSync(caFile, tls!.caCert);
  const contexts = {
    main: 'coffer-double',
    readOnly: 'coffer-double-reader',
    wrongToken: 'coffer-double-wrong-token',
  };
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    kubeconfigYaml(running.url, caFile, [
      { name: contexts.main, token: main.token, namespace },
      { name: contexts.readOnly, token: reader.token, namespace },
      {
        name: contexts.wrongToken,
        token: `coffer-double-unknown-${randomBytes(16).toString('hex')}`,
        namespace,
      },
    ]),
    { mode: 0o600 },
  );
  let inCluster: KubernetesFaults['inCluster'];
  if (tls !== undefined) {
    const root = join(dir, 'pod');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), main.token, { mode: 0o600 });
    writeFileSync(join(sa, 'ca.crt'), tls.caCert);
    writeFileSync(join(sa, 'namespace'), namespace);
    const port = new URL(running.url).port;
    inCluster = { root, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port } };
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const raw = kc.makeApiClient(CoreV1Api);
  return {
    url: running.url,
    settings: { auth: 'kubeconfig', kubeconfigPath, namespace },
    env: { KUBECONFIG: kubeconfigPath },
    async rawPut(name, value) {
      const body: V1Secret = {
        metadata: { name, namespace },
        type: 'Opaque',
        data: { value: Buffer.from(value, 'utf8').toString('base64') },
      };
      try {
        await raw.createNamespacedSecret({ namespace, body });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 409) throw err;
        const current = await raw.readNamespacedSecret({ name, namespace });
        await raw.replaceNamespacedSecret({
          name,
          namespace,
          body: {
            ...body,
            metadata: { name, namespace, resourceVersion: current.metadata?.resourceVersion },
          },
        });
      }
    },
    faults: {
      inject: (action, opts) => plan.inject(action, opts),
      clear: () => plan.clear(),
      requestCount: (verb) => plan.requestCount(verb),
      resetCounts: () => plan.resetCounts(),
      removeSecret: (name, ns = namespace) => store.removeBehindBack(ns, name),
      modifySecret: (name, change, ns = namespace) => store.modifyBehindBack(ns, name, change),
      secret: (name, ns = namespace) => {
        const found = store.peek(ns, name);
        return found === undefined ? undefined : secretJsonOf(found);
      },
      secretNames: (ns = namespace) => store.names(ns),
      createNamespace: (name) => store.createNamespace(name),
      deleteNamespace: (name) => store.deleteNamespace(name),
      compact: () => store.compact(),
      kubeconfig: { path: kubeconfigPath, contexts },
      tokens: { main: main.token, readOnly: reader.token },
      caFile,
      inCluster,
    },
    async close() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
