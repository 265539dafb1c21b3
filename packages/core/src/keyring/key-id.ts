import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock.js';

/**
 * What a key id may look like: it is stored in every blob header (one length byte, ASCII) and
 * in `keyring_keys.id` (varchar(64)), and shown in error messages, so it is short and plain.
 */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Whether `id` is a valid key id.
 *
 * @example
 * isKeyId('k-20261123-1a2b3c4d'); // true
 */
export function isKeyId(id: string): boolean {
  return KEY_ID_PATTERN.test(id);
}

/**
 * A new id for a generated key, `k-<yyyymmdd>-<8 hex>`: the date tells an operator at a
 * glance how old a key is, the random part keeps two keys made the same day apart.
 *
 * @example
 * newKeyId(systemClock); // 'k-20261123-9f1c04ab'
 */
export function newKeyId(clock: Clock): string {
  const day = clock().toISOString().slice(0, 10).replaceAll('-', '');
  return `k-${day}-${randomBytes(4).toString('hex')}`;
}

/**
 * A stable id for a key given without one: a fingerprint of the key, so the same key gets the
 * same id on every start and on every replica, while the id reveals nothing about the key.
 *
 * @example
 * fingerprintKeyId(key); // 'env-3b1f0c9d2a7e'
 */
export function fingerprintKeyId(key: Buffer): string {
  return `env-${createHmac('sha256', key).update('coffer-key-id').digest('hex').slice(0, 12)}`;
}
