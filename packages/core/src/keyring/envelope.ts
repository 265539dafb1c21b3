import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CofferError } from '../errors/coffer-error.js';
import { pooledRandomBytes } from '../shared/random-pool.js';
import type { DataKeyCache } from './data-key-cache.js';
import { isKeyId } from './key-id.js';
import type { SealBinding } from './keyring-types.js';

/**
 * A key-encryption key: an id (stored in every blob it wraps) and 32 bytes of key material.
 *
 * @example
 * const kek: Kek = { id: 'k-20261123-1a2b3c4d', key: randomBytes(32) };
 */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * The blob format, version 1:
 *
 * | bytes | field                                              |
 * |-------|----------------------------------------------------|
 * | 4     | magic `CFKR`                                       |
 * | 1     | format version (1)                                 |
 * | 1     | n = length of the KEK id (1..64)                   |
 * | n     | KEK id, ASCII `[A-Za-z0-9._-]`                     |
 * | 12    | IV of the data-key wrap                            |
 * | 32    | wrapped data key                                   |
 * | 16    | GCM tag of the data-key wrap                       |
 * | 12    | IV of the data encryption                          |
 * | 16    | GCM tag of the data encryption                     |
 * | rest  | ciphertext (same length as the plaintext)          |
 *
 * The wrap is authenticated with `WRAP_DOMAIN ‖ KEK id ‖ secret id ‖ version`, the data with
 * `DATA_DOMAIN ‖ secret id ‖ version`, so every byte after the header is covered by a GCM tag
 * and the header's KEK id by the wrap's associated data. The data's associated data leaves
 * out the KEK id on purpose: re-wrapping under a new KEK must not touch the ciphertext.
 */
export const ENVELOPE_MAGIC = Buffer.from('CFKR', 'ascii');
export const ENVELOPE_VERSION = 1;

const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
const MAX_KEK_ID_LENGTH = 64;
/** Length of everything after the KEK id and before the ciphertext. */
const FIXED_BODY_LENGTH = IV_LENGTH + KEY_LENGTH + TAG_LENGTH + IV_LENGTH + TAG_LENGTH;
const PREFIX_LENGTH = ENVELOPE_MAGIC.length + 2;

/**
 * Format version 2, for data keys wrapped by a KMS key source: the KMS's wrap replaces the
 * local AES-GCM wrap, and the header names the KMS key (and its version) that made it.
 *
 * | bytes | field                                                         |
 * |-------|---------------------------------------------------------------|
 * | 4     | magic `CFKR`                                                  |
 * | 1     | format version (2)                                            |
 * | 1     | n = length of Coffer's key id (1..64)                         |
 * | n     | Coffer's key id, ASCII (`aws-kms.<hash>[.<version>]`)         |
 * | 2     | m = length of the KMS key id (1..2048), big-endian            |
 * | m     | the KMS key id, UTF-8 (e.g. the key ARN)                      |
 * | 1     | v = length of the key version (0 = not known)                 |
 * | v     | the key version, UTF-8 (e.g. AWS's key material id)           |
 * | 2     | w = length of the wrapped data key (1..4096), big-endian      |
 * | w     | the wrapped data key as the KMS returned it (opaque)          |
 * | 12    | IV of the data encryption                                     |
 * | 16    | GCM tag of the data encryption                                |
 * | rest  | ciphertext (same length as the plaintext)                     |
 *
 * The data is encrypted exactly as in version 1 (same associated data), so re-wrapping between
 * keys, or between a local key and a KMS key, never touches the ciphertext. The wrap is
 * authenticated by the KMS with the encryption context (deployment, secret id, version); the
 * keyring checks that Coffer's key id is the one the KMS key id and version give.
 */
export const EXTERNAL_ENVELOPE_VERSION = 2;
const MAX_EXTERNAL_KEY_ID_LENGTH = 2048;
const MAX_EXTERNAL_KEY_VERSION_LENGTH = 255;
const MAX_WRAPPED_KEY_LENGTH = 4096;
const EXTERNAL_MIN_BODY_LENGTH = 2 + 1 + 1 + 2 + 1 + IV_LENGTH + TAG_LENGTH;

// Domain strings keep a data key wrap from ever being accepted as a data encryption (or a
// future format's associated data as this one's), even if the other inputs happened to match.
const DATA_DOMAIN = Buffer.from('coffer/keyring/v1/data\0', 'ascii');
const WRAP_DOMAIN = Buffer.from('coffer/keyring/v1/wrap\0', 'ascii');

/** The parts of a v1 blob, as views into it (no copies). */
interface EnvelopeParts {
  kekId: string;
  wrapIv: Buffer;
  wrappedKey: Buffer;
  wrapTag: Buffer;
  dataIv: Buffer;
  dataTag: Buffer;
  ciphertext: Buffer;
}

/**
 * A data key wrapped by a KMS: which key (and version) wrapped it, and the KMS's ciphertext.
 *
 * @example
 * const wrapped: WrappedDataKey = { keyId: 'arn:aws:kms:eu-west-1:111122223333:key/…', keyVersion: '9e1c…', ciphertext };
 */
export interface WrappedDataKey {
  /** The KMS's full id of the key: an ARN, a resource name, a URL. */
  readonly keyId: string;
  /** The key version that wrapped it, when the KMS tells (AWS key material id, a GCP or Azure version). */
  readonly keyVersion?: string | undefined;
  /** The wrapped data key exactly as the KMS returned it; opaque to Coffer. */
  readonly ciphertext: Buffer;
}

/** The parts of a v2 blob, as views into it (no copies). */
export interface ExternalEnvelopeParts {
  kekId: string;
  wrapped: WrappedDataKey;
  dataIv: Buffer;
  dataTag: Buffer;
  ciphertext: Buffer;
  /** IV, tag and ciphertext together: what a re-wrap copies unchanged. */
  dataPart: Buffer;
}

/**
 * Encrypts `plaintext` under a fresh data key and wraps the data key with `kek`.
 *
 * @example
 * const blob = sealEnvelope(Buffer.from('{"password":"x"}'), { secretId, version: 3 }, kek);
 */
export function sealEnvelope(plaintext: Uint8Array, binding: SealBinding, kek: Kek): Buffer {
  const bound = encodeBinding(binding);
  const header = encodeHeader(kek.id);
  // The data key and both IVs in one draw from the pool.
  const random = pooledRandomBytes(KEY_LENGTH + 2 * IV_LENGTH);
  const dek = random.subarray(0, KEY_LENGTH);
  const wrapIv = random.subarray(KEY_LENGTH, KEY_LENGTH + IV_LENGTH);
  const dataIv = random.subarray(KEY_LENGTH + IV_LENGTH);
  try {
    const wrapCipher = createCipheriv('aes-256-gcm', kek.key, wrapIv, { authTagLength: TAG_LENGTH });
    wrapCipher.setAAD(Buffer.concat([WRAP_DOMAIN, kekIdField(kek.id), bound]));
    const wrappedKey = Buffer.concat([wrapCipher.update(dek), wrapCipher.final()]);
    const wrapTag = wrapCipher.getAuthTag();

    const dataCipher = createCipheriv('aes-256-gcm', dek, dataIv, { authTagLength: TAG_LENGTH });
    dataCipher.setAAD(Buffer.concat([DATA_DOMAIN, bound]));
    const ciphertext = dataCipher.update(plaintext);
    dataCipher.final(); // GCM emits everything from update(); final() only computes the tag
    const dataTag = dataCipher.getAuthTag();

    return Buffer.concat([header, wrapIv, wrappedKey, wrapTag, dataIv, dataTag, ciphertext]);
  } finally {
    dek.fill(0);
  }
}

/**
 * Opens a blob sealed by {@link sealEnvelope}. `kek` must be the key named in the blob's
 * header; any tampering, truncation, wrong binding or wrong key bytes throws `integrity`.
 *
 * @example
 * const plaintext = openEnvelope(blob, { secretId, version: 3 }, kek);
 */
export function openEnvelope(blob: Uint8Array, binding: SealBinding, kek: Kek): Buffer {
  return openEnvelopeWith(blob, binding, () => kek);
}

/**
 * Opens a blob sealed by {@link sealEnvelope} with the key `keyFor` gives for the id in its
 * header (read once), like {@link openEnvelope}. With `dataKeys`, a data key unwrapped before
 * for the same wrap, key id and binding is used from there, which saves one of the two
 * decryptions. Only the wrap is skipped: the data is still authenticated by its own GCM tag
 * under that data key, so a blob whose ciphertext, IV or tag was changed fails exactly as
 * without the cache, and a changed wrap is a different entry, unwrapped (and refused) anew.
 * A data key goes into the cache only after the whole blob opened.
 *
 * @example
 * const plaintext = openEnvelopeWith(blob, binding, (kekId) => keys.get(kekId), dataKeys);
 */
export function openEnvelopeWith(
  blob: Uint8Array,
  binding: SealBinding,
  keyFor: (kekId: string) => Kek,
  dataKeys?: DataKeyCache,
): Buffer {
  const parsed = parseAnyEnvelope(blob, binding);
  if (parsed.format !== ENVELOPE_VERSION) {
    keyFor(parsed.kekId); // a key id not held is key_unavailable first, as for any blob
    throw kmsBlobError(binding, parsed.kekId);
  }
  const parts: EnvelopeParts = parsed;
  const bound = encodeBinding(binding);
  const cacheId = dataKeys?.enabled === true ? localCacheId(parts, binding) : undefined;
  if (cacheId !== undefined) {
    const cached = dataKeys!.use(cacheId, (dek) => decryptData(parts, bound, binding, dek));
    if (cached !== undefined) return cached;
  }
  const dek = unwrapDataKey(parts, bound, binding, keyFor(parts.kekId));
  try {
    const plaintext = decryptData(parts, bound, binding, dek);
    if (cacheId !== undefined) dataKeys!.set(cacheId, dek);
    return plaintext;
  } finally {
    dek.fill(0);
  }
}

/** The part of a blob (v1 or v2) that holds the value. */
type DataParts = Pick<EnvelopeParts, 'kekId' | 'dataIv' | 'dataTag' | 'ciphertext'>;

/** Decrypts a blob's data with its unwrapped data key; `integrity` when it does not authenticate. */
function decryptData(parts: DataParts, bound: Buffer, binding: SealBinding, dek: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', dek, parts.dataIv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.concat([DATA_DOMAIN, bound]));
  decipher.setAuthTag(parts.dataTag);
  const plaintext = decipher.update(parts.ciphertext);
  try {
    decipher.final();
  } catch {
    // update() hands out plaintext before the tag is checked; it must not outlive the failure.
    plaintext.fill(0);
    throw integrityError(binding, parts.kekId, 'its ciphertext failed authentication');
  }
  return plaintext;
}

/**
 * The cache's key for a v1 blob's data key: the key id, the binding and the wrap itself (IV,
 * wrapped key and tag, 60 bytes, as latin1 characters). Everything the unwrap authenticates,
 * so two blobs share an entry only if their unwraps would give the same key.
 */
function localCacheId(parts: EnvelopeParts, binding: SealBinding): string {
  return (
    `${parts.kekId}\0${binding.secretId}\0${binding.version}\0` +
    parts.wrapIv.toString('latin1') +
    parts.wrappedKey.toString('latin1') +
    parts.wrapTag.toString('latin1')
  );
}

/**
 * Re-wraps a blob's data key from `from` to `to`; the ciphertext bytes are copied unchanged and
 * the plaintext is never materialized. Throws `integrity` like {@link openEnvelope} when the
 * wrap does not authenticate (wrong key bytes, wrong binding, tampered header or wrap).
 *
 * @example
 * const moved = rewrapEnvelope(blob, { secretId, version: 3 }, oldKek, newKek);
 */
export function rewrapEnvelope(blob: Uint8Array, binding: SealBinding, from: Kek, to: Kek): Buffer {
  const bound = encodeBinding(binding);
  const parts = parseEnvelope(blob, binding);
  const dek = unwrapDataKey(parts, bound, binding, from);
  try {
    const wrapIv = pooledRandomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', to.key, wrapIv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(Buffer.concat([WRAP_DOMAIN, kekIdField(to.id), bound]));
    const wrappedKey = Buffer.concat([cipher.update(dek), cipher.final()]);
    return Buffer.concat([
      encodeHeader(to.id),
      wrapIv,
      wrappedKey,
      cipher.getAuthTag(),
      parts.dataIv,
      parts.dataTag,
      parts.ciphertext,
    ]);
  } finally {
    dek.fill(0);
  }
}

/**
 * Encrypts `plaintext` under `dataKey` (a fresh key a KMS made or wrapped) and writes a v2 blob
 * whose header carries `kekId` and the KMS's wrap of that data key. The caller zeroes `dataKey`.
 *
 * @example
 * const { dataKey, wrapped } = await source.generateDataKey(key, context);
 * const blob = sealExternalEnvelope(plaintext, binding, dataKey, kekId, wrapped);
 */
export function sealExternalEnvelope(
  plaintext: Uint8Array,
  binding: SealBinding,
  dataKey: Buffer,
  kekId: string,
  wrapped: WrappedDataKey,
): Buffer {
  if (dataKey.length !== KEY_LENGTH) throw new CofferError('internal', 'a data key is not 32 bytes long');
  const bound = encodeBinding(binding);
  const dataIv = pooledRandomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', dataKey, dataIv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.concat([DATA_DOMAIN, bound]));
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([externalHeader(kekId, wrapped), dataIv, cipher.getAuthTag(), ciphertext]);
}

/**
 * Parses a v2 blob (see {@link EXTERNAL_ENVELOPE_VERSION}); a v1 blob, or anything malformed,
 * throws `integrity` (`key_unavailable` is the caller's to decide for a v1 blob).
 */
export function parseExternalEnvelope(blob: Uint8Array, binding?: SealBinding): ExternalEnvelopeParts {
  const parsed = parseAnyEnvelope(blob, binding);
  if (parsed.format !== EXTERNAL_ENVELOPE_VERSION) {
    throw integrityError(binding, parsed.kekId, 'it was sealed with a local key, not by a KMS');
  }
  return parsed;
}

/** The format version of a blob (1: local key, 2: KMS), after checking its header is well formed. */
export function envelopeFormat(blob: Uint8Array, binding?: SealBinding): 1 | 2 {
  return parseAnyEnvelope(blob, binding).format;
}

/**
 * Decrypts the data of a v2 blob with its unwrapped data key; `integrity` when it does not
 * authenticate. The caller owns (and zeroes) `dataKey`.
 */
export function openExternalEnvelope(
  parts: ExternalEnvelopeParts,
  binding: SealBinding,
  dataKey: Buffer,
): Buffer {
  if (dataKey.length !== KEY_LENGTH) {
    throw integrityError(binding, parts.kekId, 'the KMS returned a data key of the wrong length');
  }
  return decryptData(parts, encodeBinding(binding), binding, dataKey);
}

/** A v2 blob with another KMS wrap of the same data key; the data part is copied unchanged. */
export function replaceExternalWrap(
  parts: ExternalEnvelopeParts,
  kekId: string,
  wrapped: WrappedDataKey,
): Buffer {
  return Buffer.concat([externalHeader(kekId, wrapped), parts.dataPart]);
}

function externalHeader(kekId: string, wrapped: WrappedDataKey): Buffer {
  const keyId = Buffer.from(wrapped.keyId, 'utf8');
  const version = Buffer.from(wrapped.keyVersion ?? '', 'utf8');
  const key = wrapped.ciphertext;
  if (
    keyId.length < 1 ||
    keyId.length > MAX_EXTERNAL_KEY_ID_LENGTH ||
    version.length > MAX_EXTERNAL_KEY_VERSION_LENGTH ||
    key.length < 1 ||
    key.length > MAX_WRAPPED_KEY_LENGTH
  ) {
    throw new CofferError(
      'internal',
      'a KMS returned a key id, key version or wrapped key of an unusable length',
    );
  }
  const lengths = Buffer.alloc(2);
  lengths.writeUInt16BE(keyId.length, 0);
  const wrappedLength = Buffer.alloc(2);
  wrappedLength.writeUInt16BE(key.length, 0);
  return Buffer.concat([
    ENVELOPE_MAGIC,
    Buffer.from([EXTERNAL_ENVELOPE_VERSION]),
    kekIdField(checkedKekId(kekId)),
    lengths,
    keyId,
    Buffer.from([version.length]),
    version,
    wrappedLength,
    key,
  ]);
}

function checkedKekId(kekId: string): string {
  if (!isKeyId(kekId)) throw new CofferError('internal', 'a key-encryption key has an invalid id');
  return kekId;
}

/**
 * The KEK id in a blob's header, read without any key. Throws `integrity` when the blob is
 * not a well-formed envelope (wrong magic, unknown format version, truncated); the binding,
 * when given, only makes that error name the secret and version.
 *
 * @example
 * if (envelopeKekId(blob) !== keyring.currentKeyId) queueRewrap(secretId, version);
 */
export function envelopeKekId(blob: Uint8Array, binding?: SealBinding): string {
  return parseAnyEnvelope(blob, binding).kekId;
}

/** The bytes a blob adds to its plaintext for a KEK id of `kekIdLength` characters. */
export function envelopeOverhead(kekIdLength: number): number {
  return PREFIX_LENGTH + kekIdLength + FIXED_BODY_LENGTH;
}

function unwrapDataKey(parts: EnvelopeParts, bound: Buffer, binding: SealBinding, kek: Kek): Buffer {
  if (kek.id !== parts.kekId) {
    // A caller bug rather than bad data, but still never an attempt with the wrong key.
    throw integrityError(binding, parts.kekId, `it was sealed with key ${parts.kekId}, not ${kek.id}`);
  }
  const decipher = createDecipheriv('aes-256-gcm', kek.key, parts.wrapIv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.concat([WRAP_DOMAIN, kekIdField(parts.kekId), bound]));
  decipher.setAuthTag(parts.wrapTag);
  const dek = decipher.update(parts.wrappedKey);
  try {
    decipher.final();
    return dek;
  } catch {
    dek.fill(0);
    throw integrityError(
      binding,
      parts.kekId,
      'its data key did not authenticate (tampered or corrupted blob, a blob of another secret or version, or a different key under the same id)',
    );
  }
}

function parseEnvelope(input: Uint8Array, binding: SealBinding | undefined): EnvelopeParts {
  const parsed = parseAnyEnvelope(input, binding);
  if (parsed.format !== ENVELOPE_VERSION) {
    throw kmsBlobError(binding, parsed.kekId);
  }
  return parsed;
}

/** A KMS-wrapped blob reached a local key under the same id: never try to open it with one. */
function kmsBlobError(binding: SealBinding | undefined, kekId: string): CofferError {
  return integrityError(binding, kekId, 'it was sealed by a KMS key source, not with a local key');
}

function asBuffer(input: Uint8Array, binding: SealBinding | undefined): Buffer {
  // Stored data comes back through drivers; a value of the wrong type is corrupt data, not a crash.
  if (!(input instanceof Uint8Array)) throw integrityError(binding, undefined, 'it is not binary data');
  return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

function parseAnyEnvelope(
  input: Uint8Array,
  binding: SealBinding | undefined,
): (EnvelopeParts & { format: 1 }) | (ExternalEnvelopeParts & { format: 2 }) {
  const malformed = (why: string) => integrityError(binding, undefined, why);
  const blob = asBuffer(input, binding);
  if (blob.length < PREFIX_LENGTH || !blob.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) {
    throw malformed('it is not a Coffer keyring blob (bad magic or too short)');
  }
  const version = blob[ENVELOPE_MAGIC.length];
  if (version !== ENVELOPE_VERSION && version !== EXTERNAL_ENVELOPE_VERSION) {
    throw malformed(`its format version ${version} is not supported`);
  }
  const idLength = blob[ENVELOPE_MAGIC.length + 1]!;
  const bodyStart = PREFIX_LENGTH + idLength;
  const minBody = version === ENVELOPE_VERSION ? FIXED_BODY_LENGTH : EXTERNAL_MIN_BODY_LENGTH;
  if (idLength < 1 || idLength > MAX_KEK_ID_LENGTH || blob.length < bodyStart + minBody) {
    throw malformed('it is truncated or its header is corrupted');
  }
  const kekId = blob.toString('latin1', PREFIX_LENGTH, bodyStart);
  if (!isKeyId(kekId)) throw malformed('its key id is corrupted');
  let at = bodyStart;
  const take = (length: number) => {
    if (at + length > blob.length) throw malformed('it is truncated or its header is corrupted');
    const part = blob.subarray(at, at + length);
    at += length;
    return part;
  };
  if (version === ENVELOPE_VERSION) {
    return {
      format: 1,
      kekId,
      wrapIv: take(IV_LENGTH),
      wrappedKey: take(KEY_LENGTH),
      wrapTag: take(TAG_LENGTH),
      dataIv: take(IV_LENGTH),
      dataTag: take(TAG_LENGTH),
      ciphertext: blob.subarray(at),
    };
  }
  const keyIdLength = take(2).readUInt16BE(0);
  if (keyIdLength < 1 || keyIdLength > MAX_EXTERNAL_KEY_ID_LENGTH)
    throw malformed('its KMS key id is corrupted');
  const keyId = take(keyIdLength).toString('utf8');
  const versionLength = take(1)[0]!;
  const keyVersion = versionLength === 0 ? undefined : take(versionLength).toString('utf8');
  const wrappedLength = take(2).readUInt16BE(0);
  if (wrappedLength < 1 || wrappedLength > MAX_WRAPPED_KEY_LENGTH) {
    throw malformed('its wrapped data key is corrupted');
  }
  const wrapped = take(wrappedLength);
  const dataIv = take(IV_LENGTH);
  const dataTag = take(TAG_LENGTH);
  return {
    format: 2,
    kekId,
    wrapped: { keyId, ...(keyVersion === undefined ? {} : { keyVersion }), ciphertext: wrapped },
    dataIv,
    dataTag,
    ciphertext: blob.subarray(at),
    dataPart: blob.subarray(at - IV_LENGTH - TAG_LENGTH),
  };
}

function encodeHeader(kekId: string): Buffer {
  return Buffer.concat([ENVELOPE_MAGIC, Buffer.from([ENVELOPE_VERSION]), kekIdField(checkedKekId(kekId))]);
}

/** Length-prefixed, so `a`+`bc` and `ab`+`c` never produce the same associated data. */
function kekIdField(kekId: string): Buffer {
  const id = Buffer.from(kekId, 'latin1');
  return Buffer.concat([Buffer.from([id.length]), id]);
}

function encodeBinding(binding: SealBinding): Buffer {
  const { secretId, version } = binding;
  if (typeof secretId !== 'string' || secretId === '' || !Number.isSafeInteger(version) || version < 0) {
    throw CofferError.validation(
      [{ path: 'binding', message: 'secretId must be a non-empty string and version an integer >= 0' }],
      'invalid seal binding: secretId must be a non-empty string and version an integer >= 0',
    );
  }
  const id = Buffer.from(secretId, 'utf8');
  if (id.length > 0xffff) {
    throw CofferError.validation([{ path: 'binding.secretId', message: 'too long' }]);
  }
  const out = Buffer.alloc(2 + id.length + 8);
  out.writeUInt16BE(id.length, 0);
  id.copy(out, 2);
  out.writeBigUInt64BE(BigInt(version), 2 + id.length);
  return out;
}

function integrityError(
  binding: SealBinding | undefined,
  kekId: string | undefined,
  why: string,
): CofferError {
  const what =
    binding === undefined
      ? 'a sealed blob'
      : `the sealed value of secret ${safeId(binding.secretId)} version ${binding.version}`;
  const key = kekId === undefined ? '' : ` (key ${kekId})`;
  return new CofferError('integrity', `${what}${key} failed its integrity check: ${why}`, {
    details: {
      ...(binding === undefined ? {} : { secretId: safeId(binding.secretId), version: binding.version }),
      ...(kekId === undefined ? {} : { kekId }),
    },
  });
}

/** Secret ids are UUIDs; anything else is shortened so a misuse cannot smuggle data into a message. */
function safeId(secretId: string): string {
  return typeof secretId === 'string' && secretId.length <= 64
    ? secretId
    : `${String(secretId).slice(0, 64)}…`;
}
