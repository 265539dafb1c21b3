import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CofferError, isCofferError } from '../errors/coffer-error.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import { type Clock, isoNow, systemClock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { CofferTables } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import { DataKeyCache, type DataKeyCacheSettings, defaultDataKeyCacheSettings } from './data-key-cache.js';
import {
  type ExternalEnvelopeParts,
  envelopeFormat,
  envelopeKekId,
  openExternalEnvelope,
  parseExternalEnvelope,
  replaceExternalWrap,
  sealExternalEnvelope,
  type WrappedDataKey,
} from './envelope.js';
import {
  type ExternalKey,
  type ExternalKeySource,
  externalKekId,
  type WrapContext,
} from './external-key-source.js';
import { keySourceFailure } from './key-source-failure.js';
import type { KeyInfo, Keyring, KeyringStatus, SealBinding, SealedBlob } from './keyring-types.js';

/**
 * The encryption context every KMS call carries (AWS EncryptionContext, GCP additional
 * authenticated data, ...): the deployment, the secret and the version a data key belongs to.
 * IAM conditions can require them (`kms:EncryptionContext:coffer-deployment`).
 */
export const WRAP_CONTEXT_KEYS = {
  deployment: 'coffer-deployment',
  secret: 'coffer-secret',
  version: 'coffer-version',
} as const;

/** What {@link openExternalKeyring} needs. */
export interface OpenExternalKeyringOptions {
  source: ExternalKeySource;
  /** The database whose `keyring_keys` table holds one check value per key version (migrated already). */
  database: Pick<CofferDatabase, 'db'>;
  /** This deployment's id, bound into every wrap as `coffer-deployment`. */
  deploymentId: string;
  logger?: Logger;
  clock?: Clock;
  /** The key ids stored values reference, for `status().missingKeyIds`. */
  referencedKeyIds?: () => Promise<Iterable<string>> | Iterable<string>;
  /** Bounds of the cache of unwrapped data keys (default 1000 entries, 300 s). */
  cache?: DataKeyCacheSettings;
  /**
   * A keyring on the key file or variable used before the KMS: it opens the values sealed with its
   * keys (format 1), and a re-wrap seals them anew through the KMS.
   */
  previous?: Keyring;
}

/** Sealed under each key version into `keyring_keys`; opening it proves the KMS key still works. */
/** How long a successful readiness check of the KMS is trusted. */
const readyCheckMs = 5_000;

const CHECK_PLAINTEXT = Buffer.from('coffer keyring check v1', 'ascii');

interface CurrentKey {
  readonly kekId: string;
  readonly key: ExternalKey;
}

/**
 * Opens a keyring whose key lives in a KMS: asks the source which key (and version) wraps,
 * and proves it works by opening (or, for a key version new to this database, writing) its check
 * value. A key that is missing, disabled or not permitted fails the start with `key_unavailable`
 * naming the key; so does a KMS that cannot be reached (there is nothing to seal with).
 *
 * @example
 * const keyring = await openExternalKeyring({ source: awsKmsSource, database, deploymentId, logger });
 */
export async function openExternalKeyring(options: OpenExternalKeyringOptions): Promise<Keyring> {
  const logger = options.logger ?? silentLogger();
  const keyring = new ExternalKeyring(options, logger);
  await keyring.start();
  return keyring;
}

class ExternalKeyring implements Keyring {
  readonly #source: ExternalKeySource;
  readonly #db: Kysely<CofferTables>;
  readonly #deploymentId: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #referencedKeyIds: OpenExternalKeyringOptions['referencedKeyIds'];
  readonly #cache: DataKeyCache;
  readonly #previous: Keyring | undefined;
  readonly #inflight = new Map<string, { promise: Promise<Buffer>; waiters: number }>();
  #current: CurrentKey | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: OpenExternalKeyringOptions, logger: Logger) {
    this.#source = options.source;
    this.#db = options.database.db;
    this.#deploymentId = options.deploymentId;
    this.#logger = logger;
    this.#clock = options.clock ?? systemClock;
    this.#referencedKeyIds = options.referencedKeyIds;
    this.#previous = options.previous;
    const cache = options.cache ?? defaultDataKeyCacheSettings;
    this.#cache = new DataKeyCache(cache, this.#clock);
    if (this.#cache.enabled) {
      // Expired keys leave memory even when nobody asks for them again.
      this.#sweeper = setInterval(() => this.#cache.sweep(), Math.min(60_000, cache.ttlSeconds * 1000));
      this.#sweeper.unref();
    }
  }

  #readyUntil = 0;

  async start(): Promise<void> {
    try {
      const key = await this.#call('describe', undefined, undefined, () => this.#source.current());
      this.#current = await this.#register(key);
    } catch (err) {
      await this.close();
      throw err;
    }
    this.#logger.info(
      {
        keyId: this.#current.kekId,
        kmsKeyId: this.#current.key.keyId,
        keyVersion: this.#current.key.keyVersion,
        deploymentId: this.#deploymentId,
      },
      `keyring opened on ${this.#source.description}: current key ${this.#current.kekId}; data keys are bound to ${WRAP_CONTEXT_KEYS.deployment}=${this.#deploymentId}`,
    );
  }

  /** Asks the KMS about the configured key, at most every few seconds (readiness probes poll). */
  async ready(): Promise<void> {
    const now = Date.now();
    if (this.#readyUntil > now) return;
    await this.#call('describe', undefined, undefined, () => this.#source.current());
    this.#readyUntil = now + readyCheckMs;
  }

  get currentKeyId(): string {
    return this.#requireCurrent().kekId;
  }

  async seal(plaintext: Buffer, binding: SealBinding): Promise<SealedBlob> {
    const current = this.#requireCurrent();
    const { dataKey, wrapped } = await this.#call('wrap', current.kekId, binding, () =>
      this.#source.generateDataKey(current.key, this.#context(binding)),
    );
    try {
      const kekId = this.#kekIdOf(wrapped);
      if (kekId !== current.kekId) this.#noticeNewVersion(wrapped, kekId);
      const blob = sealExternalEnvelope(plaintext, binding, dataKey, kekId, wrapped);
      // The first reveal after a write then costs no KMS call.
      this.#cache.set(cacheId(kekId, wrapped, binding), dataKey);
      return { kekId, blob };
    } finally {
      dataKey.fill(0);
    }
  }

  async open(blob: Buffer, binding: SealBinding): Promise<Buffer> {
    if (this.#previous !== undefined && envelopeFormat(blob, binding) === 1) {
      return this.#previous.open(blob, binding);
    }
    const parts = this.#parse(blob, binding);
    const id = cacheId(parts.kekId, parts.wrapped, binding);
    const cached = this.#cache.use(id, (dataKey) => openExternalEnvelope(parts, binding, dataKey));
    if (cached !== undefined) return cached;
    const dataKey = await this.#unwrapShared(id, parts, binding);
    try {
      return openExternalEnvelope(parts, binding, dataKey);
    } finally {
      dataKey.fill(0);
    }
  }

  kekIdOf(blob: Buffer): string {
    return envelopeKekId(blob);
  }

  async rewrap(blob: Buffer, binding: SealBinding): Promise<SealedBlob | null> {
    if (this.#previous !== undefined && envelopeFormat(blob, binding) === 1) {
      // A local key cannot hand its data key to the KMS without showing it; seal the value anew.
      const plaintext = await this.#previous.open(blob, binding);
      try {
        return await this.seal(plaintext, binding);
      } finally {
        plaintext.fill(0);
      }
    }
    const parts = this.#parse(blob, binding);
    const current = this.#requireCurrent();
    if (parts.kekId === current.kekId) return null;
    const wrapped = await this.#call('rewrap', parts.kekId, binding, () =>
      this.#source.rewrap(parts.wrapped, this.#context(binding), current.key),
    );
    const kekId = this.#kekIdOf(wrapped);
    if (kekId !== current.kekId) this.#noticeNewVersion(wrapped, kekId);
    return { kekId, blob: replaceExternalWrap(parts, kekId, wrapped) };
  }

  async status(): Promise<KeyringStatus> {
    const current = this.#requireCurrent();
    const rows = await this.#db
      .selectFrom('keyring_keys')
      .select(['id', 'check_blob', 'created_at'])
      .execute();
    const referenced = this.#referencedKeyIds === undefined ? [] : await this.#referencedKeyIds();
    const prefix = `${this.#source.type}.`;
    const previous = this.#previous === undefined ? [] : (await this.#previous.status()).keys;
    const held = new Set(previous.map((k) => k.id));
    const keys: KeyInfo[] = previous.map((k) => ({ ...k, current: false }));
    const missing = new Set<string>();
    for (const row of rows) {
      if (held.has(row.id)) continue;
      if (!row.id.startsWith(prefix)) {
        missing.add(row.id);
        continue;
      }
      let external: KeyInfo['external'];
      try {
        const { wrapped } = parseExternalEnvelope(Buffer.from(row.check_blob));
        external = {
          keyId: wrapped.keyId,
          ...(wrapped.keyVersion === undefined ? {} : { keyVersion: wrapped.keyVersion }),
        };
      } catch {
        external = undefined;
      }
      keys.push({
        id: row.id,
        createdAt: row.created_at,
        current: row.id === current.kekId,
        ...(external === undefined ? {} : { external }),
      });
    }
    for (const id of referenced) {
      // Versions of this KMS's keys need no check row to open: the blob names its key.
      if (!id.startsWith(prefix) && !held.has(id)) missing.add(id);
    }
    keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return {
      source: { type: 'kms', provider: this.#source.type, key: this.#source.configuredKey },
      currentKeyId: current.kekId,
      keys,
      canRotate: this.#source.canRotate && this.#source.rotate !== undefined,
      missingKeyIds: [...missing].sort(),
    };
  }

  rotate(): Promise<KeyInfo> {
    const rotate = this.#source.rotate;
    if (!this.#source.canRotate || rotate === undefined) {
      return Promise.reject(
        new CofferError('unsupported', `${this.#source.description} cannot be rotated by Coffer`),
      );
    }
    return this.#exclusive(async () => {
      const before = this.#requireCurrent();
      const key = await this.#call('rotate', before.kekId, undefined, () => rotate.call(this.#source));
      const next = await this.#register(key);
      this.#current = next;
      if (next.kekId === before.kekId) {
        this.#logger.warn(
          { keyId: next.kekId },
          `rotating ${this.#source.description} gave no new key version yet; key ${next.kekId} stays current`,
        );
      } else {
        this.#logger.info(
          { keyId: next.kekId, previousKeyId: before.kekId },
          `rotated the keyring: new data keys are wrapped by key ${next.kekId}`,
        );
      }
      const createdAt = await this.#createdAt(next.kekId);
      return { id: next.kekId, createdAt, current: true, external: externalInfo(next.key) };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#cache.clear();
    await this.#previous?.close?.();
    await this.#source.close?.();
  }

  #requireCurrent(): CurrentKey {
    if (this.#current === undefined) throw new CofferError('internal', 'the keyring is not open');
    return this.#current;
  }

  #context(binding: SealBinding): WrapContext {
    return {
      [WRAP_CONTEXT_KEYS.deployment]: this.#deploymentId,
      [WRAP_CONTEXT_KEYS.secret]: binding.secretId,
      [WRAP_CONTEXT_KEYS.version]: String(binding.version),
    };
  }

  #kekIdOf(wrapped: ExternalKey): string {
    return externalKekId(this.#source.type, wrapped);
  }

  /** A v2 blob of this source whose header agrees with the KMS key it names; else the right error. */
  #parse(blob: Buffer, binding: SealBinding): ExternalEnvelopeParts {
    if (envelopeFormat(blob, binding) === 1) {
      const kekId = envelopeKekId(blob, binding);
      throw new CofferError(
        'key_unavailable',
        `key ${kekId} is not in the keyring (${this.#source.description}); secret ${binding.secretId} version ${binding.version} ` +
          `was sealed with that local key (key file or environment variable). Name that key file or variable in keyring.previous ` +
          'and restart: the value then opens, and the re-wrap moves it to the KMS',
        { details: { kekId, secretId: binding.secretId, version: binding.version } },
      );
    }
    const parts = parseExternalEnvelope(blob, binding);
    const type = parts.kekId.slice(0, Math.max(0, parts.kekId.indexOf('.')));
    if (type !== this.#source.type) {
      throw new CofferError(
        'key_unavailable',
        `key ${parts.kekId} (${parts.wrapped.keyId}) is held by a ${type || 'different'} key source, but the keyring uses ${this.#source.description}; ` +
          `secret ${binding.secretId} version ${binding.version} was sealed with it`,
        {
          details: {
            kekId: parts.kekId,
            keyId: parts.wrapped.keyId,
            secretId: binding.secretId,
            version: binding.version,
          },
        },
      );
    }
    if (this.#kekIdOf(parts.wrapped) !== parts.kekId) {
      throw new CofferError(
        'integrity',
        `the sealed value of secret ${binding.secretId} version ${binding.version} (key ${parts.kekId}) failed its integrity check: its header names another KMS key or version than its key id`,
        { details: { kekId: parts.kekId, secretId: binding.secretId, version: binding.version } },
      );
    }
    return parts;
  }

  /**
   * Unwraps through the KMS, once for any number of concurrent opens of the same blob; each
   * caller gets its own copy of the data key, and the shared one is zeroed after the last.
   */
  async #unwrapShared(id: string, parts: ExternalEnvelopeParts, binding: SealBinding): Promise<Buffer> {
    let flight = this.#inflight.get(id);
    if (flight === undefined) {
      const promise = this.#call('unwrap', parts.kekId, binding, () =>
        this.#source.unwrap(parts.wrapped, this.#context(binding)),
      );
      promise.then(
        (dataKey) => this.#cache.set(id, dataKey),
        () => {},
      );
      flight = { promise, waiters: 0 };
      this.#inflight.set(id, flight);
    }
    const mine = flight;
    mine.waiters++;
    try {
      const shared = await mine.promise;
      const own = Buffer.alloc(shared.length);
      shared.copy(own);
      return own;
    } finally {
      mine.waiters--;
      if (mine.waiters === 0) {
        if (this.#inflight.get(id) === mine) this.#inflight.delete(id);
        mine.promise.then(
          (shared) => shared.fill(0),
          () => {},
        );
      }
    }
  }

  /**
   * Calls the source, turning anything it throws that is not a CofferError into `key_unavailable`
   * (a source bug must not leak a vendor message or crash a reveal with `internal`).
   */
  async #call<T>(
    operation: string,
    kekId: string | undefined,
    binding: SealBinding | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isCofferError(err)) throw withBinding(err, kekId, binding);
      const name = err instanceof Error && /^[A-Za-z0-9_.]{1,64}$/.test(err.name) ? err.name : undefined;
      throw keySourceFailure({
        source: this.#source.description,
        operation,
        keyId: this.#source.configuredKey,
        kekId,
        reason: 'rejected',
        vendorCode: name,
        binding,
      });
    }
  }

  /**
   * Proves `key` works: opens the check value this database holds for its id, or writes one. The
   * KMS may report a newer version than `current()` did (a rotation just happened); the version
   * that really wrapped the check value is the one returned.
   */
  async #register(key: ExternalKey, depth = 0): Promise<CurrentKey> {
    const kekId = this.#kekIdOf(key);
    const existing = await selectCheck(this.#db, kekId);
    if (existing !== undefined) {
      await this.#verifyCheck(existing.check_blob, kekId, key);
      return { kekId, key };
    }
    const binding = checkBinding(kekId);
    const { dataKey, wrapped } = await this.#call('wrap', kekId, undefined, () =>
      this.#source.generateDataKey(key, this.#context(binding)),
    );
    let checkBlob: Buffer;
    const actual = this.#kekIdOf(wrapped);
    try {
      checkBlob = sealExternalEnvelope(CHECK_PLAINTEXT, checkBinding(actual), dataKey, actual, wrapped);
    } finally {
      dataKey.fill(0);
    }
    if (actual !== kekId && depth < 2) {
      // The check was wrapped by a newer version than asked for: seal it again under its own id.
      return this.#register({ keyId: wrapped.keyId, keyVersion: wrapped.keyVersion }, depth + 1);
    }
    if (actual !== kekId) {
      throw new CofferError(
        'internal',
        `${this.#source.description} keeps wrapping with another key than it names`,
      );
    }
    try {
      await this.#db
        .insertInto('keyring_keys')
        .values({ id: kekId, check_blob: checkBlob, created_at: isoNow(this.#clock) })
        .execute();
      return { kekId, key };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const winner = await selectCheck(this.#db, kekId);
    if (winner === undefined) {
      throw new CofferError('internal', `the check row of key ${kekId} vanished while registering it`);
    }
    await this.#verifyCheck(winner.check_blob, kekId, key);
    return { kekId, key };
  }

  async #verifyCheck(checkBlob: Buffer | Uint8Array, kekId: string, key: ExternalKey): Promise<void> {
    const binding = checkBinding(kekId);
    let opened: Buffer | undefined;
    try {
      const parts = this.#parse(Buffer.from(checkBlob), binding);
      if (parts.kekId !== kekId) throw new CofferError('integrity', 'the check value names another key');
      const dataKey = await this.#call('unwrap', kekId, undefined, () =>
        this.#source.unwrap(parts.wrapped, this.#context(binding)),
      );
      try {
        opened = openExternalEnvelope(parts, binding, dataKey);
      } finally {
        dataKey.fill(0);
      }
    } catch (err) {
      if (!isCofferError(err, 'integrity')) throw err;
    }
    if (opened === undefined || !opened.equals(CHECK_PLAINTEXT)) {
      throw new CofferError(
        'key_mismatch',
        `KMS key ${key.keyId}${key.keyVersion === undefined ? '' : ` (version ${key.keyVersion})`} does not open the check value ` +
          `this database holds for key ${kekId} (${this.#source.description}). The key material differs from the one this ` +
          `database was sealed with, or the check value is damaged; restore the original key material or the database`,
        { details: { kekId, keyId: key.keyId } },
      );
    }
  }

  /**
   * The KMS wrapped with a newer version of the current key than we knew (it rotated on its own):
   * make that version current once its check value is written, so re-wraps aim at it.
   */
  #noticeNewVersion(wrapped: WrappedDataKey, kekId: string): void {
    const known = this.#requireCurrent();
    if (wrapped.keyId !== known.key.keyId) return;
    void this.#exclusive(async () => {
      if (this.#current?.kekId !== known.kekId) return;
      const next = await this.#register({ keyId: wrapped.keyId, keyVersion: wrapped.keyVersion });
      if (this.#current?.kekId !== known.kekId) return;
      this.#current = next;
      this.#logger.info(
        { keyId: next.kekId, previousKeyId: known.kekId },
        `${this.#source.description} now wraps with a new key version; key ${next.kekId} is current`,
      );
    }).catch((err: unknown) => {
      this.#logger.warn({ err, keyId: kekId }, `not switching to key ${kekId} yet`);
    });
  }

  async #createdAt(kekId: string): Promise<string> {
    return (await selectCheck(this.#db, kekId))?.created_at ?? isoNow(this.#clock);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** A source's error, told which blob it was about (sources never see secret ids as such). */
function withBinding(
  err: CofferError,
  kekId: string | undefined,
  binding: SealBinding | undefined,
): CofferError {
  if (binding === undefined || err.details.secretId !== undefined) return err;
  const key = kekId === undefined ? '' : ` (key ${kekId})`;
  return new CofferError(
    err.code,
    `${err.message}; secret ${binding.secretId} version ${binding.version}${key}`,
    {
      details: {
        ...err.details,
        ...(kekId === undefined ? {} : { kekId }),
        secretId: binding.secretId,
        version: binding.version,
      },
    },
  );
}

function externalInfo(key: ExternalKey): NonNullable<KeyInfo['external']> {
  return { keyId: key.keyId, ...(key.keyVersion === undefined ? {} : { keyVersion: key.keyVersion }) };
}

function checkBinding(kekId: string): SealBinding {
  // Secret ids are UUIDs, so this binding can never be confused with a stored value's.
  return { secretId: `keyring-check:${kekId}`, version: 0 };
}

function selectCheck(db: Kysely<CofferTables>, kekId: string) {
  return db
    .selectFrom('keyring_keys')
    .select(['check_blob', 'created_at'])
    .where('id', '=', kekId)
    .executeTakeFirst();
}

/** The cache's key for an unwrapped data key: the wrap itself and what it is bound to. */
function cacheId(kekId: string, wrapped: WrappedDataKey, binding: SealBinding): string {
  return createHash('sha256')
    .update(
      `${kekId}\0${wrapped.keyId}\0${wrapped.keyVersion ?? ''}\0${binding.secretId}\0${binding.version}\0`,
    )
    .update(wrapped.ciphertext)
    .digest('base64');
}
