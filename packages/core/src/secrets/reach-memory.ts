import type { ResolvedActor } from '../identity/actor.js';
import { RecencyMap } from '../shared/recency-map.js';

/**
 * What the last count of an actor's reach decided, kept for a few seconds: whether few enough
 * secrets are within its reach that a page reads those by id, or so many that it walks the
 * names (`withinReach` in secret-store.ts). A member paging through its list counted its reach
 * again on every page: on PostgreSQL about 1 ms of a 14 ms page (docs/performance.md).
 *
 * Both ways return the same rows, so a decision that has gone stale (a share of a large group
 * given or taken since) costs time for at most `ttlMs`, never a wrong page. An actor whose
 * groups change gets a new key, and so a fresh count at once.
 */
export class ReachMemory {
  readonly #decisions = new RecencyMap<string, { sparse: boolean; until: number }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly capacity = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** true: read the few secrets within reach by id; false: walk; undefined: count again. */
  recall(key: string): boolean | undefined {
    const decision = this.#decisions.get(key);
    if (decision === undefined) return undefined;
    if (decision.until <= this.now()) {
      this.#decisions.delete(key);
      return undefined;
    }
    return decision.sparse;
  }

  remember(key: string, sparse: boolean): void {
    this.#decisions.set(key, { sparse, until: this.now() + this.ttlMs });
    while (this.#decisions.size > this.capacity) this.#decisions.delete(this.#decisions.oldest()!);
  }
}

/** The key of one count: who, through which groups, at which share levels, up to which limit. */
export function reachKey(actor: ResolvedActor, levels: readonly string[], limit: number): string {
  return `${actor.type}:${actor.id}:${[...actor.groupIds].sort().join(',')}:${levels.join(',')}:${limit}`;
}
