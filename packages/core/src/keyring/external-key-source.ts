import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import type { WrappedDataKey } from './envelope.js';

export type { WrappedDataKey } from './envelope.js';

/**
 * A key held by a KMS, as a {@link ExternalKeySource} names it: the KMS's full id of the key and,
 * when the KMS tells, the version (key material) that wraps.
 */
export interface ExternalKey {
  /** The KMS's full id of the key: an ARN, a resource name, a URL. Written into every blob it wraps. */
  readonly keyId: string;
  /** AWS's key material id, a GCP or Azure key version, a Vault Transit version; absent when unknown. */
  readonly keyVersion?: string | undefined;
}

/**
 * What a data key is bound to. The keyring builds it (deployment, secret id, version) and a
 * source must hand it to the KMS as authenticated data (AWS's EncryptionContext, GCP's
 * additionalAuthenticatedData, Vault Transit's context), so a wrapped key moved onto another
 * secret, version or deployment does not unwrap. Keys and values are plain ASCII.
 */
export type WrapContext = Readonly<Record<string, string>>;

/**
 * A key source whose key never leaves a KMS: the KMS wraps and unwraps Coffer's data keys.
 * The keyring does the rest (the blob format, the encryption of the value, the cache of
 * unwrapped data keys, check values, rotation, re-wrap). Every method may reject with
 * {@link keySourceFailure} (`key_unavailable`, with the reason and the key id), or with
 * `integrity` when the KMS says a wrapped key or its context is not authentic.
 *
 * @example
 * // A toy source over a local AES key, to show the shape (a real one calls its KMS).
 * const source: ExternalKeySource = {
 *   type: 'toy-kms', description: 'toy KMS key demo', configuredKey: 'demo', canRotate: false,
 *   async current() { return { keyId: 'demo', keyVersion: '1' }; },
 *   async generateDataKey(key, context) {
 *     const dataKey = randomBytes(32);
 *     return { dataKey, wrapped: { ...key, ciphertext: toyEncrypt(dataKey, context) } };
 *   },
 *   async unwrap(wrapped, context) { return toyDecrypt(wrapped.ciphertext, context); },
 *   async rewrap(wrapped, context, to) {
 *     const dataKey = await this.unwrap(wrapped, context);
 *     try { return { ...to, ciphertext: toyEncrypt(dataKey, context) }; } finally { dataKey.fill(0); }
 *   },
 * };
 */
export interface ExternalKeySource {
  /** The key source type, as in `keyring.source` (`aws-kms`); it starts Coffer's ids of its keys. */
  readonly type: string;
  /** For messages, e.g. `AWS KMS key alias/coffer in eu-west-1`. Never a secret. */
  readonly description: string;
  /** The key as configured (an alias, an ARN, a key name), for `status().source.key`. */
  readonly configuredKey: string;
  /** Whether `rotate` exists and can make new key material current. */
  readonly canRotate: boolean;
  /**
   * Checks the configured key (it exists, is enabled, may be used) and names the key and version
   * that wrap new data keys. Called at start and on `rotate`; rejects naming the configured key.
   */
  current(): Promise<ExternalKey>;
  /**
   * A fresh 32-byte data key and its wrap by `key` under `context` (AWS's GenerateDataKey, or
   * 32 random bytes and Encrypt). The `wrapped` result names the key and version that really
   * wrapped (e.g. from the response), which may be newer than `key` after a rotation in the KMS.
   * The keyring zeroes `dataKey` when done.
   */
  generateDataKey(
    key: ExternalKey,
    context: WrapContext,
  ): Promise<{ dataKey: Buffer; wrapped: WrappedDataKey }>;
  /** The data key `wrapped` holds, if `context` is the one it was wrapped under. */
  unwrap(wrapped: WrappedDataKey, context: WrapContext): Promise<Buffer>;
  /**
   * The same data key wrapped by `to` (AWS's ReEncrypt, which never shows the data key; or unwrap
   * then wrap, zeroing the data key). Used by the background re-wrap after a rotation.
   */
  rewrap(wrapped: WrappedDataKey, context: WrapContext, to: ExternalKey): Promise<WrappedDataKey>;
  /**
   * Makes new key material current in the KMS, or picks up the key an alias now names; resolves
   * to the key that wraps from now on. Absent when `canRotate` is false.
   */
  rotate?(): Promise<ExternalKey>;
  /** Releases the KMS client. */
  close?(): Promise<void>;
}

/** What a key source package's factory gets besides its settings. */
export interface ExternalKeySourceContext {
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * A kind of KMS key source, as a key source package default-exports it. `configSchema` validates
 * the `keyring` settings other than `source` and `cache` (which the keyring owns); problems are
 * reported as `invalid_config` naming `keyring.<setting>`.
 *
 * @example
 * export default defineKeySource({
 *   id: 'aws-kms',
 *   displayName: 'AWS KMS',
 *   configSchema: z.object({ keyId: z.string().min(1), region: z.string().optional() }).strict(),
 *   create: (config, context) => new AwsKmsKeySource(config, context),
 * });
 */
export interface KeySourceDefinition<C = unknown> {
  /** The `keyring.source` value that selects it: lowercase letters, digits and `-`, at most 31. */
  id: string;
  displayName: string;
  configSchema: z.ZodType<C>;
  create(config: C, context: ExternalKeySourceContext): ExternalKeySource | Promise<ExternalKeySource>;
}

/** Identity helper that checks a key source definition's shape at compile time and infers its config type. */
export function defineKeySource<C>(definition: KeySourceDefinition<C>): KeySourceDefinition<C> {
  return definition;
}

/** What a key source type may look like (it prefixes key ids, which are at most 64 characters). */
export const KEY_SOURCE_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * Whether `source` is a KMS key source (as opposed to a key file or environment variable source).
 *
 * @example
 * if (isExternalKeySource(source)) await source.close?.();
 */
export function isExternalKeySource(source: object): source is ExternalKeySource {
  return typeof (source as { unwrap?: unknown }).unwrap === 'function';
}

/**
 * Coffer's id for a KMS key version: `<type>.<12 hex of the key id's hash>[.<version tag>]`. It
 * goes into blob headers and `secret_values.kek_id` (at most 64 plain characters, where an ARN
 * does not fit), names the key in `status()` and messages, and changes with the key version, so
 * a rotation in the KMS is re-wrapped like any other.
 *
 * @example
 * externalKekId('aws-kms', { keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…', keyVersion: '9e1c0a…' });
 * // 'aws-kms.5d41402abc4b.9e1c0a7f2b3c4d5e'
 */
export function externalKekId(type: string, key: ExternalKey): string {
  const hash = createHash('sha256').update(`${type}\0${key.keyId}`, 'utf8').digest('hex').slice(0, 12);
  const version =
    key.keyVersion === undefined || key.keyVersion === '' ? '' : `.${versionTag(key.keyVersion)}`;
  return `${type}.${hash}${version}`;
}

function versionTag(version: string): string {
  if (/^[A-Za-z0-9_-]{1,16}$/.test(version)) return version;
  if (/^[A-Za-z0-9_-]+$/.test(version)) return version.slice(0, 16);
  return createHash('sha256').update(version, 'utf8').digest('hex').slice(0, 16);
}
