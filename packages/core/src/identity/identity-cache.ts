import { RecencyMap } from '../shared/recency-map.js';

/**
 * A small bounded cache of identity lookups (who a token or user is, which groups they are in),
 * so a request does not read them again each time. Entries live at most `ttlMs` and never past
 * their own `validUntilMs` (a token's expiry); `clear()` drops everything, which every identity
 * change does, on this server at once and on the others when its change event arrives.
 *
 * @example
 * const cache = new IdentityCache<ResolvedActor>({ ttlMs: 10_000, maxEntries: 10_000 });
 * cache.set('token:abc', resolved, Date.now(), tokenExpiryMs);
 */
export class IdentityCache<V> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  /** In the order entries were stored (a lookup does not reorder them), oldest evicted first. */
  readonly #entries = new RecencyMap<string, { value: V; untilMs: number }>();
  /** Bumped by `clear`, so a lookup that started before a change does not store stale state. */
  #generation = 0;

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  get enabled(): boolean {
    return this.#ttlMs > 0;
  }

  /** The generation to pass to {@link set} for a lookup starting now. */
  get generation(): number {
    return this.#generation;
  }

  get(key: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (nowMs >= entry.untilMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * Stores what a lookup that began at `generation` found, unless the cache was cleared since
   * (the lookup may have read the state from before the change).
   */
  set(
    key: string,
    value: V,
    nowMs: number,
    generation: number,
    validUntilMs = Number.POSITIVE_INFINITY,
  ): void {
    if (!this.enabled || generation !== this.#generation) return;
    this.#entries.set(key, { value, untilMs: Math.min(nowMs + this.#ttlMs, validUntilMs) });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.oldest()!);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
