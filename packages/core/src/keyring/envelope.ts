import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CofferError } from '../errors/coffer-error.js';
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
 * Encrypts `plaintext` under a fresh data key and wraps the data key with `kek`.
 *
 * @example
 * const blob = sealEnvelope(Buffer.from('{"password":"x"}'), { secretId, version: 3 }, kek);
 */
export function sealEnvelope(plaintext: Uint8Array, binding: SealBinding, kek: Kek): Buffer {
  const bound = encodeBinding(binding);
  const header = encodeHeader(kek.id);
  // One call for the data key and both IVs: each randomBytes call costs more than the bytes.
  const random = randomBytes(KEY_LENGTH + 2 * IV_LENGTH);
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
  const bound = encodeBinding(binding);
  const parts = parseEnvelope(blob, binding);
  const dek = unwrapDataKey(parts, bound, binding, kek);
  try {
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
  } finally {
    dek.fill(0);
  }
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
    const wrapIv = randomBytes(IV_LENGTH);
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
 * The KEK id in a blob's header, read without any key. Throws `integrity` when the blob is
 * not a well-formed envelope (wrong magic, unknown format version, truncated); the binding,
 * when given, only makes that error name the secret and version.
 *
 * @example
 * if (envelopeKekId(blob) !== keyring.currentKeyId) queueRewrap(secretId, version);
 */
export function envelopeKekId(blob: Uint8Array, binding?: SealBinding): string {
  return parseEnvelope(blob, binding).kekId;
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
  const malformed = (why: string) => integrityError(binding, undefined, why);
  // Stored data comes back through drivers; a value of the wrong type is corrupt data, not a crash.
  if (!(input instanceof Uint8Array)) throw malformed('it is not binary data');
  const blob = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (blob.length < PREFIX_LENGTH || !blob.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) {
    throw malformed('it is not a Coffer keyring blob (bad magic or too short)');
  }
  const version = blob[ENVELOPE_MAGIC.length];
  if (version !== ENVELOPE_VERSION) {
    throw malformed(`its format version ${version} is not supported`);
  }
  const idLength = blob[ENVELOPE_MAGIC.length + 1]!;
  const bodyStart = PREFIX_LENGTH + idLength;
  if (idLength < 1 || idLength > MAX_KEK_ID_LENGTH || blob.length < bodyStart + FIXED_BODY_LENGTH) {
    throw malformed('it is truncated or its header is corrupted');
  }
  const kekId = blob.toString('latin1', PREFIX_LENGTH, bodyStart);
  if (!isKeyId(kekId)) throw malformed('its key id is corrupted');
  let at = bodyStart;
  const take = (length: number) => {
    const part = blob.subarray(at, at + length);
    at += length;
    return part;
  };
  return {
    kekId,
    wrapIv: take(IV_LENGTH),
    wrappedKey: take(KEY_LENGTH),
    wrapTag: take(TAG_LENGTH),
    dataIv: take(IV_LENGTH),
    dataTag: take(TAG_LENGTH),
    ciphertext: blob.subarray(at),
  };
}

function encodeHeader(kekId: string): Buffer {
  if (!isKeyId(kekId)) {
    throw new CofferError('internal', 'a key-encryption key has an invalid id');
  }
  return Buffer.concat([ENVELOPE_MAGIC, Buffer.from([ENVELOPE_VERSION]), kekIdField(kekId)]);
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
