import { existsSync } from 'node:fs';
import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CofferError } from '@coffer/core';
import {
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  setHeaderMiddleware,
  type V1DeleteOptions,
  type V1Secret,
  type V1SecretList,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import type { KubernetesConfig } from './k8s-config.js';

/** The part of client-node's `CoreV1Api` the backend uses (or a recording stand-in). */
export interface SecretsApiLike {
  createNamespacedSecret(param: { namespace: string; body: V1Secret }): Promise<V1Secret>;
  readNamespacedSecret(param: { name: string; namespace: string }): Promise<V1Secret>;
  replaceNamespacedSecret(param: { name: string; namespace: string; body: V1Secret }): Promise<V1Secret>;
  deleteNamespacedSecret(param: {
    name: string;
    namespace: string;
    propagationPolicy?: string;
    body?: V1DeleteOptions;
  }): Promise<unknown>;
  listNamespacedSecret(param: {
    namespace: string;
    labelSelector?: string;
    limit?: number;
    _continue?: string;
  }): Promise<V1SecretList>;
}

/** A configured connection: the API client, the namespace it works in, and how to let go of it. */
export interface KubernetesConnection {
  api: SecretsApiLike;
  namespace: string;
  /** How the credentials were found: `in-cluster` or `kubeconfig`. */
  auth: 'in-cluster' | 'kubeconfig';
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** The instance name, for error messages naming settings (`backends.<name>.namespace`). */
  name: string;
  /**
   * Where the pod's filesystem starts for in-cluster credentials (`<root>/var/run/secrets/...`);
   * default `/`. Tests point it at a directory laid out like a pod.
   */
  inClusterRoot?: string;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long one TLS agent (connection pool) is reused before the client's fresh one replaces it. */
const agentReuseMs = 300_000;

function invalidConfig(name: string, setting: string | undefined, message: string): CofferError {
  const path = setting === undefined ? `backends.${name}` : `backends.${name}.${setting}`;
  return new CofferError('invalid_config', `${path}: ${message}`, {
    details: { issues: [{ path, message }] },
  });
}

/** A kubeconfig's own complaint (`clusters[0].server is missing`), or its error code; never file content. */
function describeLoadError(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/^(clusters|users|contexts)\[\d+\]\.[\w.-]+ is missing$/.test(message)) return message;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  return err instanceof Error && err.name === 'YAMLException' ? 'not valid YAML' : 'unreadable';
}

function loadInCluster(kc: KubeConfig, name: string, root: string): void {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  const token = join(root, serviceAccountDir, 'token');
  if (host === undefined || host === '' || port === undefined || port === '' || !existsSync(token)) {
    throw invalidConfig(
      name,
      'auth',
      `"in-cluster" needs to run in a pod with a service account token (KUBERNETES_SERVICE_HOST and ${serviceAccountDir}/token)`,
    );
  }
  kc.loadFromCluster(root === '/' ? '' : root);
}

function loadKubeconfig(kc: KubeConfig, name: string, path: string | undefined): void {
  if (path !== undefined) {
    try {
      kc.loadFromFile(path);
    } catch (err) {
      throw invalidConfig(
        name,
        'kubeconfigPath',
        `cannot load the kubeconfig ${path} (${describeLoadError(err)})`,
      );
    }
    return;
  }
  const fromEnv = process.env.KUBECONFIG;
  const home = join(homedir(), '.kube', 'config');
  if ((fromEnv === undefined || fromEnv === '') && !existsSync(home)) {
    throw invalidConfig(
      name,
      'kubeconfigPath',
      'no kubeconfig found: set kubeconfigPath or KUBECONFIG, or create ~/.kube/config',
    );
  }
  try {
    if (fromEnv !== undefined && fromEnv !== '') kc.loadFromDefault();
    else kc.loadFromFile(home);
  } catch (err) {
    throw invalidConfig(
      name,
      'kubeconfigPath',
      `cannot load the kubeconfig from ${fromEnv ? 'KUBECONFIG' : home} (${describeLoadError(err)})`,
    );
  }
}

/** A request that took longer than `requestTimeoutMs`; the error translation reads its name. */
class KubernetesRequestTimeout extends Error {
  override readonly name = 'KubernetesRequestTimeout';
  constructor(ms: number) {
    super(`request timed out after ${ms} ms`);
  }
}

/**
 * An HTTP library that puts a time limit on every request (the abort signal covers the body as
 * well) and reuses one keep-alive TLS agent: client-node makes a new agent, so a new connection
 * and TLS handshake, for every request. The fresh one replaces the kept one every few minutes, so
 * rotated client certificates are picked up.
 */
function timedHttpLibrary(timeoutMs: number) {
  const inner = createConfiguration().httpApi;
  let kept: { agent: HttpAgent | HttpsAgent; since: number } | undefined;
  const library = wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const fresh = request.getAgent();
      if (fresh !== undefined) {
        if (kept === undefined || performance.now() - kept.since > agentReuseMs) {
          // requests on the old agent finish; its idle sockets close as they free up
          const old = kept?.agent;
          kept = { agent: keepAlive(fresh), since: performance.now() };
          if (old !== undefined) setTimeout(() => old.destroy(), timeoutMs).unref();
        }
        request.setAgent(kept.agent);
      }
      const timeout = AbortSignal.timeout(timeoutMs);
      const given = request.getSignal();
      request.setSignal(given === undefined ? timeout : AbortSignal.any([given, timeout]));
      try {
        return await inner.send(request).toPromise();
      } catch (err) {
        // node-fetch reports any abort as a plain AbortError: say that it was the time limit.
        if (timeout.aborted) throw new KubernetesRequestTimeout(timeoutMs);
        throw err;
      }
    },
  });
  return {
    library,
    async close() {
      kept?.agent.destroy();
      kept = undefined;
    },
  };
}

/** The same agent options (CA, client certificate, server name), with connections kept alive. */
function keepAlive(agent: HttpAgent | HttpsAgent): HttpAgent | HttpsAgent {
  const options = (agent as { options?: HttpsAgentOptions }).options ?? {};
  return agent instanceof HttpsAgent
    ? new HttpsAgent({ ...options, keepAlive: true })
    : new HttpAgent({ ...(options as HttpAgentOptions), keepAlive: true });
}

/**
 * Loads credentials the way the settings say (the pod's service account, a kubeconfig file, or
 * as kubectl looks for them) and makes a `CoreV1Api` for the cluster, with a time limit on
 * every request. Problems with the settings are `invalid_config` naming the setting; nothing of
 * a kubeconfig's content (tokens, keys) ever reaches an error.
 *
 * @example
 * const { api, namespace } = connectKubernetes(config, { name: 'k8s' });
 * await api.readNamespacedSecret({ name, namespace });
 */
export function connectKubernetes(config: KubernetesConfig, options: ConnectOptions): KubernetesConnection {
  const { name } = options;
  const kc = new KubeConfig();
  const root = options.inClusterRoot ?? '/';
  let auth: KubernetesConnection['auth'];
  if (config.auth === 'in-cluster') {
    loadInCluster(kc, name, root);
    auth = 'in-cluster';
  } else if (
    config.auth === 'kubeconfig' ||
    config.kubeconfigPath !== undefined ||
    config.context !== undefined
  ) {
    loadKubeconfig(kc, name, config.kubeconfigPath);
    auth = 'kubeconfig';
  } else {
    // "auto": what kubectl does, KUBECONFIG, then ~/.kube/config, then the pod's service account
    const fromEnv = process.env.KUBECONFIG;
    if ((fromEnv !== undefined && fromEnv !== '') || existsSync(join(homedir(), '.kube', 'config'))) {
      loadKubeconfig(kc, name, undefined);
      auth = 'kubeconfig';
    } else if (existsSync(join(root, serviceAccountDir, 'token')) && process.env.KUBERNETES_SERVICE_HOST) {
      loadInCluster(kc, name, root);
      auth = 'in-cluster';
    } else {
      throw invalidConfig(
        name,
        'auth',
        'found no credentials: no KUBECONFIG, no ~/.kube/config, and not running in a pod with a service account',
      );
    }
  }
  if (config.context !== undefined) {
    if (kc.getContextObject(config.context) === null) {
      throw invalidConfig(name, 'context', `the kubeconfig has no context "${config.context}"`);
    }
    kc.setCurrentContext(config.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || cluster.server === undefined || cluster.server === '') {
    throw invalidConfig(
      name,
      auth === 'kubeconfig' ? 'context' : 'auth',
      'the current context names no cluster with a server',
    );
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw invalidConfig(name, 'kubeconfigPath', "the cluster's server is not a URL");
  }
  if (server.protocol === 'http:' && cluster.skipTLSVerify !== true) {
    throw invalidConfig(
      name,
      'kubeconfigPath',
      "the cluster's server is plain http, which needs insecure-skip-tls-verify in the kubeconfig",
    );
  }
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = config.namespace ?? (auth === 'in-cluster' ? contextNamespace?.trim() : undefined);
  if (namespace === undefined || namespace === '') {
    throw invalidConfig(
      name,
      'namespace',
      auth === 'in-cluster'
        ? 'is required: the service account has no namespace file'
        : "is required with kubeconfig credentials (Coffer does not follow the context's default namespace)",
    );
  }
  const http = timedHttpLibrary(config.requestTimeoutMs);
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server.replace(/\/+$/, ''), {}),
    authMethods: { default: kc },
    httpApi: http.library,
    middleware: [setHeaderMiddleware('User-Agent', 'coffer-backend-kubernetes')],
  });
  return { api: new CoreV1Api(configuration), namespace, auth, close: () => http.close() };
}
