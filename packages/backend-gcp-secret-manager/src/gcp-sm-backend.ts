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
  type RateLimiter,
  RetriesExhausted,
  remoteFailure,
  type SecretValues,
  type ValueRef,
  valueNotFound,
  valueTooLarge,
  withRetries,
} from '@coffer/core';
import { crc32c } from '@coffer/gcp-kit';
import { defaultWritesPerSecond, type GcpSecretManagerConfig } from './gcp-sm-config.js';
import { classifyGcpError, type GcpFailure, gcpRetryVerdict } from './gcp-sm-errors.js';
import {
  cofferSecretIdOf,
  labelsForRef,
  lastSegment,
  ownerSecretLabels,
  secretIdOf,
  versionAlias,
  versionOfAlias,
} from './gcp-sm-names.js';

/** The backend type id. */
export const gcpSecretManagerType = 'gcp-secret-manager';

/** Every version kept (as secret versions with aliases), listing, owner labels; Google encrypts. */
export const gcpSecretManagerCapabilities: BackendCapabilities = Object.freeze({
  versioning: true,
  listing: true,
  labels: true,
  envelope: false,
});

/** The payload limit of one secret version: 64 KiB. */
export const maxPayloadBytes = 65_536;
/** Version aliases Secret Manager allows on one secret; each kept Coffer version takes one. */
export const versionAliasQuota = 50;

/** The limits Coffer must respect: 64 KiB values, as many versions as there are aliases. */
export const gcpSecretManagerLimits: BackendLimits = Object.freeze({
  maxValueBytes: maxPayloadBytes,
  maxVersionsPerSecret: versionAliasQuota,
});

/** What the backend reads and writes of a secret (the SDK's `ISecret`, the part we use). */
export interface SecretResource {
  name?: string | null;
  labels?: Record<string, string> | null;
  versionAliases?: Record<string, number | string | { toString(): string }> | null;
  etag?: string | null;
  replication?: unknown;
  customerManagedEncryption?: unknown;
}

interface VersionResource {
  name?: string | null;
}

interface AccessResponse {
  name?: string | null;
  payload?: { data?: Uint8Array | string | null; dataCrc32c?: unknown } | null;
}

type Call<Req, Res> = (request: Req, options?: object) => Promise<[Res, ...unknown[]]>;

/** The part of `SecretManagerServiceClient` the backend uses (or a recording stand-in). */
export interface SecretManagerLike {
  getSecret: Call<{ name: string }, SecretResource>;
  createSecret: Call<{ parent: string; secretId: string; secret: SecretResource }, SecretResource>;
  updateSecret: Call<{ secret: SecretResource; updateMask: { paths: string[] } }, SecretResource>;
  deleteSecret: Call<{ name: string; etag?: string }, unknown>;
  addSecretVersion: Call<
    { parent: string; payload: { data: Uint8Array; dataCrc32c: number } },
    VersionResource
  >;
  accessSecretVersion: Call<{ name: string }, AccessResponse>;
  destroySecretVersion: Call<{ name: string }, VersionResource>;
  listSecrets: Call<
    { parent: string; pageSize: number; pageToken?: string; filter: string },
    SecretResource[]
  >;
  close(): Promise<void>;
}

/** A failed call, classified, with the attempts it took. Never leaves the backend. */
class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(
    readonly failure: GcpFailure,
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

/** A fresh listing is reused by the next pages for this long, unless this instance wrote. */
const listingSnapshotMs = 5_000;
/** How long a verified owner check of a secret is trusted before `get` looks again. */
const ownerCheckMs = 30_000;
/** Rounds of read-modify-write when another writer changed the secret in between (etag). */
const maxRounds = 6;

function compareRefs(a: ValueRef, b: ValueRef): number {
  if (a.secretId !== b.secretId) return a.secretId < b.secretId ? -1 : 1;
  return a.version - b.version;
}

/** The secret's aliases as numbers (the SDK hands int64 as strings). */
function aliasesOf(secret: SecretResource): Map<string, number> {
  const aliases = new Map<string, number>();
  for (const [alias, version] of Object.entries(secret.versionAliases ?? {})) {
    const n = Number(String(version));
    if (Number.isSafeInteger(n) && n > 0) aliases.set(alias, n);
  }
  return aliases;
}

function cofferVersions(secret: SecretResource): number[] {
  const versions: number[] = [];
  for (const alias of aliasesOf(secret).keys()) {
    const v = versionOfAlias(alias);
    if (v !== undefined) versions.push(v);
  }
  return versions.sort((a, b) => a - b);
}

/** The result in an SDK answer tuple (`[response, request, raw]`). */
function first<T>(answer: [T, ...unknown[]]): T {
  return answer[0];
}

function kindOf(err: unknown): GcpFailure['kind'] | undefined {
  return err instanceof StoreFailure ? err.failure.kind : undefined;
}

/**
 * Coffer values in Google Cloud Secret Manager: one secret per Coffer secret, with the id
 * `<clusterPrefix>-<secret id>` and labels naming the owning deployment; each Coffer version is
 * a secret version, found by the version alias `coffer-v<n>` on the secret.
 */
export class GcpSecretManagerBackend implements Backend {
  readonly type = gcpSecretManagerType;
  readonly capabilities = gcpSecretManagerCapabilities;
  readonly limits = gcpSecretManagerLimits;
  readonly name: string;
  readonly #client: SecretManagerLike;
  readonly #config: GcpSecretManagerConfig;
  readonly #context: BackendContext;
  readonly #writes: RateLimiter;
  readonly #parent: string;
  /** Per secret, the tail of the chain of this instance's writes to it (one at a time). */
  readonly #locks = new Map<string, Promise<void>>();
  /** Secrets whose owner labels were checked, and until when that holds. */
  readonly #owned = new Map<string, number>();
  #generation = 0;
  #snapshot: ListingSnapshot | undefined;
  #closed = false;

  constructor(client: SecretManagerLike, config: GcpSecretManagerConfig, context: BackendContext) {
    this.name = context.name;
    this.#client = client;
    this.#config = config;
    this.#context = context;
    this.#writes = createRateLimiter({ perSecond: config.writesPerSecond ?? defaultWritesPerSecond });
    this.#parent =
      config.location === undefined
        ? `projects/${config.projectId}`
        : `projects/${config.projectId}/locations/${config.location}`;
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const data = encodeValues(values);
    if (data.length > maxPayloadBytes) {
      throw valueTooLarge(this.name, ref, data.length, maxPayloadBytes, 'Secret Manager payload');
    }
    const name = this.#secretName(ref.secretId);
    const alias = versionAlias(ref.version);
    this.#generation++;
    await this.#locked(ref.secretId, () =>
      this.#translated('put', ref, async () => {
        let created: SecretResource | undefined;
        try {
          for (let round = 1; ; round++) {
            const prepared = await this.#prepareForWrite(name, ref);
            const secret = prepared.secret;
            if (prepared.created) created = secret;
            if (await this.#putVersion(name, ref, alias, data, secret, round)) return;
          }
        } catch (err) {
          // a secret this put made and could not fill goes again, unless someone else wrote to it
          if (created !== undefined) await this.#removeEmpty(name, created);
          throw err;
        }
      }),
    );
    this.#generation++;
  }

  /** Adds the version and points the alias at it; false when another writer came between (retry). */
  async #putVersion(
    name: string,
    ref: ValueRef,
    alias: string,
    data: Buffer,
    secret: SecretResource,
    round: number,
  ): Promise<boolean> {
    const aliases = aliasesOf(secret);
    const replaced = aliases.get(alias);
    if (replaced === undefined && aliases.size >= versionAliasQuota) {
      throw remoteFailure({
        backend: this.name,
        type: this.type,
        operation: 'put',
        ref,
        reason: 'limit_exceeded',
        vendorCode: 'versionAliases',
      });
    }
    const added = await this.#call('write', async () =>
      first(
        await this.#client.addSecretVersion(
          { parent: name, payload: { data, dataCrc32c: crc32c(data) } },
          this.#options(),
        ),
      ),
    );
    const number = Number(lastSegment(added.name));
    if (!Number.isSafeInteger(number) || number < 1) {
      throw new CofferError('integrity', `backend ${this.name} got no version number for a new version`);
    }
    aliases.set(alias, number);
    try {
      await this.#updateAliases(name, secret, aliases);
    } catch (err) {
      // the new version holds the value but no alias points at it: take it away again
      await this.#destroy(`${name}/versions/${number}`).catch(() => {});
      const kind = kindOf(err);
      if (round < maxRounds && (kind === 'aborted' || kind === 'not_found')) return false;
      throw err;
    }
    if (replaced !== undefined && replaced !== number) await this.#destroy(`${name}/versions/${replaced}`);
    return true;
  }

  /** Deletes a secret this instance made if it is still as made (its etag unchanged). */
  async #removeEmpty(name: string, created: SecretResource): Promise<void> {
    try {
      await this.#call('write', async () =>
        first(
          await this.#client.deleteSecret(
            { name, ...(created.etag ? { etag: created.etag } : {}) },
            this.#options(),
          ),
        ),
      );
    } catch {
      // best effort: an empty secret holds no value, and the next put or delete uses it
    }
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    const name = this.#secretName(ref.secretId);
    return this.#translated('get', ref, async () => {
      const [, access] = await Promise.all([
        this.#checkOwner(name, ref),
        this.#optional(() =>
          this.#call('access', async () =>
            first(
              await this.#client.accessSecretVersion(
                { name: `${name}/versions/${versionAlias(ref.version)}` },
                this.#options(),
              ),
            ),
          ),
        ),
      ]);
      if (access === undefined) throw valueNotFound(this.name, ref);
      const data = access.payload?.data;
      const bytes =
        typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data ?? new Uint8Array());
      const sum = access.payload?.dataCrc32c;
      if (sum !== undefined && sum !== null && Number(String(sum)) !== crc32c(bytes)) {
        throw new CofferError(
          'integrity',
          `backend ${this.name} returned a payload for secret ${ref.secretId} version ${ref.version} whose checksum does not match`,
        );
      }
      return decodeValues(bytes, ref);
    });
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const name = this.#secretName(ref.secretId);
    const alias = versionAlias(ref.version);
    this.#generation++;
    await this.#locked(ref.secretId, () =>
      this.#translated('delete', ref, async () => {
        for (let round = 1; ; round++) {
          const secret = await this.#getSecret(name);
          if (secret === undefined) return;
          assertOwnedValue(labelsForRef(secret.labels, ref), this.#context, ref, this.name);
          const aliases = aliasesOf(secret);
          const number = aliases.get(alias);
          if (number === undefined) return;
          aliases.delete(alias);
          try {
            if (aliases.size === 0) {
              // the last version: the secret goes, and every version with it
              this.#owned.delete(ref.secretId);
              await this.#call('write', async () =>
                first(
                  await this.#client.deleteSecret(
                    { name, ...(secret.etag ? { etag: secret.etag } : {}) },
                    this.#options(),
                  ),
                ),
              );
            } else {
              // the value goes first, so a failure halfway never leaves it readable
              await this.#destroy(`${name}/versions/${number}`);
              await this.#updateAliases(name, secret, aliases);
            }
            return;
          } catch (err) {
            const kind = kindOf(err);
            if (kind === 'not_found') return;
            if (round < maxRounds && kind === 'aborted') continue;
            throw err;
          }
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
      refs = await this.#translated('list', undefined, async () => {
        const secret = await this.#getSecret(this.#secretName(secretId));
        if (secret === undefined || !this.#owns(secret)) return [];
        return cofferVersions(secret).map((version) => ({ secretId, version }));
      });
    } else {
      refs = await this.#translated('list', undefined, () => this.#listAll(after !== undefined));
    }
    const start = after === undefined ? 0 : refs.findIndex((r) => compareRefs(r, after) > 0);
    return start === -1 ? [] : refs.slice(start, start + limit).map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  #secretName(cofferSecretId: string): string {
    return `${this.#parent}/secrets/${secretIdOf(this.#context.clusterPrefix, cofferSecretId)}`;
  }

  #owns(secret: SecretResource): boolean {
    return secret.labels?.['coffer-deployment'] === this.#context.deploymentId;
  }

  /** Per-call options: the SDK's own retries off (Coffer's layer retries), our timeout. */
  #options(): object {
    return { retry: { retryCodes: [] }, timeout: this.#config.requestTimeoutMs };
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

  /** Refuses (integrity) a secret another deployment owns; a recent check is trusted. */
  async #checkOwner(name: string, ref: ValueRef): Promise<void> {
    const until = this.#owned.get(ref.secretId);
    if (until !== undefined && until > performance.now()) return;
    const secret = await this.#getSecret(name);
    if (secret === undefined) throw valueNotFound(this.name, ref);
    assertOwnedValue(labelsForRef(secret.labels, ref), this.#context, ref, this.name);
    this.#owned.set(ref.secretId, performance.now() + ownerCheckMs);
  }

  /** The secret, made when it is not there yet, checked to be this deployment's. */
  async #prepareForWrite(name: string, ref: ValueRef): Promise<{ secret: SecretResource; created: boolean }> {
    for (let round = 1; ; round++) {
      const existing = await this.#getSecret(name);
      if (existing !== undefined) {
        assertOwnedValue(labelsForRef(existing.labels, ref), this.#context, ref, this.name);
        return { secret: existing, created: false };
      }
      try {
        const secret = await this.#call('write', async () =>
          first(
            await this.#client.createSecret(
              {
                parent: this.#parent,
                secretId: lastSegment(name),
                secret: this.#newSecret(ref.secretId),
              },
              this.#options(),
            ),
          ),
        );
        return { secret, created: true };
      } catch (err) {
        // another writer made it in between: read it again
        if (round < maxRounds && kindOf(err) === 'already_exists') continue;
        throw err;
      }
    }
  }

  #newSecret(cofferSecretId: string): SecretResource {
    const labels = ownerSecretLabels(this.#context, cofferSecretId);
    const { replication, kmsKeyName, location } = this.#config;
    if (location !== undefined) {
      return { labels, ...(kmsKeyName === undefined ? {} : { customerManagedEncryption: { kmsKeyName } }) };
    }
    if (replication === 'automatic') {
      return {
        labels,
        replication: {
          automatic: kmsKeyName === undefined ? {} : { customerManagedEncryption: { kmsKeyName } },
        },
      };
    }
    return {
      labels,
      replication: {
        userManaged: {
          replicas: replication.userManaged.map((r) => ({
            location: r.location,
            ...(r.kmsKeyName === undefined
              ? {}
              : { customerManagedEncryption: { kmsKeyName: r.kmsKeyName } }),
          })),
        },
      },
    };
  }

  async #updateAliases(name: string, secret: SecretResource, aliases: Map<string, number>): Promise<void> {
    const versionAliases: Record<string, number> = {};
    for (const [alias, version] of aliases) versionAliases[alias] = version;
    await this.#call('write', async () =>
      first(
        await this.#client.updateSecret(
          {
            secret: { name, versionAliases, ...(secret.etag ? { etag: secret.etag } : {}) },
            updateMask: { paths: ['version_aliases'] },
          },
          this.#options(),
        ),
      ),
    );
  }

  /** Destroys one version; one that is gone or destroyed already is fine. */
  async #destroy(versionName: string): Promise<void> {
    try {
      await this.#call('write', async () =>
        first(await this.#client.destroySecretVersion({ name: versionName }, this.#options())),
      );
    } catch (err) {
      const kind = kindOf(err);
      if (kind === 'not_found' || kind === 'failed_precondition') return;
      throw err;
    }
  }

  async #getSecret(name: string): Promise<SecretResource | undefined> {
    return this.#optional(() =>
      this.#call('read', async () => first(await this.#client.getSecret({ name }, this.#options()))),
    );
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
    const refs: ValueRef[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const [secrets, , response] = (await this.#call('read', () =>
        this.#client.listSecrets(
          {
            parent: this.#parent,
            pageSize: 25_000,
            filter: `labels.coffer-deployment=${this.#context.deploymentId}`,
            ...(pageToken === undefined ? {} : { pageToken }),
          },
          { ...this.#options(), autoPaginate: false },
        ),
      )) as [SecretResource[], ...unknown[]] as [
        SecretResource[],
        unknown,
        { nextPageToken?: string | null } | undefined,
      ];
      for (const secret of secrets ?? []) {
        const secretId = cofferSecretIdOf(this.#context.clusterPrefix, lastSegment(secret.name));
        if (secretId === undefined || !this.#owns(secret)) continue;
        for (const version of cofferVersions(secret)) refs.push({ secretId, version });
      }
      pageToken = response?.nextPageToken ?? undefined;
      if (pageToken === undefined || pageToken === '') break;
    }
    refs.sort(compareRefs);
    this.#snapshot = { generation, takenAt, refs };
    return refs;
  }

  /** The result, or undefined when the secret or version is not there (or destroyed). */
  async #optional<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      const kind = kindOf(err);
      if (kind === 'not_found' || kind === 'failed_precondition') return undefined;
      throw err;
    }
  }

  /**
   * One SDK call with Coffer's retry layer (the SDK's own is off) and, for writes, the rate
   * limit. `call` makes a fresh request each attempt.
   */
  async #call<T>(kind: 'read' | 'write' | 'access', call: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(
        async () => {
          if (kind === 'write') await this.#writes.take();
          return call();
        },
        {
          policy: { maxAttempts: this.#config.maxAttempts },
          classify: gcpRetryVerdict,
          onRetry: (err, attempt, delayMs) => {
            const failure = classifyGcpError(err);
            this.#context.logger.debug(
              { backend: this.name, reason: failure.kind, vendorCode: failure.vendorCode, attempt, delayMs },
              'retrying a Secret Manager call',
            );
          },
        },
      );
    } catch (err) {
      if (err instanceof RetriesExhausted) throw new StoreFailure(classifyGcpError(err.last), err.attempts);
      if (err instanceof CofferError) throw err;
      throw new StoreFailure(classifyGcpError(err), 1);
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
        failure.kind === 'not_found' ||
        failure.kind === 'already_exists' ||
        failure.kind === 'failed_precondition' ||
        failure.kind === 'aborted'
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
