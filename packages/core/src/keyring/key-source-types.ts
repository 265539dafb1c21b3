import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import type { KeyringStatus } from './keyring-types.js';

/**
 * One key-encryption key as a source hands it to the keyring. `createdAt` is unknown for keys
 * that arrive without metadata (an environment variable); the keyring then uses the time this
 * database first saw the key.
 */
export interface KeyMaterial {
  readonly id: string;
  /** 32 bytes. Never logged, never put in an error. */
  readonly key: Buffer;
  readonly createdAt?: string;
}

/** Every key a source holds, and which one seals new values. */
export interface LoadedKeys {
  readonly currentId: string;
  readonly keys: readonly KeyMaterial[];
}

/** What a key source may use while loading: where to warn, and what time it is. */
export interface KeySourceContext {
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Where the keyring's key-encryption keys come from. Like a Kysely dialect, a source is a small
 * object built by a factory from its own config; the keyring never branches on which one it has,
 * only on `canRotate` and on whether `reload` exists.
 *
 * @example
 * const source: KeySource = keyFileSource({ source: 'file' }, { dataDir: '/var/lib/coffer' });
 * const keyring = await openKeyring({ source, database, logger });
 */
export interface KeySource {
  /** How `status()` reports the source. */
  readonly status: KeyringStatus['source'];
  /** For messages, e.g. `key file /var/lib/coffer/keyring.json`. Never contains key material. */
  readonly description: string;
  /** Whether `rotate` can add a key. */
  readonly canRotate: boolean;
  /** Loads the keys at start, creating them if the source creates its own (the key file). */
  load(context: KeySourceContext): Promise<LoadedKeys>;
  /**
   * Reads the keys again, synchronously (a small file read), so `Keyring.open` can pick up a
   * key another replica added without other opens interleaving with the reload. Absent when the keys cannot change while the process runs.
   */
  reload?(context: KeySourceContext): LoadedKeys;
  /**
   * Adds a new key, makes it current and persists that durably before returning, so no value is
   * ever sealed with a key that a restart would lose. Throws `unsupported` when `canRotate` is false.
   */
  rotate(context: KeySourceContext): Promise<LoadedKeys>;
}
