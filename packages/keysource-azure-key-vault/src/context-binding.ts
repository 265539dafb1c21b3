import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { WrapContext } from '@coffer/core';
import { contextBytes } from './wrap-context.js';

/**
 * Binding a data key to its wrap context where the KMS cannot: Key Vault's `wrapKey` takes no
 * additional authenticated data, so the wrap alone would unwrap on any secret it is copied to.
 * The wrapped data key Coffer stores is therefore
 *
 *     0x01 | u16 length n | RSA-OAEP-256 wrap of the data key (n bytes, from Key Vault) | tag (32 bytes)
 *
 * with `tag = HMAC-SHA256(K, "coffer-azure-kv-wrap-v1" 0x00 | context)`, where `context` is the
 * canonical encoding of the wrap context ({@link contextBytes}) and `K = HKDF-SHA256(data key,
 * salt empty, info "coffer azure-key-vault context key v1", 32 bytes)`. After Key Vault unwraps
 * the data key, Coffer recomputes the tag for the context it expects and refuses anything else
 * with `integrity`, before the data key is used.
 *
 * Why this holds: the tag can only be computed with the data key, and the data key only comes
 * out of Key Vault's `unwrapKey`. Someone who can change the database but not unwrap cannot make
 * a tag for another context, so a wrapped key moved to another secret, version or deployment
 * fails. `K` is derived rather than the data key used as is, so the key that encrypts the value
 * (AES-256-GCM) is never also an HMAC key. What it does not stop: RSA wrapping uses the key's
 * public half, so anyone holding it can wrap a data key of their own choosing (and tag it for any
 * context); Coffer then opens a value they made. Key Vault's wrap is public-key encryption, not
 * authentication. AWS and Google Cloud KMS wrap with a symmetric key only the KMS holds, and Vault
 * Transit likewise.
 */
const tagLabel = Buffer.from('coffer-azure-kv-wrap-v1\0', 'ascii');
const keyInfo = Buffer.from('coffer azure-key-vault context key v1', 'ascii');
const formatVersion = 1;
const tagBytes = 32;

/** The tag that binds `dataKey` to `context`. */
export function contextTag(dataKey: Buffer, context: WrapContext): Buffer {
  const key = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), keyInfo, 32));
  try {
    return createHmac('sha256', key).update(tagLabel).update(contextBytes(context)).digest();
  } finally {
    key.fill(0);
  }
}

/**
 * The bytes Coffer stores as the wrapped data key: Key Vault's wrap and the context tag.
 *
 * @example
 * const ciphertext = encodeWrapped(wrapResult.result, contextTag(dataKey, context));
 */
export function encodeWrapped(rsaWrap: Uint8Array, tag: Buffer): Buffer {
  const header = Buffer.alloc(3);
  header[0] = formatVersion;
  header.writeUInt16BE(rsaWrap.length, 1);
  return Buffer.concat([header, rsaWrap, tag]);
}

/** The parts of a stored wrapped data key, or undefined when it does not have this shape. */
export function decodeWrapped(ciphertext: Uint8Array): { rsaWrap: Buffer; tag: Buffer } | undefined {
  const bytes = Buffer.from(ciphertext);
  if (bytes.length < 3 + tagBytes || bytes[0] !== formatVersion) return undefined;
  const n = bytes.readUInt16BE(1);
  if (n === 0 || bytes.length !== 3 + n + tagBytes) return undefined;
  return { rsaWrap: bytes.subarray(3, 3 + n), tag: bytes.subarray(3 + n) };
}

/** Whether `tag` binds `dataKey` to `context` (compared in constant time). */
export function tagMatches(dataKey: Buffer, context: WrapContext, tag: Buffer): boolean {
  const expected = contextTag(dataKey, context);
  return tag.length === expected.length && timingSafeEqual(tag, expected);
}
