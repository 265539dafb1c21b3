import {
  assertOwnedValue,
  assertValueRef,
  type Backend,
  type BackendCapabilities,
  type BackendContext,
  type BackendLimits,
  CofferError,
  createRateLimiter,
  decodeValues,
  encodeValues,
  isSecretId,
  type RateLimiter,
  RetriesExhausted,
  remoteFailure,
  type SecretValues,
  type ValueRef,
  valueNotFound,
  valueTooLarge,
  withRetries,
} from '@coffer/core';
import type { VaultSession } from './vault-auth.js';
import { defaultWritesPerSecond, type VaultKvConfig } from './vault-config.js';
import {
  classifyVaultAnswer,
  classifyVaultError,
  type VaultFailure,
  VaultStatusError,
  vaultRetryVerdict,
} from './vault-errors.js';
import { escapePath, type VaultHttp, type VaultRequest, type VaultResponse } from './vault-http.js';
import {
  headerOf,
  indexKey,
  labelsForRef,
  ownerMetadata,
  secretPath,
  type VersionHeader,
  versionOfIndexKey,
} from './vault-names.js';

/** The backend type id. */
export const vaultKvType = 'vault-kv';

/** Every version kept (as KV versions), listing, owner labels in custom_metadata; Vault encrypts. */
export const vaultKvCapabilities: BackendCapabilities = Object.freeze({
  versioning: true,
  listing: true,
  labels: true,
  envelope: false,
});

/** Keys KV v2 allows in one secret's custom_metadata. */
export const customMetadataKeyLimit = 64;
/** Coffer versions one secret can hold: one index key each, beside the three owner labels. */
export const maxVersionsPerSecret = customMetadataKeyLimit - 3;

/** KV versions kept beyond what the live Coffer versions span, so writes rarely raise max_versions. */
const maxVersionsHeadroom = 16;
/** Rounds of read-and-write when another writer changed the secret in between (cas mismatch). */
const maxRounds = 8;
/** A fresh listing is reused by the next pages for this long, unless this instance wrote. */
const listingSnapshotMs = 5_000;
/** Metadata reads a listing keeps in flight at once. */
const listingConcurrency = 8;

/** The KV v2 metadata of one secret, as far as Coffer reads it. */
export interface KvMetadata {
  currentVersion: number;
  maxVersions: number;
  casRequired: boolean;
  custom: Record<string, string>;
  versions: Map<number, { destroyed: boolean; deletionTime: string }>;
}

/** Which KV version holds which Coffer version, worked out from the index and the data. */
interface Resolved {
  meta: KvMetadata;
  /** Coffer version → the newest live KV version holding it. */
  map: Map<number, number>;
  /** Live KV versions holding a Coffer version that a newer KV version holds too (replaced). */
  garbage: number[];
  /** Data read while resolving, by KV version, so a get does not read it twice. */
  read: Map<number, Record<string, unknown>>;
}

/** A failed call, classified, with the attempts it took. Never leaves the backend. */
class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(
    readonly failure: VaultFailure,
    readonly attempts: number,
  ) {
    super(`store call failed: ${failure.kind}`);
  }
}

interface ListingSnapshot {
  generation: number;
  takenAt: number;
  refs: ValueRef[];
}

function compareRefs(a: ValueRef, b: ValueRef): number {
  if (a.secretId !== b.secretId) return a.secretId < b.secretId ? -1 : 1;
  return a.version - b.version;
}

function kindOf(err: unknown): VaultFailure['kind'] | undefined {
  return err instanceof StoreFailure ? err.failure.kind : undefined;
}

function isLive(v: { destroyed: boolean; deletionTime: string }, now: number): boolean {
  if (v.destroyed) return false;
  if (v.deletionTime === '') return true;
  const at = Date.parse(v.deletionTime);
  return Number.isNaN(at) || at > now;
}

/** Reads the `data` of a metadata answer into {@link KvMetadata}; anything else is not KV v2. */
export function parseMetadata(body: unknown): KvMetadata | undefined {
  const data = (body as { data?: unknown } | undefined)?.data as Record<string, unknown> | undefined;
  if (data === undefined || data === null || typeof data !== 'object') return undefined;
  const versions = new Map<number, { destroyed: boolean; deletionTime: string }>();
  const raw = data.versions;
  if (raw !== null && typeof raw === 'object') {
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      const n = Number(key);
      if (!Number.isSafeInteger(n) || n < 1 || value === null || typeof value !== 'object') continue;
      const v = value as { destroyed?: unknown; deletion_time?: unknown };
      versions.set(n, {
        destroyed: v.destroyed === true,
        deletionTime: typeof v.deletion_time === 'string' ? v.deletion_time : '',
      });
    }
  }
  const custom: Record<string, string> = {};
  const rawCustom = data.custom_metadata;
  if (rawCustom !== null && typeof rawCustom === 'object') {
    for (const [k, v] of Object.entries(rawCustom as Record<string, unknown>)) {
      if (typeof v === 'string') custom[k] = v;
    }
  }
  return {
    currentVersion: typeof data.current_version === 'number' ? data.current_version : 0,
    maxVersions: typeof data.max_versions === 'number' ? data.max_versions : 0,
    casRequired: data.cas_required === true,
    custom,
    versions,
  };
}

/**
 * Coffer values in a Vault (or OpenBao) KV version 2 engine: one KV secret per Coffer secret at
 * `<mount>/<pathPrefix>/<secret id>`, each Coffer version one KV version.
 *
 * - Writes are check-and-set (`options.cas` = the current KV version), so a writer that raced
 *   another one is refused by Vault and goes again with what is there now.
 * - `custom_metadata` holds the owner labels and an index `coffer-v<n>` = KV version; each KV
 *   version's data holds the values and names its deployment, secret and Coffer version, so the
 *   index can always be checked and repaired from the data.
 * - Putting a ref again writes a new KV version and destroys the one it replaces; deleting a
 *   version destroys its KV version; deleting the last one deletes the metadata and all versions.
 * - `max_versions` is kept at what the live Coffer versions span plus some headroom, raised
 *   before a write that would otherwise push a kept version out.
 */
export class VaultKvBackend implements Backend {
  readonly type = vaultKvType;
  readonly capabilities = vaultKvCapabilities;
  readonly limits: BackendLimits;
  readonly name: string;
  readonly #http: VaultHttp;
  readonly #session: VaultSession;
  readonly #config: VaultKvConfig;
  readonly #context: BackendContext;
  readonly #writes: RateLimiter;
  readonly #mount: string;
  readonly #prefix: string;
  readonly #locks = new Map<string, Promise<void>>();
  #generation = 0;
  #snapshot: ListingSnapshot | undefined;
  #closed = false;

  constructor(http: VaultHttp, session: VaultSession, config: VaultKvConfig, context: BackendContext) {
    this.name = context.name;
    this.#http = http;
    this.#session = session;
    this.#config = config;
    this.#context = context;
    this.#writes = createRateLimiter({ perSecond: config.writesPerSecond ?? defaultWritesPerSecond });
    this.#mount = escapePath(config.mount);
    this.#prefix = config.pathPrefix ?? context.clusterPrefix;
    this.limits = Object.freeze({ maxValueBytes: config.maxValueBytes, maxVersionsPerSecret });
  }

  /** The KV path of a secret under the mount, unescaped (for tests and docs). */
  pathOf(secretId: string): string {
    return secretPath(this.#prefix, secretId);
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const encoded = encodeValues(values);
    if (encoded.length > this.#config.maxValueBytes) {
      throw valueTooLarge(
        this.name,
        ref,
        encoded.length,
        this.#config.maxValueBytes,
        'Vault KV entry, maxValueBytes',
      );
    }
    // a copy taken now: the caller may change its object while the write is on its way
    const copy = JSON.parse(encoded.toString('utf8')) as SecretValues;
    const path = escapePath(this.pathOf(ref.secretId));
    this.#generation++;
    await this.#locked(ref.secretId, () =>
      this.#translated('put', ref, async () => {
        for (let round = 1; round <= maxRounds; round++) {
          if (await this.#tryPut(path, ref, copy)) return;
        }
        throw new StoreFailure({ kind: 'rejected', vendorCode: 'cas_mismatch', retry: false }, maxRounds);
      }),
    );
    this.#generation++;
  }

  /** One round of a put: false when another writer came first (cas mismatch) and it must go again. */
  async #tryPut(path: string, ref: ValueRef, values: SecretValues): Promise<boolean> {
    const meta = await this.#readMetadata(path);
    if (meta !== undefined) this.#assertOwnedSecret(meta, ref);
    const resolved = meta === undefined ? undefined : await this.#resolve(path, meta, ref);
    const map = new Map(resolved?.map ?? []);
    if (!map.has(ref.version) && map.size >= maxVersionsPerSecret) {
      throw new StoreFailure({ kind: 'limit_exceeded', vendorCode: 'custom_metadata_keys', retry: false }, 1);
    }
    const current = meta?.currentVersion ?? 0;
    // KV must not push a kept version out with this write: raise max_versions first if it would
    const needed = this.#span(map, current + 1);
    if (meta === undefined || meta.maxVersions < needed || !meta.casRequired) {
      await this.#writeMetadata(path, ref.secretId, map, needed + maxVersionsHeadroom);
    }
    const header: VersionHeader = {
      'coffer-deployment': this.#context.deploymentId,
      'coffer-cluster': this.#context.clusterPrefix,
      'coffer-secret-id': ref.secretId,
      'coffer-version': String(ref.version),
    };
    let written: number;
    try {
      const res = await this.#call('write', {
        method: 'POST',
        path: `${this.#mount}/data/${path}`,
        body: { options: { cas: current }, data: { ...header, values } },
      });
      written = Number((res.body as { data?: { version?: unknown } } | undefined)?.data?.version);
    } catch (err) {
      if (kindOf(err) === 'cas_mismatch') return false;
      throw err;
    }
    if (!Number.isSafeInteger(written) || written < 1) {
      throw new CofferError('integrity', `backend ${this.name} got no KV version number for a new version`);
    }
    const replaced = [...(resolved?.garbage ?? [])];
    const before = map.get(ref.version);
    if (before !== undefined) replaced.push(before);
    map.set(ref.version, written);
    await this.#writeMetadata(path, ref.secretId, map, this.#span(map, written) + maxVersionsHeadroom);
    if (replaced.length > 0) {
      // best effort: a replaced version left live is found and destroyed by the next write
      await this.#destroy(path, replaced).catch(() => {});
    }
    return true;
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    const path = escapePath(this.pathOf(ref.secretId));
    return this.#translated('get', ref, async () => {
      const meta = await this.#readMetadata(path);
      if (meta === undefined) throw valueNotFound(this.name, ref);
      this.#assertOwnedSecret(meta, ref);
      const resolved = await this.#resolve(path, meta, ref);
      const kv = resolved.map.get(ref.version);
      if (kv === undefined) throw valueNotFound(this.name, ref);
      const data = resolved.read.get(kv) ?? (await this.#readVersion(path, kv));
      if (data === undefined) throw valueNotFound(this.name, ref);
      const header = headerOf(data);
      // the data names its owner and version itself: a wrong index or a foreign write is refused
      assertOwnedValue(header === undefined ? undefined : { ...header }, this.#context, ref, this.name);
      const values = data.values;
      if (values === null || typeof values !== 'object' || Array.isArray(values)) {
        throw new CofferError(
          'integrity',
          `stored value of secret ${ref.secretId} version ${ref.version} is not a values object`,
        );
      }
      return decodeValues(Buffer.from(JSON.stringify(values), 'utf8'), ref);
    });
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const path = escapePath(this.pathOf(ref.secretId));
    this.#generation++;
    await this.#locked(ref.secretId, () =>
      this.#translated('delete', ref, async () => {
        const meta = await this.#readMetadata(path);
        if (meta === undefined) return;
        this.#assertOwnedSecret(meta, ref);
        const resolved = await this.#resolve(path, meta, ref);
        const kv = resolved.map.get(ref.version);
        if (kv === undefined) return;
        const others = new Map(resolved.map);
        others.delete(ref.version);
        if (others.size === 0) {
          // the last version: the metadata goes, and every version with it
          await this.#call('write', { method: 'DELETE', path: `${this.#mount}/metadata/${path}` });
          return;
        }
        // the value goes first, so a failure halfway never leaves it readable
        await this.#destroy(path, [kv, ...resolved.garbage]);
        try {
          await this.#writeMetadata(
            path,
            ref.secretId,
            others,
            this.#span(others, meta.currentVersion) + maxVersionsHeadroom,
          );
        } catch (err) {
          // the index entry points at a destroyed version, which every reader skips
          this.#context.logger.debug(
            { backend: this.name, reason: kindOf(err) },
            'could not drop a deleted version from the Vault index',
          );
        }
      }),
    );
    this.#generation++;
  }

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    const limit = options.limit ?? 1000;
    const after = options.after;
    let refs: ValueRef[];
    if (options.secretId !== undefined) {
      assertValueRef({ secretId: options.secretId, version: 1 });
      const secretId = options.secretId;
      refs = await this.#translated('list', undefined, () => this.#refsOf(secretId));
    } else {
      refs = await this.#translated('list', undefined, () => this.#listAll(after !== undefined));
    }
    const start = after === undefined ? 0 : refs.findIndex((r) => compareRefs(r, after) > 0);
    return start === -1 ? [] : refs.slice(start, start + limit).map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#session.close();
    this.#http.close();
  }

  /** KV versions a write of KV version `next` needs kept: from the oldest live one to `next`. */
  #span(map: ReadonlyMap<number, number>, next: number): number {
    let oldest = next;
    for (const kv of map.values()) if (kv < oldest) oldest = kv;
    return next - oldest + 1;
  }

  /** Refuses (integrity) a secret whose custom_metadata names another deployment, or none. */
  #assertOwnedSecret(meta: KvMetadata, ref: ValueRef): void {
    assertOwnedValue(labelsForRef(meta.custom, ref), this.#context, ref, this.name);
  }

  #owns(meta: KvMetadata, secretId: string): boolean {
    return (
      meta.custom['coffer-deployment'] === this.#context.deploymentId &&
      meta.custom['coffer-secret-id'] === secretId
    );
  }

  /**
   * Which KV version holds which Coffer version. The index in custom_metadata names them; a live
   * KV version the index does not name (a write whose index update was lost, or is still on its
   * way) is read to learn its Coffer version; of two live KV versions holding the same Coffer
   * version the newer wins and the older is garbage.
   */
  async #resolve(path: string, meta: KvMetadata, ref: ValueRef | undefined): Promise<Resolved> {
    const now = Date.now();
    const live = new Set<number>();
    for (const [kv, v] of meta.versions) if (isLive(v, now)) live.add(kv);
    const claims = new Map<number, number>();
    for (const [key, value] of Object.entries(meta.custom)) {
      const version = versionOfIndexKey(key);
      const kv = Number(value);
      if (version !== undefined && Number.isSafeInteger(kv) && live.has(kv)) claims.set(kv, version);
    }
    const read = new Map<number, Record<string, unknown>>();
    const secretId = meta.custom['coffer-secret-id'] ?? ref?.secretId;
    for (const kv of [...live].filter((k) => !claims.has(k)).sort((a, b) => b - a)) {
      const data = await this.#readVersion(path, kv);
      const header = headerOf(data);
      if (
        data === undefined ||
        header === undefined ||
        header['coffer-deployment'] !== this.#context.deploymentId ||
        header['coffer-secret-id'] !== secretId
      ) {
        continue;
      }
      const version = Number(header['coffer-version']);
      if (!Number.isSafeInteger(version) || version < 1) continue;
      claims.set(kv, version);
      read.set(kv, data);
    }
    const map = new Map<number, number>();
    const garbage: number[] = [];
    for (const [kv, version] of [...claims].sort((a, b) => a[0] - b[0])) {
      const older = map.get(version);
      if (older !== undefined) garbage.push(older);
      map.set(version, kv);
    }
    return { meta, map, garbage, read };
  }

  async #refsOf(secretId: string): Promise<ValueRef[]> {
    const path = escapePath(this.pathOf(secretId));
    const meta = await this.#readMetadata(path);
    if (meta === undefined || !this.#owns(meta, secretId)) return [];
    const resolved = await this.#resolve(path, meta, undefined);
    return [...resolved.map.keys()].sort((a, b) => a - b).map((version) => ({ secretId, version }));
  }

  /** Every ref this deployment holds under its prefix, sorted; pages reuse a fresh snapshot. */
  async #listAll(continuing: boolean): Promise<ValueRef[]> {
    const snapshot = this.#snapshot;
    if (
      continuing &&
      snapshot !== undefined &&
      snapshot.generation === this.#generation &&
      performance.now() - snapshot.takenAt < listingSnapshotMs
    ) {
      return snapshot.refs;
    }
    const generation = this.#generation;
    const takenAt = performance.now();
    const res = await this.#call('read', {
      method: 'GET',
      path: `${this.#mount}/metadata/${escapePath(this.#prefix)}/`,
      query: { list: 'true' },
    });
    const keys =
      res.status === 404 ? [] : ((res.body as { data?: { keys?: unknown } } | undefined)?.data?.keys ?? []);
    const ids = (Array.isArray(keys) ? keys : []).filter(
      (k): k is string => typeof k === 'string' && isSecretId(k),
    );
    const refs: ValueRef[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        refs.push(...(await this.#refsOf(id)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(listingConcurrency, ids.length) }, worker));
    refs.sort(compareRefs);
    this.#snapshot = { generation, takenAt, refs };
    return refs;
  }

  async #readMetadata(path: string): Promise<KvMetadata | undefined> {
    const res = await this.#call('read', { method: 'GET', path: `${this.#mount}/metadata/${path}` });
    if (res.status === 404) return undefined;
    const meta = parseMetadata(res.body);
    if (meta === undefined)
      throw new StoreFailure({ kind: 'rejected', vendorCode: 'not_kv_v2', retry: false }, 1);
    return meta;
  }

  /** The data of one KV version, or undefined when it is gone (deleted, destroyed, never there). */
  async #readVersion(path: string, kv: number): Promise<Record<string, unknown> | undefined> {
    const res = await this.#call('read', {
      method: 'GET',
      path: `${this.#mount}/data/${path}`,
      query: { version: String(kv) },
    });
    if (res.status === 404) return undefined;
    const data = (res.body as { data?: { data?: unknown } } | undefined)?.data?.data;
    return data !== null && typeof data === 'object' && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : undefined;
  }

  async #writeMetadata(
    path: string,
    secretId: string,
    map: ReadonlyMap<number, number>,
    maxVersions: number,
  ): Promise<void> {
    const custom: Record<string, string> = ownerMetadata(this.#context, secretId);
    for (const [version, kv] of map) custom[indexKey(version)] = String(kv);
    await this.#call('write', {
      method: 'POST',
      path: `${this.#mount}/metadata/${path}`,
      body: { max_versions: maxVersions, cas_required: true, custom_metadata: custom },
    });
  }

  async #destroy(path: string, versions: number[]): Promise<void> {
    await this.#call('write', {
      method: 'POST',
      path: `${this.#mount}/destroy/${path}`,
      body: { versions },
    });
  }

  /** Runs `work` after this instance's earlier writes to the same secret. */
  async #locked<T>(secretId: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(secretId) ?? Promise.resolve();
    const mine = before.then(work);
    const tail = mine.then(
      () => {},
      () => {},
    );
    this.#locks.set(secretId, tail);
    try {
      return await mine;
    } finally {
      if (this.#locks.get(secretId) === tail) this.#locks.delete(secretId);
    }
  }

  /**
   * One API call with Coffer's retry layer and, for writes, the rate limit. Answers 2xx and 404
   * come back; anything else is thrown classified. A 403 is looked into once: a token Vault no
   * longer knows is replaced and the call sent again.
   */
  async #call(kind: 'read' | 'write', request: Omit<VaultRequest, 'token'>): Promise<VaultResponse> {
    try {
      return await withRetries(
        async () => {
          if (kind === 'write') await this.#writes.take();
          return this.#authorized(request);
        },
        {
          policy: { maxAttempts: this.#config.maxAttempts },
          classify: vaultRetryVerdict,
          onRetry: (err, attempt, delayMs) => {
            const failure = classifyVaultError(err);
            this.#context.logger.debug(
              { backend: this.name, reason: failure.kind, vendorCode: failure.vendorCode, attempt, delayMs },
              'retrying a Vault call',
            );
          },
        },
      );
    } catch (err) {
      if (err instanceof RetriesExhausted) throw new StoreFailure(classifyVaultError(err.last), err.attempts);
      if (err instanceof CofferError || err instanceof StoreFailure) throw err;
      throw new StoreFailure(classifyVaultError(err), 1);
    }
  }

  async #authorized(request: Omit<VaultRequest, 'token'>): Promise<VaultResponse> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.#session.token();
      const res = await this.#http.send({ ...request, token });
      if (res.status >= 200 && res.status < 300) return res;
      // a read of something absent is an answer; a write to an absent route is a failure
      if (res.status === 404 && request.method !== 'POST') return res;
      if (res.status !== 403) throw new VaultStatusError(res.status, classifyVaultAnswer(res));
      const verdict = attempt === 1 ? await this.#session.denied(token) : 'permission_denied';
      if (verdict === 'retry') continue;
      throw new VaultStatusError(403, { kind: verdict, vendorCode: '403', retry: false });
    }
  }

  /** Runs `work`, turning store failures into Coffer errors that carry no vendor message. */
  async #translated<T>(operation: string, ref: ValueRef | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof StoreFailure)) throw err;
      const { failure, attempts } = err;
      if (operation === 'get' && ref !== undefined && failure.kind === 'not_found') {
        throw valueNotFound(this.name, ref);
      }
      const reason =
        failure.kind === 'not_found' || failure.kind === 'cas_mismatch'
          ? 'rejected'
          : failure.kind === 'forbidden'
            ? 'permission_denied'
            : failure.kind;
      throw remoteFailure({
        backend: this.name,
        type: this.type,
        operation,
        ref,
        reason,
        vendorCode: failure.vendorCode,
        attempts,
      });
    }
  }
}
