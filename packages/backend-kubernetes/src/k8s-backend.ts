import { setTimeout as sleep } from 'node:timers/promises';
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
import type { V1Secret } from '@kubernetes/client-node';
import type { SecretsApiLike } from './k8s-client.js';
import { defaultWritesPerSecond, type KubernetesConfig } from './k8s-config.js';
import { classifyKubernetesError, type KubernetesFailure, kubernetesRetryVerdict } from './k8s-errors.js';
import {
  ownedSelector,
  ownerView,
  refOfSecretName,
  secretLabels,
  secretNameOf,
  valuesKey,
} from './k8s-names.js';

/** The backend type id. */
export const kubernetesType = 'kubernetes';

/** Every version its own Secret, listing by labels, owner labels; no encryption of its own. */
export const kubernetesCapabilities: BackendCapabilities = Object.freeze({
  versioning: true,
  listing: true,
  labels: true,
  envelope: false,
});

/**
 * The API server refuses a Secret whose `data` values add up to more than 1 MiB (1,048,576
 * decoded bytes; keys and base64 do not count): `Secret "x" is invalid: data: Too long: must have
 * at most 1048576 bytes` (422 Invalid). One version's values JSON is the one value of its Secret.
 */
export const maxSecretDataBytes = 1_048_576;

/** One Secret per version: no limit on versions; values up to the Secret size limit. */
export const kubernetesLimits: BackendLimits = Object.freeze({ maxValueBytes: maxSecretDataBytes });

/** Secrets per list page. */
const listPageSize = 500;
/** A fresh listing is reused by the next pages for this long, unless this instance wrote. */
const listingSnapshotMs = 5_000;
/** Rounds of read-modify-write when another writer changed the Secret in between (409 Conflict). */
const maxRounds = 10;

/**
 * A short random pause before the next round after a lost race, growing with the rounds (as
 * client-go's RetryOnConflict backs off), so two writers of one Secret do not collide in step.
 */
function conflictPause(round: number): Promise<void> {
  return sleep(Math.floor(Math.random() * 10 * Math.min(round, 5)));
}

/** A failed call, classified, with the attempts it took. Never leaves the backend. */
class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(
    readonly failure: KubernetesFailure,
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

function kindOf(err: unknown): KubernetesFailure['kind'] | undefined {
  return err instanceof StoreFailure ? err.failure.kind : undefined;
}

/**
 * Coffer values in Kubernetes Secrets: one Secret per version, named
 * `<clusterPrefix>-<secret id>-v<version>`, `type: Opaque`, the values' JSON under the data key
 * `values.json`, labelled with the owning deployment, the cluster prefix, the secret id and the
 * version. Replacing a version is an update conditional on the resourceVersion read (a 409
 * Conflict reads again); deleting one deletes its Secret with uid and resourceVersion
 * preconditions.
 */
export class KubernetesBackend implements Backend {
  readonly type = kubernetesType;
  readonly capabilities = kubernetesCapabilities;
  readonly limits = kubernetesLimits;
  readonly name: string;
  readonly #api: SecretsApiLike;
  readonly #namespace: string;
  readonly #config: KubernetesConfig;
  readonly #context: BackendContext;
  readonly #writes: RateLimiter;
  readonly #onClose: (() => Promise<void>) | undefined;
  /** Per Secret name, the tail of the chain of this instance's writes to it (one at a time). */
  readonly #locks = new Map<string, Promise<void>>();
  #generation = 0;
  #snapshot: ListingSnapshot | undefined;
  #closed = false;

  constructor(
    api: SecretsApiLike,
    namespace: string,
    config: KubernetesConfig,
    context: BackendContext,
    onClose?: () => Promise<void>,
  ) {
    this.name = context.name;
    this.#api = api;
    this.#namespace = namespace;
    this.#config = config;
    this.#context = context;
    this.#onClose = onClose;
    this.#writes = createRateLimiter({ perSecond: config.writesPerSecond ?? defaultWritesPerSecond });
  }

  /** The namespace the values live in. */
  get namespace(): string {
    return this.#namespace;
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    assertValueRef(ref);
    const data = encodeValues(values);
    if (data.length > maxSecretDataBytes) {
      throw valueTooLarge(this.name, ref, data.length, maxSecretDataBytes, 'Kubernetes Secret data');
    }
    const name = secretNameOf(this.#context.clusterPrefix, ref);
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: this.#namespace, labels: secretLabels(this.#context, ref) },
      type: 'Opaque',
      data: { [valuesKey]: data.toString('base64') },
    };
    this.#generation++;
    try {
      await this.#locked(name, () => this.#translated('put', ref, () => this.#write(name, ref, body)));
    } finally {
      this.#generation++;
    }
  }

  /** Creates the Secret, or replaces the one there, conditional on the resourceVersion read. */
  async #write(name: string, ref: ValueRef, body: V1Secret): Promise<void> {
    for (let round = 1; ; round++) {
      try {
        await this.#call('write', () =>
          this.#api.createNamespacedSecret({ namespace: this.#namespace, body }),
        );
        return;
      } catch (err) {
        if (kindOf(err) !== 'already_exists') throw err;
      }
      const existing = await this.#read(name);
      if (existing !== undefined) {
        this.#assertOwned(existing, ref);
        if (
          existing.metadata?.deletionTimestamp !== undefined &&
          existing.metadata.deletionTimestamp !== null
        ) {
          // a finalizer someone else put on it holds it back; Coffer never sets finalizers
          throw remoteFailure({
            backend: this.name,
            type: this.type,
            operation: 'put',
            ref,
            reason: 'rejected',
            vendorCode: 'Terminating',
          });
        }
        try {
          await this.#call('write', () =>
            this.#api.replaceNamespacedSecret({
              name,
              namespace: this.#namespace,
              body: {
                ...body,
                metadata: {
                  ...body.metadata,
                  uid: existing.metadata?.uid,
                  resourceVersion: existing.metadata?.resourceVersion,
                },
              },
            }),
          );
          return;
        } catch (err) {
          const kind = kindOf(err);
          // another writer came between (409), or deleted it (404): read again
          if (round >= maxRounds || (kind !== 'conflict' && kind !== 'not_found')) throw err;
          await conflictPause(round);
        }
      } else if (round >= maxRounds) {
        throw new StoreFailure({ kind: 'conflict', vendorCode: 'Conflict', retry: false }, round);
      }
    }
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    assertValueRef(ref);
    const name = secretNameOf(this.#context.clusterPrefix, ref);
    return this.#translated('get', ref, async () => {
      const secret = await this.#read(name);
      if (secret === undefined || (secret.metadata?.deletionTimestamp ?? null) !== null) {
        throw valueNotFound(this.name, ref);
      }
      this.#assertOwned(secret, ref);
      const encoded = secret.data?.[valuesKey];
      if (typeof encoded !== 'string') {
        throw new CofferError(
          'integrity',
          `the Secret of secret ${ref.secretId} version ${ref.version} in backend ${this.name} holds no ${valuesKey}`,
        );
      }
      return decodeValues(Buffer.from(encoded, 'base64'), ref);
    });
  }

  async delete(ref: ValueRef): Promise<void> {
    assertValueRef(ref);
    const name = secretNameOf(this.#context.clusterPrefix, ref);
    this.#generation++;
    try {
      await this.#locked(name, () =>
        this.#translated('delete', ref, async () => {
          for (let round = 1; ; round++) {
            const existing = await this.#read(name);
            if (existing === undefined) return;
            this.#assertOwned(existing, ref);
            try {
              await this.#call('write', () =>
                this.#api.deleteNamespacedSecret({
                  name,
                  namespace: this.#namespace,
                  propagationPolicy: 'Background',
                  body: {
                    propagationPolicy: 'Background',
                    preconditions: {
                      uid: existing.metadata?.uid,
                      resourceVersion: existing.metadata?.resourceVersion,
                    },
                  },
                }),
              );
              return;
            } catch (err) {
              const kind = kindOf(err);
              if (kind === 'not_found') return;
              // changed since it was read: look again (and check the owner again)
              if (round >= maxRounds || kind !== 'conflict') throw err;
              await conflictPause(round);
            }
          }
        }),
      );
    } finally {
      this.#generation++;
    }
  }

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    const limit = options.limit ?? 1000;
    const after = options.after;
    let refs: ValueRef[];
    if (options.secretId !== undefined) {
      assertValueRef({ secretId: options.secretId, version: 1 });
      const secretId = options.secretId;
      refs = await this.#translated('list', undefined, () => this.#listOwned(secretId));
    } else {
      refs = await this.#translated('list', undefined, () => this.#listAll(after !== undefined));
    }
    const start = after === undefined ? 0 : refs.findIndex((r) => compareRefs(r, after) > 0);
    return start === -1 ? [] : refs.slice(start, start + limit).map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#onClose?.();
  }

  /** Refuses (integrity) a Secret another deployment owns, or one labelled for another ref. */
  #assertOwned(secret: V1Secret, ref: ValueRef): void {
    assertOwnedValue(ownerView(secret.metadata?.labels), this.#context, ref, this.name);
  }

  /** Runs `work` after this instance's earlier writes to the same Secret. */
  async #locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(key) ?? Promise.resolve();
    const mine = before.then(work);
    const tail = mine.then(
      () => {},
      () => {},
    );
    this.#locks.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }

  /** The Secret, or undefined when there is none of that name. */
  async #read(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.#call('read', () =>
        this.#api.readNamespacedSecret({ name, namespace: this.#namespace }),
      );
    } catch (err) {
      if (kindOf(err) === 'not_found') return undefined;
      throw err;
    }
  }

  /** Every ref of this deployment's Secrets (of one secret, with `secretId`), sorted. */
  async #listOwned(secretId?: string): Promise<ValueRef[]> {
    const selector = ownedSelector(this.#context, secretId);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#listPages(selector);
      } catch (err) {
        // the continue token expired between pages (compaction): a fresh listing
        if (attempt < 3 && kindOf(err) === 'expired') continue;
        throw err;
      }
    }
  }

  async #listPages(labelSelector: string): Promise<ValueRef[]> {
    const refs: ValueRef[] = [];
    let token: string | undefined;
    for (let page = 0; page < 1_000_000; page++) {
      const list = await this.#call('read', () =>
        this.#api.listNamespacedSecret({
          namespace: this.#namespace,
          labelSelector,
          limit: listPageSize,
          ...(token === undefined ? {} : { _continue: token }),
        }),
      );
      for (const secret of list.items ?? []) {
        const ref = refOfSecretName(this.#context.clusterPrefix, secret.metadata?.name ?? '');
        if (ref === undefined) continue;
        const labels = ownerView(secret.metadata?.labels);
        // the name and the labels must agree, or the Secret is not one Coffer wrote for that ref
        if (labels['coffer-secret-id'] !== ref.secretId || labels['coffer-version'] !== String(ref.version))
          continue;
        if (labels['coffer-deployment'] !== this.#context.deploymentId) continue;
        if ((secret.metadata?.deletionTimestamp ?? null) !== null) continue;
        refs.push(ref);
      }
      token = list.metadata?._continue ?? undefined;
      if (token === undefined || token === '') break;
    }
    return refs.sort(compareRefs);
  }

  /** The whole listing, sorted; the next pages of one walk reuse a fresh snapshot. */
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
    const refs = await this.#listOwned();
    this.#snapshot = { generation, takenAt, refs };
    return refs;
  }

  /**
   * One API call with Coffer's retry layer and, for writes, the rate limit. `call` makes a fresh
   * request each attempt.
   */
  async #call<T>(kind: 'read' | 'write', call: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(
        async () => {
          if (kind === 'write') await this.#writes.take();
          return call();
        },
        {
          policy: { maxAttempts: this.#config.maxAttempts },
          classify: kubernetesRetryVerdict,
          onRetry: (err, attempt, delayMs) => {
            const failure = classifyKubernetesError(err);
            this.#context.logger.debug(
              { backend: this.name, reason: failure.kind, vendorCode: failure.vendorCode, attempt, delayMs },
              'retrying a Kubernetes API call',
            );
          },
        },
      );
    } catch (err) {
      if (err instanceof RetriesExhausted) {
        throw new StoreFailure(classifyKubernetesError(err.last), err.attempts);
      }
      if (err instanceof CofferError) throw err;
      throw new StoreFailure(classifyKubernetesError(err), 1);
    }
  }

  /** Runs `work`, turning store failures into Coffer errors that carry no API server message. */
  async #translated<T>(operation: string, ref: ValueRef | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof StoreFailure)) throw err;
      const { failure, attempts } = err;
      if (
        operation === 'get' &&
        ref !== undefined &&
        failure.kind === 'not_found' &&
        failure.missing !== 'namespaces'
      ) {
        throw valueNotFound(this.name, ref);
      }
      let reason = failure.kind;
      let vendorCode = failure.vendorCode;
      if (reason === 'not_found' && failure.missing === 'namespaces') vendorCode = 'NotFound:namespaces';
      if (
        reason === 'not_found' ||
        reason === 'already_exists' ||
        reason === 'conflict' ||
        reason === 'expired'
      ) {
        reason = 'rejected';
      }
      throw remoteFailure({
        backend: this.name,
        type: this.type,
        operation,
        ref,
        reason,
        vendorCode,
        attempts,
      });
    }
  }
}
