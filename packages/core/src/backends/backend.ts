import type { z } from 'zod';
import type { Keyring } from '../keyring/keyring-types.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { Tx } from '../storage/transaction.js';

/** Identifies one stored value blob: one version of one secret. */
export interface ValueRef {
  secretId: string;
  version: number;
}

/**
 * What a backend can do. The engine branches on these, never on a backend's id.
 */
export interface BackendCapabilities {
  /** Keeps every version as its own value (not only the latest). */
  versioning: boolean;
  /** Can enumerate the refs it holds (orphan checks, migration verification). */
  listing: boolean;
  /** Can tag stored values with labels, e.g. the deployment that owns them. */
  labels: boolean;
  /** Seals values with Coffer's keyring; such backends can re-wrap data keys on rotation. */
  envelope: boolean;
}

/**
 * What a store accepts at most, for backends over stores with limits (AWS Secrets Manager
 * 64 KiB, SSM 4 KiB, Azure Key Vault 25 KB). The backend refuses more itself, before calling
 * the store (`payload_too_large`); the engine refuses to start with `versions.keep` above
 * `maxVersionsPerSecret - 1` (a new version is written before the oldest is dropped), and the
 * contract suite sizes its cases to the limits.
 */
export interface BackendLimits {
  /** Bytes of the values' JSON encoding ({@link encodeValues}) one version may take. */
  maxValueBytes?: number;
  /** Versions of one secret the store can hold at the same time. */
  maxVersionsPerSecret?: number;
}

/**
 * Where secret values live. Keyed by secret id and version, never by user-chosen names.
 * Implementations throw CofferError `value_not_found` for a missing ref, translate vendor
 * errors into Coffer codes (keeping the original as `cause`), and never put a value into an
 * error message.
 */
export interface Backend {
  /** The configured instance name (`sql`, `files`, ...), recorded on each secret. */
  readonly name: string;
  /** The id of the definition this instance was made from. */
  readonly type: string;
  readonly capabilities: BackendCapabilities;
  /** The store's limits, when it has any; absent means none Coffer needs to know about. */
  readonly limits?: BackendLimits;
  /** Store the values of one version. Putting the same ref again replaces it (retries are safe). */
  put(ref: ValueRef, values: SecretValues): Promise<void>;
  get(ref: ValueRef): Promise<SecretValues>;
  /** Remove one version. Deleting a ref that is not there succeeds. */
  delete(ref: ValueRef): Promise<void>;
  /**
   * A page of refs in (secretId, version) order, starting after `after`. Backends without the
   * `listing` capability throw `unsupported`.
   */
  list(options?: { secretId?: string; after?: ValueRef; limit?: number }): Promise<ValueRef[]>;
  /**
   * For `envelope` backends: re-wrap every data key not under the keyring's current key. A blob
   * that cannot be re-wrapped (tampered) is counted in `failed` and passed over; a KMS outage
   * (`isKeySourceOutage`) rejects, ending the run where it is (a later run continues).
   */
  rewrap?(onProgress?: (done: number) => void): Promise<{ rewrapped: number; failed: number }>;
  /** For `envelope` backends: the key ids their stored blobs reference. */
  referencedKeyIds?(): Promise<string[]>;
  /**
   * Only for a backend whose values live in Coffer's own metadata database (the built-in
   * `sql`): its writes as statements of the engine's transaction, so a new version's value
   * commits in the same commit as the metadata that references it and needs no journal entry
   * (docs/backends.md, "Crash consistency"). Backends in any other store leave it out.
   */
  readonly transactional?: TransactionalWrites;
  /**
   * Internal to `@coffer/core` (the migration calls it): values of these secrets are about to
   * be put, so the backend may prepare for them in one batch (the `file` backend makes their
   * directories and flushes each parent once, instead of once per secret). Only a hint: a put
   * must be as durable whether or not it ran, and it may fail without harm.
   */
  prepareSecrets?(secretIds: readonly string[]): Promise<void>;
  close?(): Promise<void>;
}

/** Value writes that join the engine's metadata transaction (see {@link Backend.transactional}). */
export interface TransactionalWrites {
  /**
   * Seals the values now (which may call a KMS, so it happens outside any transaction) and
   * returns the write, to run inside the transaction. Running it again (a retried transaction)
   * writes the same sealed blob.
   */
  preparePut(ref: ValueRef, values: SecretValues): Promise<(tx: Tx) => Promise<void>>;
  /** Removes versions of one secret inside the transaction. */
  deleteVersions(tx: Tx, secretId: string, versions: readonly number[]): Promise<void>;
  /**
   * Opens a sealed value of this backend's that the engine read itself, in the statement of an
   * access check (`secret_values.blob` where `store` is this backend's name): what `get` would
   * answer for that blob, errors included.
   */
  openSealed(blob: Uint8Array, ref: ValueRef): Promise<SecretValues>;
}

/** What the engine hands a backend factory. */
export interface BackendContext {
  /** The instance name from the configuration. */
  name: string;
  keyring: Keyring;
  database: CofferDatabase;
  /** Coffer's data directory, for backends that keep files. */
  dataDir: string;
  /** Prefix of external names, so several deployments can share one store. */
  clusterPrefix: string;
  /**
   * This Coffer deployment's id (made on first start, kept in its database). Backends with the
   * `labels` capability tag values with it and refuse to read values another deployment owns.
   */
  deploymentId: string;
  logger: Logger;
  clock: Clock;
}

/**
 * A kind of backend: how to configure it and how to make an instance. Custom backends are
 * modules whose default export is one of these.
 *
 * @example
 * export default defineBackend({
 *   id: 'my-store', displayName: 'My store', description: '...',
 *   configSchema: z.object({ url: z.string().url() }),
 *   capabilities: { versioning: true, listing: true, labels: false, envelope: false },
 *   create: (config, context) => new MyStoreBackend(config, context),
 * });
 */
export interface BackendDefinition<C = unknown> {
  id: string;
  displayName: string;
  description: string;
  configSchema: z.ZodType<C>;
  capabilities: BackendCapabilities;
  create(config: C, context: BackendContext): Backend | Promise<Backend>;
}

/** Identity helper that checks a definition's shape at compile time and infers its config type. */
export function defineBackend<C>(definition: BackendDefinition<C>): BackendDefinition<C> {
  return definition;
}
