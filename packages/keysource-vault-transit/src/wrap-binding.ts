import { createHash, timingSafeEqual } from 'node:crypto';
import type { WrapContext } from '@coffer/core';

/** Bytes of a data key; the wrapped plaintext is the data key and then the context digest. */
export const dataKeyLength = 32;
const digestLength = 32;
const domain = 'coffer vault-transit wrap context v1\0';

/**
 * The SHA-256 digest of a wrap context's canonical encoding: its entries sorted by key, as a JSON
 * array of `[key, value]` pairs (unambiguous whatever the keys and values hold).
 *
 * @example
 * contextDigest({ 'coffer-secret': 's-1', 'coffer-version': '2' }).length; // 32
 */
export function contextDigest(context: WrapContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(domain).update(JSON.stringify(entries), 'utf8').digest();
}

/**
 * What Transit encrypts for one data key: the data key followed by the digest of its context.
 * Transit keys that are not derived take no context, so Coffer binds it itself: the digest travels
 * inside Vault's authenticated ciphertext, and {@link openBound} refuses a data key whose context
 * differs (a wrapped key moved onto another secret, version or deployment).
 */
export function bindContext(dataKey: Buffer, context: WrapContext): Buffer {
  return Buffer.concat([dataKey, contextDigest(context)]);
}

/**
 * The data key of a plaintext Transit gave back, if it was bound to `context`; undefined when the
 * context or the length does not match. Zeroes `plaintext` either way.
 */
export function openBound(plaintext: Buffer, context: WrapContext): Buffer | undefined {
  try {
    if (plaintext.length !== dataKeyLength + digestLength) return undefined;
    const digest = contextDigest(context);
    if (!timingSafeEqual(plaintext.subarray(dataKeyLength), digest)) return undefined;
    return Buffer.from(plaintext.subarray(0, dataKeyLength));
  } finally {
    plaintext.fill(0);
  }
}
