import { pooledRandomBytes } from './random-pool.js';

let lastMs = 0;
let sequence = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then random bits, so ids
 * made one after the other sort together. Rows keyed by them land next to each other in every
 * B-tree index that leads with the id, where random (version 4) ids touch a different page per
 * insert; a commit of many new secrets then writes a few pages instead of hundreds. Within one
 * millisecond a 12-bit counter keeps ids of this process in creation order.
 *
 * The id tells when it was made, to the millisecond, as a secret's `createdAt` does.
 */
export function timeOrderedUuid(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMs++; // 4,096 ids in one millisecond: borrow the next one
  }
  const bytes = pooledRandomBytes(16);
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (sequence >>> 8); // version 7, then the counter's high 4 bits
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // the RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
