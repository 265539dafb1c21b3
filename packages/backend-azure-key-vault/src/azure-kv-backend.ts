import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretClient, SecretProperties } from '@azure/keyvault-secrets';
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
  ownerLabelNames,
  type RateLimiter,
  RetriesExhausted,
  remoteFailure,
  type SecretValues,
  type ValueRef,
  valueNotFound,
  valueTooLarge,
  withRetries,
} from '@coffer/core';
import { type AzureKeyVaultConfig, defaultWritesPerSecond } from './azure-kv-config.js';
import { type AzureFailure, azureRetryVerdict, classifyAzureError } from './azure-kv-errors.js';
import {
  cofferSecretIdOf,
  cofferVersionOf,
  secretNameOf,
  valuesContentType,
  versionTags,
} from './azure-kv-names.js';

/** The backend type id. */
export const azureKeyVaultType = 'azure-key-vault';

/** Every version kept (as Key Vault versions found by tag), listing, owner tags; Key Vault encrypts. */
export const azureKeyVaultCapabilities: BackendCapabilities = Object.freeze({
  versioning: true,
  listing: true,
  labels: true,
  envelope: false,
});

/** The largest secret value Key Vault takes: 25 KB, 25,600 bytes of UTF-8. */
export const maxValueBytes = 25_600;

/**
 * The limits Coffer must respect: 25 KB values. Key Vault documents no limit on the versions of
 * a secret, so none is declared (each lookup pages through them, 25 a request).
 */
export const azureKeyVaultLimits: BackendLimits = Object.freeze({ maxValueBytes });

/** The part of `SecretClient` the backend uses (or a recording stand-in). */
export type SecretClientLike = Pick<
  SecretClient,
  | 'setSecret'
  | 'getSecret'
  | 'updateSecretProperties'
  | 'listPropertiesOfSecrets'
  | 'listPropertiesOfSecretVersions'
  | 'beginDeleteSecret'
  | 'beginRecoverDeletedSecret'
  | 'purgeDeletedSecret'
  | 'getDeletedSecret'
>;

/** A failed call, classified, with the attempts it took. Never leaves the backend. */
class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(
    readonly failure: AzureFailure,
    readonly attempts: number,
  ) {
    super(`store call failed: ${failure.kind}`);
  }
}

/** One Key Vault version of a secret, as a version listing shows it (no value). */
interface KvVersion {
  id: string;
  enabled: boolean;
  /** Creation time in ms (Key Vault counts whole seconds). */
  created: number;
  tags: Record<string, string>;
}

interface ListingSnapshot {
  generation: number;
  takenAt: number;
  refs: ValueRef[];
}

/** A fresh listing is reused by the next pages for this long, unless this instance wrote. */
const listingSnapshotMs = 5_000;
/** Rounds of a write when the name is pending deletion or being deleted or recovered. */
const maxRounds = 8;
/** Items per list page; the most Key Vault hands out. */
const pageSize = 25;
/** How often the SDK's pollers look whether a delete or recover is done, and for how long. */
const pollIntervalMs = 500;
const pollTimeoutMs = 120_000;
/** Where Coffer versions were last found (ref → Key Vault version id), at most this many. */
const maxLocated = 10_000;
/** Secrets whose versions a full listing reads at the same time. */
const listConcurrency = 8;

function compareRefs(a: ValueRef, b: ValueRef): number {
  if (a.secretId !== b.secretId) return a.secretId < b.secretId ? -1 : 1;
  return a.version - b.version;
}

function refKey(ref: ValueRef): string {
  return `${ref.secretId}/${ref.version}`;
}

function kindOf(err: unknown): AzureFailure['kind'] | undefined {
  return err instanceof StoreFailure ? err.failure.kind : undefined;
}

function toVersion(properties: SecretProperties): KvVersion | undefined {
  if (properties.version === undefined || properties.version === '') return undefined;
  return {
    id: properties.version,
    enabled: properties.enabled !== false,
    created: properties.createdOn?.getTime() ?? 0,
    tags: { ...(properties.tags ?? {}) },
  };
}

/**
 * The version holding Coffer version `version`: among the enabled versions tagged with it, the
 * newest (by creation, then id, so every reader picks the same one).
 */
function holderOf(versions: readonly KvVersion[], version: number): KvVersion | undefined {
  let best: KvVersion | undefined;
  for (const v of versions) {
    if (!v.enabled || cofferVersionOf(v.tags) !== version) continue;
    if (best === undefined || v.created > best.created || (v.created === best.created && v.id > best.id)) {
      best = v;
    }
  }
  return best;
}

/** Owner tags as `assertOwnedValue` reads them for writing `ref` next to a version of another ref. */
function asForRef(tags: Readonly<Record<string, string>> | undefined, ref: ValueRef): Record<string, string> {
  return { ...(tags ?? {}), [ownerLabelNames.version]: String(ref.version) };
}

/**
 * Coffer values in Azure Key Vault: one Key Vault secret per Coffer secret, named
 * `<clusterPrefix>-<secret id>`; each Coffer version is a Key Vault version of it (every set
 * makes one) whose tags name the owning deployment and the Coffer version (`coffer-version`).
 * A Coffer version is found by listing the secret's versions; a deleted or replaced one is
 * disabled, and the secret itself is deleted (soft delete) with its last version.
 */
export class AzureKeyVaultBackend implements Backend {
  readonly type = azureKeyVaultType;
  readonly capabilities = azureKeyVaultCapabilities;
  readonly limits = azureKeyVaultLimits;
  readonly name: string;
  readonly #client: SecretClientLike;
  readonly #config: AzureKeyVaultConfig;
  readonly #context: BackendContext;
  readonly #writes: RateLimiter;
  /** Per secret, the tail of the chain of this instance's writes to it (one at a time). */
  readonly #locks = new Map<string, Promise<void>>();
  /** Where each recently used Coffer version was found; checked again on every read. */
  readonly #located = new Map<string, string>();
  #generation = 0;
  #snapshot: ListingSnapshot | undefined;

  readonly #release: (() => void) | undefined;

  /** `release` frees what the client holds (its connections) on close. */
  constructor(
    client: SecretClientLike,
    config: AzureKeyVaultConfig,
    context: BackendContext,
    release?: () => void,
  ) {
    this.name = context.name;
    this.#release = release;
    this.#client = client;
    this.#config = config;
    this.#context = context;
    this.#writes = createRateLimiter({ perSecond: config.writesPerSecond ?? defaultWritesPerSecond });
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const text = encodeValues(values).toString('utf8');
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxValueBytes)
      throw valueTooLarge(this.name, ref, bytes, maxValueBytes, 'Key Vault secret value');
    const name = this.#nameOf(ref.secretId);
    this.#generation++;
    await this.#locked(ref.secretId, () =>
      this.#translated('put', ref, async () => {
        for (let round = 1; ; round++) {
          const versions = (await this.#versions(name)) ?? [];
          this.#assertWritable(versions, ref);
          const replaced = versions.filter((v) => v.enabled && cofferVersionOf(v.tags) === ref.version);
          let written: string | undefined;
          try {
            const set = await this.#call('write', () =>
              this.#client.setSecret(name, text, {
                tags: versionTags(this.#context, ref),
                contentType: valuesContentType,
              }),
            );
            written = set.properties.version;
          } catch (err) {
            const kind = kindOf(err);
            if (round < maxRounds && kind === 'deleted') {
              // the name is pending deletion: bring it back (or purge it), then write
              await this.#revive(name, ref);
              continue;
            }
            if (round < maxRounds && kind === 'busy') {
              await sleep(Math.min(4_000, 250 * 2 ** (round - 1)));
              continue;
            }
            throw err;
          }
          this.#forget(ref);
          // the replaced versions go after the new one is there, so a reader always finds one
          for (const old of replaced) await this.#disable(name, old.id);
          if (written !== undefined) this.#remember(ref, written);
          return;
        }
      }),
    );
    this.#generation++;
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    const name = this.#nameOf(ref.secretId);
    return this.#translated('get', ref, async () => {
      for (let round = 1; round <= 3; round++) {
        let id = this.#located.get(refKey(ref));
        if (id === undefined) {
          const versions = await this.#versions(name);
          const holder = versions === undefined ? undefined : holderOf(versions, ref.version);
          if (holder === undefined) throw valueNotFound(this.name, ref);
          // a value another deployment wrote is refused before it is read
          assertOwnedValue(holder.tags, this.#context, ref, this.name);
          id = holder.id;
        }
        const versionId = id;
        const got = await this.#optional(() =>
          this.#call('read', () => this.#client.getSecret(name, { version: versionId })),
        );
        if (got === undefined) {
          // disabled or gone since it was found (deleted or replaced by another writer): look again
          this.#forget(ref);
          continue;
        }
        assertOwnedValue(got.properties.tags, this.#context, ref, this.name);
        this.#remember(ref, versionId);
        return decodeValues(Buffer.from(got.value ?? '', 'utf8'), ref);
      }
      throw valueNotFound(this.name, ref);
    });
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const name = this.#nameOf(ref.secretId);
    this.#generation++;
    await this.#locked(ref.secretId, () =>
      this.#translated('delete', ref, async () => {
        const versions = await this.#versions(name);
        if (versions === undefined) return;
        const targets = versions.filter((v) => v.enabled && cofferVersionOf(v.tags) === ref.version);
        if (targets.length === 0) return;
        for (const target of targets) assertOwnedValue(target.tags, this.#context, ref, this.name);
        const others = versions.filter((v) => v.enabled && !targets.includes(v));
        this.#forget(ref);
        // disabled first: a failure halfway never leaves the value readable, and a secret
        // recovered later shows no version Coffer deleted
        for (const target of targets) await this.#disable(name, target.id);
        if (others.length === 0) await this.#deleteSecret(name);
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
      refs = await this.#translated('list', undefined, async () =>
        this.#refsOf(secretId, (await this.#versions(this.#nameOf(secretId))) ?? []),
      );
    } else {
      refs = await this.#translated('list', undefined, () => this.#listAll(after !== undefined));
    }
    const start = after === undefined ? 0 : refs.findIndex((r) => compareRefs(r, after) > 0);
    return start === -1 ? [] : refs.slice(start, start + limit).map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    this.#located.clear();
    this.#release?.();
  }

  #nameOf(secretId: string): string {
    return secretNameOf(this.#context.clusterPrefix, secretId);
  }

  #remember(ref: ValueRef, id: string): void {
    const key = refKey(ref);
    this.#located.delete(key);
    this.#located.set(key, id);
    if (this.#located.size > maxLocated) {
      const oldest = this.#located.keys().next();
      if (oldest.done !== true) this.#located.delete(oldest.value);
    }
  }

  #forget(ref: ValueRef): void {
    this.#located.delete(refKey(ref));
  }

  /** Refuses (integrity) to write into a secret whose live versions another deployment owns. */
  #assertWritable(versions: readonly KvVersion[], ref: ValueRef): void {
    for (const v of versions) {
      if (v.enabled) assertOwnedValue(asForRef(v.tags, ref), this.#context, ref, this.name);
    }
  }

  /** The Coffer versions this deployment holds in a secret's Key Vault versions, sorted. */
  #refsOf(secretId: string, versions: readonly KvVersion[]): ValueRef[] {
    const seen = new Set<number>();
    for (const v of versions) {
      const version = cofferVersionOf(v.tags);
      if (
        !v.enabled ||
        version === undefined ||
        v.tags[ownerLabelNames.deployment] !== this.#context.deploymentId ||
        v.tags[ownerLabelNames.secretId] !== secretId
      ) {
        continue;
      }
      seen.add(version);
    }
    return [...seen].sort((a, b) => a - b).map((version) => ({ secretId, version }));
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

  /** Every version of a secret (25 a request), or undefined when there is no such live secret. */
  async #versions(name: string): Promise<KvVersion[] | undefined> {
    const all = await this.#optional(() =>
      this.#call('read', () => this.#allPages(this.#client.listPropertiesOfSecretVersions(name))),
    );
    if (all === undefined) return undefined;
    const out: KvVersion[] = [];
    for (const properties of all) {
      const version = toVersion(properties);
      if (version !== undefined) out.push(version);
    }
    return out;
  }

  /**
   * Every item of a listing, following `nextLink` page by page (25 a page). The SDK's mapped
   * pages do not hand out their continuation token, so a retry starts the listing again.
   */
  async #allPages(paged: {
    byPage(settings?: { maxPageSize?: number }): AsyncIterableIterator<SecretProperties[]>;
  }): Promise<SecretProperties[]> {
    const items: SecretProperties[] = [];
    for await (const page of paged.byPage({ maxPageSize: pageSize })) items.push(...page);
    return items;
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
    const secrets: { secretId: string; name: string }[] = [];
    const listed = await this.#call('read', () => this.#allPages(this.#client.listPropertiesOfSecrets()));
    for (const properties of listed) {
      const secretId = cofferSecretIdOf(this.#context.clusterPrefix, properties.name);
      if (secretId !== undefined) secrets.push({ secretId, name: properties.name });
    }
    const refs: ValueRef[] = [];
    let next = 0;
    const worker = async () => {
      while (next < secrets.length) {
        const { secretId, name } = secrets[next++]!;
        refs.push(...this.#refsOf(secretId, (await this.#versions(name)) ?? []));
      }
    };
    await Promise.all(Array.from({ length: Math.min(listConcurrency, secrets.length) }, worker));
    refs.sort(compareRefs);
    this.#snapshot = { generation, takenAt, refs };
    return refs;
  }

  /** Disables one version; one that is gone already is fine. */
  async #disable(name: string, id: string): Promise<void> {
    try {
      await this.#call('write', () => this.#client.updateSecretProperties(name, id, { enabled: false }));
    } catch (err) {
      if (kindOf(err) !== 'not_found') throw err;
    }
  }

  /** Deletes the whole secret (soft delete) and, with `purgeDeleted`, purges it when the vault lets us. */
  async #deleteSecret(name: string): Promise<void> {
    try {
      await this.#call('write', async () => {
        const poller = await this.#client.beginDeleteSecret(name, { intervalInMs: pollIntervalMs });
        await poller.pollUntilDone({ abortSignal: AbortSignal.timeout(pollTimeoutMs) });
      });
    } catch (err) {
      // deleted already (by a retry of ours, or another writer)
      if (kindOf(err) === 'not_found') return;
      throw err;
    }
    if (!this.#config.purgeDeleted) return;
    try {
      await this.#call('write', () => this.#client.purgeDeletedSecret(name));
    } catch (err) {
      if (!(err instanceof StoreFailure)) throw err;
      // purge protection, a missing purge permission or an outage: the vault purges it after its retention period
      this.#context.logger.warn(
        { backend: this.name, reason: err.failure.kind, vendorCode: err.failure.vendorCode },
        'a deleted Key Vault secret could not be purged; it stays recoverable until its retention period ends',
      );
    }
  }

  /**
   * Makes a name pending deletion writable again: purged when `purgeDeleted` is set and the vault
   * allows it, recovered otherwise (recovered versions come back as they were deleted: Coffer
   * disables a version before it deletes a secret, so only values deleted behind its back return).
   * A deleted secret another deployment owned is refused (integrity).
   */
  async #revive(name: string, ref: ValueRef): Promise<void> {
    const deleted = await this.#optional(() => this.#call('read', () => this.#client.getDeletedSecret(name)));
    if (deleted === undefined) return;
    assertOwnedValue(asForRef(deleted.properties.tags, ref), this.#context, ref, this.name);
    if (this.#config.purgeDeleted) {
      try {
        await this.#call('write', () => this.#client.purgeDeletedSecret(name));
        return;
      } catch (err) {
        if (kindOf(err) !== 'permission_denied') throw err;
      }
    }
    await this.#call('write', async () => {
      const poller = await this.#client.beginRecoverDeletedSecret(name, { intervalInMs: pollIntervalMs });
      await poller.pollUntilDone({ abortSignal: AbortSignal.timeout(pollTimeoutMs) });
    });
  }

  /** The result, or undefined when the secret or version is not there, or disabled. */
  async #optional<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      const kind = kindOf(err);
      if (kind === 'not_found' || kind === 'disabled') return undefined;
      throw err;
    }
  }

  /** One SDK call with Coffer's retry layer (the SDK's own is off) and, for writes, the rate limit. */
  async #call<T>(kind: 'read' | 'write', call: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(
        async () => {
          if (kind === 'write') await this.#writes.take();
          return call();
        },
        {
          policy: { maxAttempts: this.#config.maxAttempts },
          classify: azureRetryVerdict,
          onRetry: (err, attempt, delayMs) => {
            const failure = classifyAzureError(err);
            this.#context.logger.debug(
              { backend: this.name, reason: failure.kind, vendorCode: failure.vendorCode, attempt, delayMs },
              'retrying a Key Vault call',
            );
          },
        },
      );
    } catch (err) {
      if (err instanceof RetriesExhausted) throw new StoreFailure(classifyAzureError(err.last), err.attempts);
      if (err instanceof CofferError) throw err;
      throw new StoreFailure(classifyAzureError(err), 1);
    }
  }

  /** Runs `work`, turning store failures into Coffer errors that carry no vendor message. */
  async #translated<T>(operation: string, ref: ValueRef | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof StoreFailure)) throw err;
      const { failure, attempts } = err;
      if (
        operation === 'get' &&
        ref !== undefined &&
        (failure.kind === 'not_found' || failure.kind === 'disabled')
      ) {
        throw valueNotFound(this.name, ref);
      }
      const reason =
        failure.kind === 'not_found' ||
        failure.kind === 'disabled' ||
        failure.kind === 'deleted' ||
        failure.kind === 'busy' ||
        failure.kind === 'conflict'
          ? 'rejected'
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
