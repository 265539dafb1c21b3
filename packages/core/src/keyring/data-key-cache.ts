import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import { RecencyMap } from '../shared/recency-map.js';

/**
 * The `keyring.cache` settings of a KMS key source: how many unwrapped data keys the process
 * keeps, and for how long, so repeated reveals of a value do not each cost a KMS round trip.
 *
 * @example
 * { "keyring": { "source": "aws-kms", "keyId": "alias/coffer", "cache": { "maxEntries": 500, "ttlSeconds": 60 } } }
 */
export const dataKeyCacheSettingsSchema = z
  .strictObject({
    /** Unwrapped data keys kept at most; the least recently used goes first. 0 turns the cache off. */
    maxEntries: z.number().int().min(0).max(1_000_000).default(1000),
    /** How long an unwrapped data key is kept after the KMS unwrapped it (not after its last use). */
    ttlSeconds: z.number().min(0).max(86_400).default(300),
  })
  .default({ maxEntries: 1000, ttlSeconds: 300 });

export type DataKeyCacheSettings = z.output<typeof dataKeyCacheSettingsSchema>;

export const defaultDataKeyCacheSettings: DataKeyCacheSettings = Object.freeze({
  maxEntries: 1000,
  ttlSeconds: 300,
});

interface Entry {
  readonly key: Buffer;
  readonly expiresAt: number;
}

/**
 * Unwrapped data keys by an opaque id (a hash of the wrapped key and what it is bound to), bounded
 * in entries (least recently used first out) and in time (an entry expires `ttlSeconds` after it
 * was stored, however often it is used). Each entry owns its own copy of the key, and every key
 * that leaves the cache (evicted, expired, cleared) is zeroed first. Nothing here is ever logged.
 *
 * @example
 * const cache = new DataKeyCache({ maxEntries: 1000, ttlSeconds: 300 }, systemClock);
 * cache.set(id, dataKey);
 * const hit = cache.use(id, (key) => decrypt(key)); // undefined on a miss
 */
export class DataKeyCache {
  readonly #settings: DataKeyCacheSettings;
  readonly #clock: Clock;
  readonly #entries = new RecencyMap<string, Entry>();

  constructor(settings: DataKeyCacheSettings, clock: Clock) {
    this.#settings = settings;
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  get enabled(): boolean {
    return this.#settings.maxEntries > 0 && this.#settings.ttlSeconds > 0;
  }

  /**
   * Runs `fn` with the cached key (synchronously, so no eviction can zero it meanwhile) and returns
   * its result, or undefined when the key is not cached or has expired.
   */
  use<T>(id: string, fn: (key: Buffer) => T): T | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#drop(id);
      return undefined;
    }
    this.#entries.touch(id);
    return fn(entry.key);
  }

  /** Stores a copy of `key` (the caller keeps and zeroes its own). */
  set(id: string, key: Buffer): void {
    if (!this.enabled) return;
    const copy = Buffer.alloc(key.length);
    key.copy(copy);
    const expiresAt = this.#now() + this.#settings.ttlSeconds * 1000;
    this.#entries.set(id, { key: copy, expiresAt })?.key.fill(0);
    while (this.#entries.size > this.#settings.maxEntries) this.#drop(this.#entries.oldest()!);
  }

  /** Zeroes and drops every expired entry; returns how many went. */
  sweep(): number {
    const now = this.#now();
    let dropped = 0;
    for (const [id, entry] of [...this.#entries.entries()]) {
      if (entry.expiresAt <= now) {
        this.#drop(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Zeroes and drops every entry. */
  clear(): void {
    for (const [, entry] of this.#entries.entries()) entry.key.fill(0);
    this.#entries.clear();
  }

  #drop(id: string): void {
    this.#entries.delete(id)?.key.fill(0);
  }

  #now(): number {
    return this.#clock().getTime();
  }
}
