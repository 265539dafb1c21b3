import type { KvEngine } from './kv-engine.js';
import type { TransitEngine } from './transit-engine.js';
import {
  defaultQuota,
  type FaultAction,
  type PolicyRule,
  type QuotaLimits,
  VaultServer,
} from './vault-server.js';

export { dropConnection, startWireServer, type WireRequest, type WireResponse } from './http-wire.js';
export { type EngineAnswer, KvEngine, parseDuration } from './kv-engine.js';
export { TransitEngine } from './transit-engine.js';
export {
  builtinPolicies,
  type Capability,
  defaultQuota,
  type FaultAction,
  FaultPlan,
  operationOf,
  type PolicyRule,
  type QuotaLimits,
  type TokenEntry,
  VaultServer,
} from './vault-server.js';

/** Tokens every double has (fixed, so several doubles in one process agree on `VAULT_TOKEN`). */
export const doubleTokens = {
  /** The root token: every path, every namespace. */
  root: 'hvs.coffer-double-root',
  /** Policy `coffer-rw`: KV at `secret/` and Transit at `transit/`, no expiry. What `env` carries. */
  readWrite: 'hvs.coffer-double-read-write',
  /** Policy `coffer-ro`: read and list KV, read Transit keys and decrypt. */
  readOnly: 'hvs.coffer-double-read-only',
} as const;

/** Fault injection, administration and state of a running double. */
export interface VaultFaults {
  /** The next `count` requests (of `operation`, e.g. `kv.data.write`, or of any) meet `action`. */
  inject(action: FaultAction, options?: { count?: number; operation?: string }): void;
  clear(): void;
  /** Requests that reached the double, of one operation or in all (refused ones too). */
  requestCount(operation?: string): number;
  resetCounts(): void;
  /** Every request answers 503 "Vault is sealed" until `unseal` (health and seal-status excepted). */
  seal(): void;
  unseal(): void;
  /** The KV version 2 engine of a mount (default `secret` of the root namespace), for changes behind a client's back. */
  kv(mount?: string, namespace?: string): KvEngine;
  /** A Transit engine (default `transit` of the root namespace). */
  transit(mount?: string, namespace?: string): TransitEngine;
  /** Makes a namespace (with `secret/` and `transit/` mounts) and returns its path. */
  createNamespace(path: string): string;
  /** A new token; `ttl` in seconds (0: never expires). */
  createToken(options: {
    policies: string[];
    ttl: number;
    explicitMaxTtl?: number;
    renewable?: boolean;
    namespace?: string;
    noDefaultPolicy?: boolean;
  }): string;
  /** Tokens made since the start (logins, `auth/token/create`, `createToken`), not the fixed ones. */
  issuedTokens(): string[];
  /** Revokes a token behind its holder's back. */
  revokeToken(token: string): void;
  /** An ACL policy: a list of path globs with capabilities. */
  putPolicy(name: string, rules: PolicyRule[]): void;
  /** An AppRole role with one secret id; token TTLs in seconds. */
  createAppRole(
    name: string,
    options: {
      policies: string[];
      tokenTtl: number;
      tokenMaxTtl: number;
      namespace?: string;
      secretIdNumUses?: number;
    },
  ): { roleId: string; secretId: string };
  tokens: typeof doubleTokens;
}

/** What every store double of Coffer hands its tests and the benchmark. */
export interface StoreDoubleHandle {
  /** The double's base URL (Vault's address). */
  url: string;
  /** Backend settings (without `type`) that point an instance at this double. */
  settings: Record<string, unknown>;
  /** Environment a Vault client needs to reach the double (`VAULT_ADDR`, `VAULT_TOKEN`); the caller sets it. */
  env: Record<string, string>;
  /** One write through Vault's HTTP API alone (KV v2 at `secret/data/<name>`, field `value`), nothing of Coffer around it. */
  rawPut(name: string, value: string): Promise<void>;
  faults: VaultFaults;
  close(): Promise<void>;
}

export interface StoreDoubleOptions {
  /** Enforce a rate limit quota (answers 429 with Retry-After; default true: 500 requests a second). */
  throttle?: boolean | Partial<QuotaLimits>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
}

/**
 * Starts a local HashiCorp Vault on 127.0.0.1: the HTTP API with token and AppRole auth, ACL
 * policies, namespaces, a KV version 2 engine at `secret/` and Transit at `transit/`. `env`
 * carries `VAULT_ADDR` and a `VAULT_TOKEN` with the `coffer-rw` policy.
 *
 * @example
 * const double = await startStoreDouble();
 * Object.assign(process.env, double.env);
 * const config = { type: 'vault-kv', ...double.settings };
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const throttle = options.throttle ?? true;
  const server = new VaultServer({
    throttle: throttle === false ? false : { ...defaultQuota, ...(throttle === true ? {} : throttle) },
    rootToken: doubleTokens.root,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  server.addToken({ id: doubleTokens.readWrite, policies: ['coffer-rw'], ttl: 0, renewable: false });
  server.addToken({ id: doubleTokens.readOnly, policies: ['coffer-ro'], ttl: 0, renewable: false });
  const url = await server.start();
  return {
    url,
    settings: { address: url, mount: 'secret' },
    env: { VAULT_ADDR: url, VAULT_TOKEN: doubleTokens.readWrite },
    async rawPut(name, value) {
      const res = await fetch(`${url}/v1/secret/data/${name.split('/').map(encodeURIComponent).join('/')}`, {
        method: 'POST',
        headers: { 'X-Vault-Token': doubleTokens.readWrite, 'Content-Type': 'application/json' },
        body: JSON.stringify({ data: { value } }),
      });
      if (res.status !== 200) throw new Error(`rawPut: Vault answered ${res.status}`);
      await res.arrayBuffer();
    },
    faults: {
      inject: (action, opts) => server.faults.inject(action, opts),
      clear: () => server.faults.clear(),
      requestCount: (operation) => server.faults.requestCount(operation),
      resetCounts: () => server.faults.resetCounts(),
      seal: () => {
        server.sealed = true;
      },
      unseal: () => {
        server.sealed = false;
      },
      kv: (mount, namespace) => server.kv(mount, namespace),
      transit: (mount, namespace) => server.transit(mount, namespace),
      createNamespace: (path) => {
        server.namespace(path);
        return path;
      },
      createToken: (o) => server.addToken(o).id,
      issuedTokens: () => {
        const fixed = new Set<string>(Object.values(doubleTokens));
        return [...server.tokens.keys()].filter((t) => !fixed.has(t));
      },
      revokeToken: (token) => {
        server.tokens.delete(token);
      },
      putPolicy: (name, rules) => {
        server.policies.set(name, rules);
      },
      createAppRole: (name, o) => server.addAppRole(name, o),
      tokens: doubleTokens,
    },
    close: () => server.close(),
  };
}
