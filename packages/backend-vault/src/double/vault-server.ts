import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { dropConnection, startWireServer, type WireRequest, type WireResponse } from './http-wire.js';
import { type EngineAnswer, KvEngine, parseDuration } from './kv-engine.js';
import { TransitEngine } from './transit-engine.js';

/** Vault's ACL capabilities. */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/** One `path "..." { capabilities = [...] }` block: a glob (`*` at the end, `+` for a segment). */
export interface PolicyRule {
  path: string;
  capabilities: Capability[];
}

export interface TokenEntry {
  id: string;
  accessor: string;
  policies: string[];
  namespace: string;
  /** The TTL asked for, in seconds (0: never expires). */
  ttl: number;
  renewable: boolean;
  issuedAt: number;
  /** Milliseconds since the epoch when it expires, 0 for never. */
  expiresAt: number;
  /** When renewals stop extending it (explicit max TTL or the role's token_max_ttl), 0 for never. */
  maxExpiresAt: number;
  path: string;
  displayName: string;
}

interface AppRole {
  name: string;
  roleId: string;
  policies: string[];
  tokenTtl: number;
  tokenMaxTtl: number;
  secretIdNumUses: number;
  secretIds: Map<string, { accessor: string; usesLeft: number }>;
}

type Mount =
  | { type: 'kv'; engine: KvEngine; accessor: string; uuid: string }
  | {
      type: 'transit';
      engine: TransitEngine;
      accessor: string;
      uuid: string;
    };

export interface Namespace {
  mounts: Map<string, Mount>;
  approles: Map<string, AppRole>;
}

/** A fault the double serves instead of (or before) the real answer. */
export type FaultAction =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' };

interface PlannedFault {
  action: FaultAction;
  left: number;
  operation: string | undefined;
}

/**
 * Faults to serve, matched by operation (`kv.data.write`, `kv.metadata.read`, `kv.destroy`,
 * `auth.approle.login`, `transit.encrypt`, ...; see {@link operationOf}) or by any request.
 */
export class FaultPlan {
  readonly #faults: PlannedFault[] = [];
  readonly #counts = new Map<string, number>();
  #total = 0;

  inject(action: FaultAction, options: { count?: number; operation?: string } = {}): void {
    this.#faults.push({ action, left: options.count ?? 1, operation: options.operation });
  }

  clear(): void {
    this.#faults.length = 0;
  }

  requestCount(operation?: string): number {
    return operation === undefined ? this.#total : (this.#counts.get(operation) ?? 0);
  }

  resetCounts(): void {
    this.#counts.clear();
    this.#total = 0;
  }

  /** Counts the request and takes the first fault that matches it, if any. */
  take(operation: string): FaultAction | undefined {
    this.#total++;
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const at = this.#faults.findIndex(
      (f) => f.left > 0 && (f.operation === undefined || f.operation === operation),
    );
    if (at === -1) return undefined;
    const fault = this.#faults[at]!;
    fault.left--;
    if (fault.left <= 0) this.#faults.splice(at, 1);
    return fault.action;
  }
}

/** Policies every double has: `coffer-rw` (KV and Transit) and `coffer-ro` (read and list only). */
export const builtinPolicies: Record<string, PolicyRule[]> = {
  default: [
    { path: 'auth/token/lookup-self', capabilities: ['read'] },
    { path: 'auth/token/renew-self', capabilities: ['update'] },
    { path: 'auth/token/revoke-self', capabilities: ['update'] },
    { path: 'sys/capabilities-self', capabilities: ['update'] },
  ],
  'coffer-rw': [
    { path: 'secret/*', capabilities: ['create', 'read', 'update', 'delete', 'list'] },
    { path: 'transit/*', capabilities: ['create', 'read', 'update', 'delete', 'list'] },
  ],
  'coffer-ro': [
    { path: 'secret/data/*', capabilities: ['read'] },
    { path: 'secret/metadata/*', capabilities: ['read', 'list'] },
    { path: 'transit/keys/*', capabilities: ['read'] },
    { path: 'transit/decrypt/*', capabilities: ['update'] },
  ],
};

/** How many requests a second the double's rate limit quota lets through when throttling. */
export interface QuotaLimits {
  rate: number;
}

export const defaultQuota: QuotaLimits = { rate: 500 };

export interface VaultServerOptions {
  port?: number;
  throttle: false | QuotaLimits;
  rootToken: string;
}

function globMatch(pattern: string, path: string): boolean {
  const escaped = pattern
    .split('')
    .map((c, i) => {
      if (c === '*' && i === pattern.length - 1) return '.*';
      if (c === '+') return '[^/]+';
      return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${escaped}$`).test(path);
}

const version = '1.17.0';

/**
 * The Vault HTTP API on 127.0.0.1, as far as Coffer, hvac and the Vault CLI use it: `sys/health`,
 * `sys/seal-status`, `sys/mounts` (read, enable, disable), `sys/internal/ui/mounts`, token auth
 * (`X-Vault-Token` or `Authorization: Bearer`, `auth/token/create`, `lookup-self`, `renew-self`,
 * `revoke-self`) with TTLs, AppRole (roles, role-id, secret-id, login), ACL policies, namespaces
 * (`X-Vault-Namespace`), KV version 2 mounts and Transit mounts; LIST as a method or `?list=true`.
 */
export class VaultServer {
  readonly faults = new FaultPlan();
  readonly tokens = new Map<string, TokenEntry>();
  readonly policies = new Map<string, PolicyRule[]>(Object.entries(builtinPolicies));
  readonly #namespaces = new Map<string, Namespace>();
  readonly #options: VaultServerOptions;
  sealed = false;
  #bucket: { tokens: number; at: number } | undefined;
  #stop: (() => Promise<void>) | undefined;
  url = '';

  constructor(options: VaultServerOptions) {
    this.#options = options;
    this.namespace('');
    this.addToken({ id: options.rootToken, policies: ['root'], ttl: 0, path: 'auth/token/root' });
    if (options.throttle !== false) this.#bucket = { tokens: options.throttle.rate, at: performance.now() };
  }

  async start(): Promise<string> {
    const running = await startWireServer((req) => this.#handle(req), {
      maxBodyBytes: 32 * 1024 * 1024,
      ...(this.#options.port === undefined ? {} : { port: this.#options.port }),
    });
    this.#stop = running.close;
    this.url = running.url;
    return running.url;
  }

  async close(): Promise<void> {
    await this.#stop?.();
  }

  /** The namespace's state, made with `secret/` (KV v2) and `transit/` mounts when new. */
  namespace(path: string): Namespace {
    let ns = this.#namespaces.get(path);
    if (ns === undefined) {
      ns = { mounts: new Map(), approles: new Map() };
      ns.mounts.set('secret', {
        type: 'kv',
        engine: new KvEngine(),
        accessor: `kv_${randomBytes(4).toString('hex')}`,
        uuid: randomUUID(),
      });
      ns.mounts.set('transit', {
        type: 'transit',
        engine: new TransitEngine(),
        accessor: `transit_${randomBytes(4).toString('hex')}`,
        uuid: randomUUID(),
      });
      this.#namespaces.set(path, ns);
    }
    return ns;
  }

  kv(mount = 'secret', namespace = ''): KvEngine {
    const m = this.namespace(namespace).mounts.get(mount);
    if (m?.type !== 'kv') throw new Error(`no KV mount ${mount}`);
    return m.engine;
  }

  transit(mount = 'transit', namespace = ''): TransitEngine {
    const m = this.namespace(namespace).mounts.get(mount);
    if (m?.type !== 'transit') throw new Error(`no Transit mount ${mount}`);
    return m.engine;
  }

  addToken(options: {
    id?: string;
    policies: string[];
    ttl: number;
    explicitMaxTtl?: number;
    renewable?: boolean;
    namespace?: string;
    path?: string;
    noDefaultPolicy?: boolean;
  }): TokenEntry {
    const now = Date.now();
    const policies = [
      ...new Set([
        ...options.policies,
        ...(options.noDefaultPolicy || options.policies.includes('root') ? [] : ['default']),
      ]),
    ].sort();
    const entry: TokenEntry = {
      id: options.id ?? `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomBytes(12).toString('base64url'),
      policies,
      namespace: options.namespace ?? '',
      ttl: options.ttl,
      renewable: options.renewable ?? options.ttl > 0,
      issuedAt: now,
      expiresAt: options.ttl > 0 ? now + options.ttl * 1000 : 0,
      maxExpiresAt:
        options.explicitMaxTtl !== undefined && options.explicitMaxTtl > 0
          ? now + options.explicitMaxTtl * 1000
          : 0,
      path: options.path ?? 'auth/token/create',
      displayName: 'token',
    };
    if (entry.maxExpiresAt > 0 && (entry.expiresAt === 0 || entry.expiresAt > entry.maxExpiresAt)) {
      entry.expiresAt = entry.maxExpiresAt;
    }
    this.tokens.set(entry.id, entry);
    return entry;
  }

  addAppRole(
    name: string,
    options: {
      policies: string[];
      tokenTtl: number;
      tokenMaxTtl: number;
      namespace?: string;
      secretIdNumUses?: number;
    },
  ): { roleId: string; secretId: string } {
    const role: AppRole = {
      name,
      roleId: randomUUID(),
      policies: options.policies,
      tokenTtl: options.tokenTtl,
      tokenMaxTtl: options.tokenMaxTtl,
      secretIdNumUses: options.secretIdNumUses ?? 0,
      secretIds: new Map(),
    };
    this.namespace(options.namespace ?? '').approles.set(name, role);
    const secretId = randomUUID();
    role.secretIds.set(secretId, { accessor: randomUUID(), usesLeft: role.secretIdNumUses });
    return { roleId: role.roleId, secretId };
  }

  #live(token: TokenEntry | undefined): token is TokenEntry {
    if (token === undefined) return false;
    if (token.expiresAt > 0 && token.expiresAt <= Date.now()) {
      this.tokens.delete(token.id);
      return false;
    }
    return true;
  }

  #allowed(token: TokenEntry, path: string, capability: Capability): boolean {
    if (token.policies.includes('root')) return true;
    let granted = false;
    for (const name of token.policies) {
      for (const rule of this.policies.get(name) ?? []) {
        if (!globMatch(rule.path, path)) continue;
        if (rule.capabilities.includes('deny')) return false;
        if (rule.capabilities.includes(capability)) granted = true;
      }
    }
    return granted;
  }

  async #handle(req: WireRequest): Promise<WireResponse | typeof dropConnection> {
    const url = new URL(req.target, 'http://127.0.0.1');
    let method = req.method.toUpperCase();
    if (method === 'PUT') method = 'POST';
    if (method === 'HEAD') method = 'GET';
    if (method === 'GET' && url.searchParams.get('list') === 'true') method = 'LIST';
    if (!url.pathname.startsWith('/v1/')) return json(404, { errors: [] });
    const path = decodeURIComponent(url.pathname.slice(4));
    const nsPath = (req.headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, '');
    const operation = operationOf(
      method,
      path,
      nsPath === '' ? this.namespace('') : (this.#namespaces.get(nsPath) ?? this.namespace('')),
    );
    const fault = this.faults.take(operation);
    if (fault !== undefined) {
      if (fault.kind === 'drop') return dropConnection;
      if (fault.kind === 'delay') await sleep(fault.ms);
      if (fault.kind === 'status') {
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
        const message =
          fault.message ??
          (fault.status === 503
            ? 'Vault is sealed'
            : fault.status === 429
              ? `request path "${path}": rate limit quota exceeded`
              : 'internal error');
        return json(fault.status, { errors: [message] }, headers);
      }
    }
    if (path === 'sys/health') return this.#health(url);
    if (path === 'sys/seal-status') return json(200, this.#sealStatus());
    if (this.sealed) return json(503, { errors: ['Vault is sealed'] });
    if (this.#bucket !== undefined && this.#options.throttle !== false) {
      const rate = this.#options.throttle.rate;
      const t = performance.now();
      this.#bucket.tokens = Math.min(rate, this.#bucket.tokens + ((t - this.#bucket.at) / 1000) * rate);
      this.#bucket.at = t;
      if (this.#bucket.tokens < 1) {
        return json(
          429,
          { errors: [`request path "${path}": rate limit quota exceeded`] },
          { 'Retry-After': '1' },
        );
      }
      this.#bucket.tokens -= 1;
    }
    let body: Record<string, unknown> = {};
    if (req.body.length > 0 && method !== 'GET' && method !== 'LIST') {
      try {
        const parsed = JSON.parse(req.body.toString('utf8')) as unknown;
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
          body = parsed as Record<string, unknown>;
      } catch {
        return json(400, { errors: ['error parsing JSON'] });
      }
    }
    if (nsPath !== '' && !this.#namespaces.has(nsPath)) return json(403, { errors: ['permission denied'] });
    const ns = this.namespace(nsPath);
    if (path.startsWith('auth/approle/login') || (path.startsWith('auth/') && path.endsWith('/login'))) {
      return this.#appRoleLogin(ns, nsPath, path, body);
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const presented = req.headers['x-vault-token'] ?? bearer;
    const token = presented === undefined ? undefined : this.tokens.get(presented);
    if (!this.#live(token)) return json(403, { errors: ['permission denied'] });
    // a token works in its own namespace and in those below it
    if (token.namespace !== '' && nsPath !== token.namespace && !nsPath.startsWith(`${token.namespace}/`)) {
      return json(403, { errors: ['permission denied'] });
    }
    if (path.startsWith('auth/token/')) return this.#tokenApi(token, path, method, body, nsPath);
    if (path.startsWith('auth/approle/role/')) {
      if (!this.#allowed(token, path, method === 'GET' ? 'read' : 'update'))
        return json(403, { errors: ['permission denied'] });
      return this.#appRoleAdmin(ns, path, method, body);
    }
    if (path === 'sys/mounts' || path.startsWith('sys/mounts/'))
      return this.#mountsApi(token, ns, path, method, body);
    if (path.startsWith('sys/internal/ui/mounts/')) {
      const found = this.#findMount(ns, path.slice('sys/internal/ui/mounts/'.length));
      if (found === undefined) return json(403, { errors: ['permission denied'] });
      return envelope(200, { data: { ...mountInfo(found.mount), path: `${found.path}/` }, mountType: '' });
    }
    const found = this.#findMount(ns, path);
    if (found === undefined) {
      // Vault checks the ACL before routing: only a token that may use the path learns there is no mount
      if (!token.policies.includes('root'))
        return json(403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
      return json(404, { errors: [`no handler for route "${path}". route entry not found.`] });
    }
    const rest = path.slice(found.path.length + 1);
    if (found.mount.type === 'kv')
      return this.#kv(token, found.mount.engine, found.path, rest, method, url, body);
    return this.#transit(token, found.mount.engine, found.path, rest, method, body);
  }

  #findMount(ns: Namespace, path: string): { path: string; mount: Mount } | undefined {
    let best: { path: string; mount: Mount } | undefined;
    for (const [mountPath, mount] of ns.mounts) {
      if (
        (path === mountPath || path.startsWith(`${mountPath}/`)) &&
        (best === undefined || mountPath.length > best.path.length)
      ) {
        best = { path: mountPath, mount };
      }
    }
    return best;
  }

  #health(url: URL): WireResponse {
    const body = {
      initialized: true,
      sealed: this.sealed,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000),
      version,
      cluster_name: 'vault-cluster-coffer-double',
      cluster_id: '00000000-0000-4000-8000-000000000000',
    };
    const sealedCode = Number(url.searchParams.get('sealedcode') ?? 503);
    return json(this.sealed ? sealedCode : 200, body);
  }

  #sealStatus(): Record<string, unknown> {
    return {
      type: 'shamir',
      initialized: true,
      sealed: this.sealed,
      t: 1,
      n: 1,
      progress: 0,
      nonce: '',
      version,
      build_date: '2024-06-10T10:11:34Z',
      migration: false,
      cluster_name: 'vault-cluster-coffer-double',
      cluster_id: '00000000-0000-4000-8000-000000000000',
      recovery_seal: false,
      storage_type: 'inmem',
    };
  }

  #lookupData(token: TokenEntry): Record<string, unknown> {
    const now = Date.now();
    return {
      accessor: token.accessor,
      creation_time: Math.floor(token.issuedAt / 1000),
      creation_ttl: token.ttl,
      display_name: token.displayName,
      entity_id: '',
      expire_time: token.expiresAt === 0 ? null : new Date(token.expiresAt).toISOString(),
      explicit_max_ttl:
        token.maxExpiresAt === 0 ? 0 : Math.round((token.maxExpiresAt - token.issuedAt) / 1000),
      id: token.id,
      issue_time: new Date(token.issuedAt).toISOString(),
      meta: null,
      num_uses: 0,
      orphan: token.policies.includes('root'),
      path: token.path,
      policies: token.policies,
      renewable: token.renewable,
      ttl: token.expiresAt === 0 ? 0 : Math.max(0, Math.round((token.expiresAt - now) / 1000)),
      type: 'service',
      namespace_path: token.namespace === '' ? '' : `${token.namespace}/`,
    };
  }

  #auth(token: TokenEntry, warnings?: string[]): WireResponse {
    const lease = token.expiresAt === 0 ? 0 : Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000));
    return envelope(200, {
      data: null,
      warnings,
      auth: {
        client_token: token.id,
        accessor: token.accessor,
        policies: token.policies,
        token_policies: token.policies,
        metadata: null,
        lease_duration: lease,
        renewable: token.renewable,
        entity_id: '',
        token_type: 'service',
        orphan: false,
        mfa_requirement: null,
        num_uses: 0,
      },
    });
  }

  #tokenApi(
    token: TokenEntry,
    path: string,
    method: string,
    body: Record<string, unknown>,
    nsPath: string,
  ): WireResponse {
    const self =
      path === 'auth/token/lookup-self' ||
      path === 'auth/token/renew-self' ||
      path === 'auth/token/revoke-self';
    const capability: Capability =
      method === 'GET'
        ? 'read'
        : path === 'auth/token/create' && !this.tokens.has(path)
          ? 'update'
          : 'update';
    if (!(self && token.policies.includes('default')) && !this.#allowed(token, path, capability)) {
      return json(403, { errors: ['permission denied'] });
    }
    switch (path) {
      case 'auth/token/lookup-self':
        return envelope(200, { data: this.#lookupData(token) });
      case 'auth/token/lookup': {
        const other = this.tokens.get(String(body.token ?? ''));
        if (!this.#live(other)) return json(403, { errors: ['bad token'] });
        return envelope(200, { data: this.#lookupData(other) });
      }
      case 'auth/token/renew-self': {
        if (!token.renewable) return json(400, { errors: ['lease is not renewable'] });
        const increment =
          body.increment === undefined ? token.ttl : (parseDuration(body.increment) ?? token.ttl);
        let until = Date.now() + increment * 1000;
        const warnings: string[] = [];
        if (token.maxExpiresAt > 0 && until > token.maxExpiresAt) {
          until = token.maxExpiresAt;
          warnings.push(
            `TTL of "${increment}s" exceeded the effective max_ttl; TTL value is capped accordingly`,
          );
        }
        token.expiresAt = until;
        return this.#auth(token, warnings.length > 0 ? warnings : undefined);
      }
      case 'auth/token/revoke-self':
        this.tokens.delete(token.id);
        return { status: 204 };
      case 'auth/token/create': {
        const policies = Array.isArray(body.policies)
          ? body.policies.map(String)
          : token.policies.filter((p) => p !== 'default');
        if (!token.policies.includes('root') && policies.some((p) => !token.policies.includes(p))) {
          return json(400, { errors: ['child policies must be subset of parent'] });
        }
        const ttl = parseDuration(body.ttl) ?? 32 * 24 * 3600;
        const explicit = parseDuration(body.explicit_max_ttl);
        const created = this.addToken({
          policies,
          ttl,
          ...(explicit === undefined ? {} : { explicitMaxTtl: explicit }),
          renewable: body.renewable !== false,
          namespace: nsPath,
          noDefaultPolicy: body.no_default_policy === true,
        });
        return this.#auth(created);
      }
      default:
        return json(404, { errors: [`no handler for route "${path}". route entry not found.`] });
    }
  }

  #appRoleLogin(ns: Namespace, nsPath: string, path: string, body: Record<string, unknown>): WireResponse {
    if (path !== 'auth/approle/login')
      return json(404, { errors: [`no handler for route "${path}". route entry not found.`] });
    const roleId = typeof body.role_id === 'string' ? body.role_id : '';
    if (roleId === '') return json(400, { errors: ['missing role_id'] });
    const role = [...ns.approles.values()].find((r) => r.roleId === roleId);
    const secret = role?.secretIds.get(typeof body.secret_id === 'string' ? body.secret_id : '');
    if (role === undefined || secret === undefined)
      return json(400, { errors: ['invalid role or secret ID'] });
    if (role.secretIdNumUses > 0) {
      secret.usesLeft--;
      if (secret.usesLeft <= 0) role.secretIds.delete(String(body.secret_id));
    }
    const token = this.addToken({
      policies: role.policies,
      ttl: role.tokenTtl > 0 ? role.tokenTtl : 32 * 24 * 3600,
      ...(role.tokenMaxTtl > 0 ? { explicitMaxTtl: role.tokenMaxTtl } : {}),
      renewable: true,
      namespace: nsPath,
      path: 'auth/approle/login',
    });
    return this.#auth(token);
  }

  #appRoleAdmin(ns: Namespace, path: string, method: string, body: Record<string, unknown>): WireResponse {
    const match = /^auth\/approle\/role\/([^/]+)(?:\/(role-id|secret-id))?$/.exec(path);
    if (match === null) return json(404, { errors: [] });
    const name = match[1]!;
    const role = ns.approles.get(name);
    if (match[2] === undefined) {
      if (method === 'POST') {
        const policies = body.token_policies ?? body.policies;
        const list = Array.isArray(policies)
          ? policies.map(String)
          : typeof policies === 'string'
            ? policies.split(',').filter(Boolean)
            : [];
        const created: AppRole = role ?? {
          name,
          roleId: randomUUID(),
          policies: [],
          tokenTtl: 0,
          tokenMaxTtl: 0,
          secretIdNumUses: 0,
          secretIds: new Map(),
        };
        created.policies = list.length > 0 ? list : created.policies;
        created.tokenTtl = parseDuration(body.token_ttl) ?? created.tokenTtl;
        created.tokenMaxTtl = parseDuration(body.token_max_ttl) ?? created.tokenMaxTtl;
        created.secretIdNumUses =
          body.secret_id_num_uses === undefined ? created.secretIdNumUses : Number(body.secret_id_num_uses);
        ns.approles.set(name, created);
        return { status: 204 };
      }
      if (role === undefined) return json(404, { errors: [] });
      if (method === 'DELETE') {
        ns.approles.delete(name);
        return { status: 204 };
      }
      return envelope(200, {
        data: {
          token_policies: role.policies,
          token_ttl: role.tokenTtl,
          token_max_ttl: role.tokenMaxTtl,
          secret_id_num_uses: role.secretIdNumUses,
          bind_secret_id: true,
        },
      });
    }
    if (role === undefined) return json(400, { errors: [`role "${name}" does not exist`] });
    if (match[2] === 'role-id') return envelope(200, { data: { role_id: role.roleId } });
    if (method !== 'POST') return json(405, { errors: ['unsupported operation'] });
    const secretId = randomUUID();
    const accessor = randomUUID();
    role.secretIds.set(secretId, { accessor, usesLeft: role.secretIdNumUses });
    return envelope(200, {
      data: {
        secret_id: secretId,
        secret_id_accessor: accessor,
        secret_id_ttl: 0,
        secret_id_num_uses: role.secretIdNumUses,
      },
    });
  }

  #mountsApi(
    token: TokenEntry,
    ns: Namespace,
    path: string,
    method: string,
    body: Record<string, unknown>,
  ): WireResponse {
    const capability: Capability = method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'update';
    if (!this.#allowed(token, path, capability) && !token.policies.includes('root'))
      return json(403, { errors: ['permission denied'] });
    if (path === 'sys/mounts') {
      if (method !== 'GET') return json(405, { errors: ['unsupported operation'] });
      const data: Record<string, unknown> = {};
      for (const [p, m] of ns.mounts) data[`${p}/`] = mountInfo(m);
      data['sys/'] = {
        type: 'system',
        description: 'system endpoints used for control, policy and debugging',
        options: null,
        config: mountConfig(),
        local: false,
        seal_wrap: true,
        accessor: 'system_1',
        uuid: randomUUID(),
      };
      data['cubbyhole/'] = {
        type: 'cubbyhole',
        description: 'per-token private secret storage',
        options: null,
        config: mountConfig(),
        local: true,
        seal_wrap: false,
        accessor: 'cubbyhole_1',
        uuid: randomUUID(),
      };
      return json(200, {
        ...data,
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data,
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    const mountPath = path.slice('sys/mounts/'.length).replace(/\/+$/, '');
    if (method === 'POST') {
      if (ns.mounts.has(mountPath)) return json(400, { errors: [`path is already in use at ${mountPath}/`] });
      const type = body.type;
      const options = (body.options ?? {}) as Record<string, unknown>;
      if (type === 'kv' || type === 'kv-v2') {
        if (type === 'kv' && String(options.version ?? '1') !== '2')
          return json(400, { errors: ['the double serves KV version 2 only'] });
        ns.mounts.set(mountPath, {
          type: 'kv',
          engine: new KvEngine(),
          accessor: `kv_${randomBytes(4).toString('hex')}`,
          uuid: randomUUID(),
        });
      } else if (type === 'transit') {
        ns.mounts.set(mountPath, {
          type: 'transit',
          engine: new TransitEngine(),
          accessor: `transit_${randomBytes(4).toString('hex')}`,
          uuid: randomUUID(),
        });
      } else {
        return json(400, { errors: [`plugin not found in the catalog: ${String(type)}`] });
      }
      return { status: 204 };
    }
    if (method === 'DELETE') {
      ns.mounts.delete(mountPath);
      return { status: 204 };
    }
    const mount = ns.mounts.get(mountPath);
    return mount === undefined
      ? json(400, { errors: [`No secret engine mount at ${mountPath}/`] })
      : envelope(200, { data: mountInfo(mount) });
  }

  #kv(
    token: TokenEntry,
    kv: KvEngine,
    mount: string,
    rest: string,
    method: string,
    url: URL,
    body: Record<string, unknown>,
  ): WireResponse {
    const slash = rest.indexOf('/');
    const area = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    const aclPath = `${mount}/${rest}`;
    const write: Capability = kv.exists(key) ? 'update' : 'create';
    const check = (capability: Capability) => this.#allowed(token, aclPath, capability);
    const deny = () => json(403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    let answer: EngineAnswer;
    switch (`${area} ${method}`) {
      case 'config GET':
        if (!check('read')) return deny();
        answer = kv.readConfig();
        break;
      case 'config POST':
        if (!check('update')) return deny();
        answer = kv.writeConfig(body);
        break;
      case 'data GET': {
        if (!check('read')) return deny();
        const v = Number(url.searchParams.get('version') ?? '0');
        answer = kv.readData(key, Number.isInteger(v) ? v : 0);
        break;
      }
      case 'data POST':
        if (!check(write)) return deny();
        answer = kv.writeData(key, body);
        break;
      case 'data DELETE':
        if (!check('delete')) return deny();
        answer = kv.deleteLatest(key);
        break;
      case 'metadata GET':
        if (!check('read')) return deny();
        answer = kv.readMetadata(key);
        break;
      case 'metadata LIST':
        if (!check('list')) return deny();
        answer = kv.list(key);
        break;
      case 'metadata POST':
        if (!check(write)) return deny();
        answer = kv.writeMetadata(key, body);
        break;
      case 'metadata DELETE':
        if (!check('delete')) return deny();
        answer = kv.deleteMetadata(key);
        break;
      case 'delete POST':
        if (!check('update')) return deny();
        answer = kv.deleteVersions(key, body);
        break;
      case 'undelete POST':
        if (!check('update')) return deny();
        answer = kv.undeleteVersions(key, body);
        break;
      case 'destroy POST':
        if (!check('update')) return deny();
        answer = kv.destroyVersions(key, body);
        break;
      default:
        return json(405, { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });
    }
    return fromEngine(answer, 'kv');
  }

  #transit(
    token: TokenEntry,
    transit: TransitEngine,
    mount: string,
    rest: string,
    method: string,
    body: Record<string, unknown>,
  ): WireResponse {
    const aclPath = `${mount}/${rest}`;
    const check = (capability: Capability) => this.#allowed(token, aclPath, capability);
    const deny = () => json(403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    const keyPath = /^keys\/([^/]+)$/.exec(rest);
    const keyAction = /^keys\/([^/]+)\/(rotate|config)$/.exec(rest);
    const crypto = /^(encrypt|decrypt|rewrap)\/([^/]+)$/.exec(rest);
    let answer: EngineAnswer;
    if (rest === 'keys' && method === 'LIST') {
      if (!check('list')) return deny();
      answer = transit.listKeys();
    } else if (keyPath !== null) {
      const name = keyPath[1]!;
      if (method === 'GET') {
        if (!check('read')) return deny();
        answer = transit.readKey(name);
      } else if (method === 'POST') {
        if (!check(transit.exists(name) ? 'update' : 'create')) return deny();
        answer = transit.createKey(name, body);
      } else if (method === 'DELETE') {
        if (!check('delete')) return deny();
        answer = transit.deleteKey(name);
      } else return json(405, { errors: ['unsupported operation'] });
    } else if (keyAction !== null && method === 'POST') {
      if (!check('update')) return deny();
      answer =
        keyAction[2] === 'rotate' ? transit.rotate(keyAction[1]!) : transit.configure(keyAction[1]!, body);
    } else if (crypto !== null && method === 'POST') {
      const name = crypto[2]!;
      if (crypto[1] === 'encrypt') {
        const missing = !transit.exists(name);
        if (!check(missing ? 'create' : 'update')) return deny();
        answer = transit.encrypt(name, body, missing);
      } else {
        if (!check('update')) return deny();
        answer = crypto[1] === 'decrypt' ? transit.decrypt(name, body) : transit.rewrap(name, body);
      }
    } else {
      return json(405, { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });
    }
    return fromEngine(answer, 'transit');
  }
}

/** The operation name faults and counts use: `kv.data.write`, `transit.decrypt`, `auth.approle.login`. */
export function operationOf(method: string, path: string, ns: Namespace): string {
  if (path.startsWith('sys/')) return `sys.${path.slice(4).split('/')[0]}`;
  if (path.startsWith('auth/token/')) return `auth.token.${path.slice('auth/token/'.length)}`;
  if (path.startsWith('auth/approle/'))
    return path.endsWith('/login') ? 'auth.approle.login' : 'auth.approle.admin';
  let best: { path: string; mount: Mount } | undefined;
  for (const [p, mount] of ns.mounts) {
    if ((path === p || path.startsWith(`${p}/`)) && (best === undefined || p.length > best.path.length))
      best = { path: p, mount };
  }
  if (best === undefined) return 'unknown';
  const area = path.slice(best.path.length + 1).split('/')[0] ?? '';
  const verb =
    method === 'GET' ? 'read' : method === 'LIST' ? 'list' : method === 'DELETE' ? 'delete' : 'write';
  if (best.mount.type === 'kv') {
    if (area === 'data' || area === 'metadata' || area === 'config') return `kv.${area}.${verb}`;
    return `kv.${area}`;
  }
  return area === 'keys' ? `transit.keys.${verb}` : `transit.${area}`;
}

function mountConfig(): Record<string, unknown> {
  return { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false };
}

function mountInfo(mount: Mount): Record<string, unknown> {
  return {
    type: mount.type,
    description: mount.type === 'kv' ? 'key/value secret storage' : 'transit encryption',
    accessor: mount.accessor,
    uuid: mount.uuid,
    config: mountConfig(),
    options: mount.type === 'kv' ? { version: '2' } : null,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    plugin_version: '',
    running_plugin_version: `v${version}+builtin.vault`,
    running_sha256: '',
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

function envelope(
  status: number,
  parts: { data: unknown; warnings?: string[] | undefined; auth?: unknown; mountType?: string },
): WireResponse {
  return json(status, {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: parts.data,
    wrap_info: null,
    warnings: parts.warnings ?? null,
    auth: parts.auth ?? null,
    mount_type: parts.mountType ?? '',
  });
}

function fromEngine(answer: EngineAnswer, mountType: string): WireResponse {
  switch (answer.status) {
    case 204:
      return { status: 204, headers: { 'Cache-Control': 'no-store' } };
    case 200:
      return envelope(200, { data: answer.data, warnings: answer.warnings, mountType });
    case 404:
      return answer.data === undefined
        ? json(404, { errors: [] })
        : envelope(404, { data: answer.data, mountType });
    default:
      return json(answer.status, { errors: answer.errors });
  }
}
