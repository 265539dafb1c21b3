import type { Kysely } from 'kysely';
import { CofferError, isCofferError } from '../errors/coffer-error.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import { type Clock, isoNow, systemClock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { CofferTables } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import { DataKeyCache, type DataKeyCacheSettings } from './data-key-cache.js';
import {
  envelopeKekId,
  type Kek,
  openEnvelope,
  openEnvelopeWith,
  rewrapEnvelope,
  sealEnvelope,
} from './envelope.js';
import { type ExternalKeySource, isExternalKeySource } from './external-key-source.js';
import { openExternalKeyring } from './external-keyring.js';
import type { KeyMaterial, KeySource, KeySourceContext, LoadedKeys } from './key-source-types.js';
import type { KeyInfo, Keyring, KeyringStatus, SealBinding, SealedBlob } from './keyring-types.js';

/** The default minimum time between two reloads of the key source triggered by an unknown key id. */
export const DEFAULT_RELOAD_INTERVAL_MS = 5_000;

/**
 * What {@link openKeyring} needs.
 *
 * @example
 * const options: OpenKeyringOptions = { source: keyFileSource({ source: 'file' }, { dataDir }), database, logger };
 */
export interface OpenKeyringOptions {
  /**
   * Where the key-encryption keys come from (`keyFileSource`, `keyEnvSource`, `createKeySource`),
   * or the KMS that wraps data keys (`openKeySource` with a KMS key source type).
   */
  source: KeySource | ExternalKeySource;
  /** The database whose `keyring_keys` table holds one check value per key (migrated already). */
  database: Pick<CofferDatabase, 'db'>;
  logger?: Logger;
  /**
   * The key ids that stored values reference, for `status().missingKeyIds`. The value backends
   * provide it; it is only called by `status()`, so it may close over backends created after
   * the keyring.
   */
  referencedKeyIds?: () => Promise<Iterable<string>> | Iterable<string>;
  /** Time source for `createdAt` of keys and check rows. */
  clock?: Clock;
  /**
   * Minimum time between two reloads of the key source when `open` meets an unknown key id, so
   * a stream of blobs naming a missing key cannot turn into a stream of file reads. Default 5 s.
   */
  reloadIntervalMs?: number;
  /**
   * KMS sources only: this deployment's id, bound into every wrap (encryption context
   * `coffer-deployment`). Required with a KMS source.
   */
  deploymentId?: string;
  /**
   * Bounds of the cache of unwrapped data keys. KMS sources: default 1000 entries, 300 s. Key
   * file and environment variable: default {@link localDataKeyCacheSettings}.
   */
  cache?: DataKeyCacheSettings;
  /**
   * KMS sources only: the key file or variable used before the move to the KMS (`keyring.previous`).
   * Its keys open the values sealed with them, and a re-wrap moves those values to the KMS.
   */
  previous?: KeySource;
}

/** Sealed with each key into `keyring_keys`; opening it again proves a configured key is the right one. */
const CHECK_PLAINTEXT = Buffer.from('coffer keyring check v1', 'ascii');

interface HeldKey extends Kek {
  readonly createdAt: string;
}

/** Replaced as a whole, never mutated, so a `seal` running during a rotation sees one consistent set. */
interface KeySet {
  readonly current: HeldKey;
  readonly byId: ReadonlyMap<string, HeldKey>;
}

/**
 * Opens the keyring: loads the keys from the source (creating the key file on first start),
 * and checks every key against the check value this database holds for its id. A key with a
 * known id but different bytes fails the start with `key_mismatch` naming the id, instead of
 * sealing new values with it or failing later on every read; a key new to this database gets
 * its check value written.
 *
 * @example
 * const database = await openDatabase('sqlite:./data/coffer.db');
 * await migrateToLatest(database);
 * const keyring = await openKeyring({
 *   source: keyFileSource({ source: 'file' }, { dataDir: './data' }),
 *   database,
 *   logger,
 *   referencedKeyIds: () => backends.referencedKeyIds(),
 * });
 * const { kekId, blob } = await keyring.seal(Buffer.from(json), { secretId, version: 1 });
 */
export async function openKeyring(options: OpenKeyringOptions): Promise<Keyring> {
  const logger = options.logger ?? silentLogger();
  const { source } = options;
  if (isExternalKeySource(source)) {
    if (options.deploymentId === undefined) {
      throw new CofferError('internal', 'a keyring on a KMS key source needs the deployment id');
    }
    const previous =
      options.previous === undefined
        ? undefined
        : await openKeyring({
            source: options.previous,
            database: options.database,
            logger,
            ...(options.clock === undefined ? {} : { clock: options.clock }),
          });
    return openExternalKeyring({
      source,
      database: options.database,
      deploymentId: options.deploymentId,
      logger,
      ...(previous === undefined ? {} : { previous }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.referencedKeyIds === undefined ? {} : { referencedKeyIds: options.referencedKeyIds }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
    });
  }
  const context: KeySourceContext = { logger, clock: options.clock ?? systemClock };
  const loaded = await source.load(context);
  const db = options.database.db;
  const held = await Promise.all(
    loaded.keys.map(async (key): Promise<HeldKey> => {
      const registeredAt = await verifyOrRegister(db, key, source, context);
      return { id: key.id, key: key.key, createdAt: key.createdAt ?? registeredAt };
    }),
  );
  const byId = new Map(held.map((k) => [k.id, k]));
  const current = byId.get(loaded.currentId);
  if (current === undefined) {
    throw new CofferError(
      'invalid_config',
      `${source.description} names current key ${loaded.currentId} but does not hold it`,
    );
  }
  logger.info(
    { keyIds: [...byId.keys()], currentKeyId: current.id },
    `keyring opened from ${source.description}: ${byId.size} key(s), current ${current.id}`,
  );
  return new CofferKeyring({ ...options, source }, context, { current, byId });
}

/**
 * The cache of unwrapped data keys under a local key (key file, environment variable): a reveal
 * then runs one AES-GCM decryption instead of two (~3.5 µs less on this machine's 10.5 µs,
 * docs/performance.md). It holds nothing an attacker with the process's memory lacks: the key
 * that unwraps them is in memory for as long as the process runs. So its bound is only one of
 * memory (10,000 keys: ~3 MiB of heap, ~4.5 MiB of RSS), and its time limit is the longest the
 * settings allow.
 */
export const localDataKeyCacheSettings: DataKeyCacheSettings = Object.freeze({
  maxEntries: 10_000,
  ttlSeconds: 86_400,
});

class CofferKeyring implements Keyring {
  readonly #source: KeySource;
  readonly #db: Kysely<CofferTables>;
  readonly #context: KeySourceContext;
  readonly #referencedKeyIds: OpenKeyringOptions['referencedKeyIds'];
  readonly #reloadIntervalMs: number;
  #keys: KeySet;
  readonly #dataKeys: DataKeyCache;
  #lastReloadAt = Number.NEGATIVE_INFINITY;
  /** Rotations and adoptions of a reloaded current key run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #adopting = false;

  constructor(options: OpenKeyringOptions & { source: KeySource }, context: KeySourceContext, keys: KeySet) {
    this.#source = options.source;
    this.#db = options.database.db;
    this.#context = context;
    this.#referencedKeyIds = options.referencedKeyIds;
    this.#reloadIntervalMs = options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
    this.#keys = keys;
    this.#dataKeys = new DataKeyCache(options.cache ?? localDataKeyCacheSettings, context.clock);
  }

  get currentKeyId(): string {
    return this.#keys.current.id;
  }

  async seal(plaintext: Buffer, binding: SealBinding): Promise<SealedBlob> {
    const kek = this.#keys.current;
    return { kekId: kek.id, blob: sealEnvelope(plaintext, binding, kek) };
  }

  async open(blob: Buffer, binding: SealBinding): Promise<Buffer> {
    return openEnvelopeWith(blob, binding, (kekId) => this.#require(kekId, binding), this.#dataKeys);
  }

  async close(): Promise<void> {
    this.#dataKeys.clear();
  }

  kekIdOf(blob: Buffer): string {
    return envelopeKekId(blob);
  }

  async rewrap(blob: Buffer, binding: SealBinding): Promise<SealedBlob | null> {
    const kekId = envelopeKekId(blob, binding);
    const current = this.#keys.current;
    if (kekId === current.id) return null;
    const from = this.#require(kekId, binding);
    return { kekId: current.id, blob: rewrapEnvelope(blob, binding, from, current) };
  }

  async status(): Promise<KeyringStatus> {
    const { current, byId } = this.#keys;
    const rows = await this.#db.selectFrom('keyring_keys').select('id').execute();
    const referenced = this.#referencedKeyIds === undefined ? [] : await this.#referencedKeyIds();
    const missing = new Set<string>();
    for (const id of [...rows.map((r) => r.id), ...referenced]) {
      if (!byId.has(id)) missing.add(id);
    }
    return {
      source: this.#source.status,
      currentKeyId: current.id,
      keys: [...byId.values()].map((k) => info(k, current.id)),
      canRotate: this.#source.canRotate,
      missingKeyIds: [...missing].sort(),
    };
  }

  rotate(): Promise<KeyInfo> {
    return this.#exclusive(async () => {
      // The source persists the new key before we seal anything with it: a value must never
      // be sealed with a key that a crash or restart could lose.
      const loaded = await this.#source.rotate(this.#context);
      const added = loaded.keys.find((k) => k.id === loaded.currentId);
      if (added === undefined) throw new CofferError('internal', 'the key source did not return its new key');
      const registeredAt = await verifyOrRegister(this.#db, added, this.#source, this.#context);
      const key: HeldKey = { id: added.id, key: added.key, createdAt: added.createdAt ?? registeredAt };
      this.#merge(loaded, key);
      this.#context.logger.info(
        { keyId: key.id },
        `rotated the keyring: new values are sealed with key ${key.id}`,
      );
      return info(key, key.id);
    });
  }

  /** The key with this id, reloading the source once (rate-limited) before giving up. */
  #require(kekId: string, binding: SealBinding): HeldKey {
    const key = this.#keys.byId.get(kekId) ?? this.#reloadFor(kekId);
    if (key !== undefined) return key;
    const where = this.#source.description;
    throw new CofferError(
      'key_unavailable',
      `key ${kekId} is not in the keyring (${where}); secret ${binding.secretId} version ${binding.version} ` +
        `was sealed with it. Restore key ${kekId} to the ${where} from your key backup and restart`,
      { details: { kekId, secretId: binding.secretId, version: binding.version } },
    );
  }

  /**
   * Reads the key source again so a key another replica added to a shared key file becomes
   * usable here. Synchronous, so the key set is swapped without another open interleaving;
   * rate-limited because it costs a file read.
   */
  #reloadFor(kekId: string): HeldKey | undefined {
    const reload = this.#source.reload;
    const now = Date.now();
    if (reload === undefined || now - this.#lastReloadAt < this.#reloadIntervalMs) return undefined;
    this.#lastReloadAt = now;
    let loaded: LoadedKeys;
    try {
      loaded = reload.call(this.#source, this.#context);
    } catch (err) {
      // A broken file must not take down the keys we already hold; the operator sees the warning.
      this.#context.logger.warn({ err, keyId: kekId }, `could not reload ${this.#source.description}`);
      return undefined;
    }
    this.#merge(loaded);
    if (loaded.currentId !== this.#keys.current.id && this.#keys.byId.has(loaded.currentId)) {
      this.#adoptCurrent(loaded.currentId, this.#keys.current.id);
    }
    return this.#keys.byId.get(kekId);
  }

  /**
   * Adds keys the source holds that we do not. Keys already held are kept as they are: they were
   * verified at open, and a key file edited to hold other bytes under the same id must not
   * replace them behind our back.
   */
  #merge(loaded: LoadedKeys, newCurrent?: HeldKey): void {
    const byId = new Map(this.#keys.byId);
    for (const k of loaded.keys) {
      const held = byId.get(k.id);
      if (held === undefined) {
        byId.set(k.id, { id: k.id, key: k.key, createdAt: k.createdAt ?? isoNow(this.#context.clock) });
      } else if (!held.key.equals(k.key)) {
        this.#context.logger.warn(
          { keyId: k.id },
          `${this.#source.description} now holds different bytes for key ${k.id}; keeping the key verified at start`,
        );
      }
    }
    if (newCurrent !== undefined) byId.set(newCurrent.id, newCurrent);
    this.#keys = { current: newCurrent ?? this.#keys.current, byId };
  }

  /**
   * Switches to a current key another replica rotated to, once it passed the database check,
   * unless our own current key changed meanwhile (a rotation here is newer than what we read).
   */
  #adoptCurrent(keyId: string, replacing: string): void {
    if (this.#adopting) return;
    this.#adopting = true;
    void this.#exclusive(async () => {
      const key = this.#keys.byId.get(keyId);
      if (key === undefined || this.#keys.current.id !== replacing) return;
      await verifyOrRegister(this.#db, key, this.#source, this.#context);
      this.#keys = { current: key, byId: this.#keys.byId };
      this.#context.logger.info(
        { keyId },
        `another process rotated the keyring; new values are sealed with key ${keyId}`,
      );
    })
      .catch((err: unknown) => {
        this.#context.logger.warn({ err, keyId }, `not switching to key ${keyId}`);
      })
      .finally(() => {
        this.#adopting = false;
      });
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function info(key: HeldKey, currentId: string): KeyInfo {
  return { id: key.id, createdAt: key.createdAt, current: key.id === currentId };
}

function checkBinding(keyId: string): SealBinding {
  // Secret ids are UUIDs, so this binding can never be confused with a stored value's.
  return { secretId: `keyring-check:${keyId}`, version: 0 };
}

/**
 * Proves `key` is the key this database knows under its id, or registers it when the database
 * has never seen the id. Returns when the database first saw the key. Safe when several
 * processes open at once: the loser of the insert race verifies against the winner's row.
 */
async function verifyOrRegister(
  db: Kysely<CofferTables>,
  key: KeyMaterial,
  source: KeySource,
  context: KeySourceContext,
): Promise<string> {
  const existing = await selectCheck(db, key.id);
  if (existing !== undefined) {
    verifyCheck(existing.check_blob, key, source);
    return existing.created_at;
  }
  const createdAt = key.createdAt ?? isoNow(context.clock);
  const checkBlob = sealEnvelope(CHECK_PLAINTEXT, checkBinding(key.id), key);
  try {
    await db
      .insertInto('keyring_keys')
      .values({ id: key.id, check_blob: checkBlob, created_at: createdAt })
      .execute();
    return createdAt;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  const winner = await selectCheck(db, key.id);
  if (winner === undefined)
    throw new CofferError('internal', `the check row of key ${key.id} vanished while registering it`);
  verifyCheck(winner.check_blob, key, source);
  return winner.created_at;
}

function selectCheck(db: Kysely<CofferTables>, keyId: string) {
  return db
    .selectFrom('keyring_keys')
    .select(['check_blob', 'created_at'])
    .where('id', '=', keyId)
    .executeTakeFirst();
}

function verifyCheck(checkBlob: Buffer | Uint8Array, key: KeyMaterial, source: KeySource): void {
  const blob = Buffer.from(checkBlob);
  let headerId: string | undefined;
  try {
    headerId = envelopeKekId(blob);
  } catch {
    headerId = undefined;
  }
  if (headerId !== key.id) {
    throw new CofferError(
      'integrity',
      `the check value of key ${key.id} in keyring_keys is corrupted; restore the database from a backup`,
      { details: { kekId: key.id } },
    );
  }
  let opened: Buffer | undefined;
  try {
    opened = openEnvelope(blob, checkBinding(key.id), key);
  } catch (err) {
    // A wrong key and a damaged wrap look the same to GCM; a wrong key is by far the likelier.
    if (!isCofferError(err, 'integrity')) throw err;
  }
  if (opened === undefined || !opened.equals(CHECK_PLAINTEXT)) {
    throw new CofferError(
      'key_mismatch',
      `key ${key.id} from ${source.description} does not match the key this database was sealed with ` +
        `under that id. Restore the original key ${key.id} from your key backup; a new key needs a new id`,
      { details: { kekId: key.id, source: source.description } },
    );
  }
}
