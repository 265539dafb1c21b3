import type { ValueRef } from '@coffer/core';

/** Orders refs by secret id, then by version as a number (9 before 10). */
export function compareRefs(a: ValueRef, b: ValueRef): number {
  if (a.secretId !== b.secretId) return a.secretId < b.secretId ? -1 : 1;
  return a.version - b.version;
}

/** The page of sorted `refs` after `after` (from the start without it), `limit` long, as copies. */
export function pageOfRefs(
  refs: readonly ValueRef[],
  after: ValueRef | undefined,
  limit: number,
): ValueRef[] {
  const start = after === undefined ? 0 : refs.findIndex((r) => compareRefs(r, after) > 0);
  return start === -1 ? [] : refs.slice(start, start + limit).map((r) => ({ ...r }));
}

/** How long the next pages of one listing may reuse the store's answer. */
const snapshotMs = 5_000;

/**
 * A store's full listing, taken once for the first page and reused by the following pages of
 * the same listing for a few seconds, unless the backend wrote meanwhile (it calls
 * {@link RefListing.changed} before and after each write). AWS lists in pages of 10 to 100 with
 * request quotas, so listing everything again for every page would cost a lot.
 *
 * @example
 * const refs = await this.#listing.all(options.after !== undefined, () => this.#listEverything());
 * return pageOfRefs(refs, options.after, options.limit ?? 1000);
 */
export class RefListing {
  #generation = 0;
  #snapshot: { generation: number; takenAt: number; refs: ValueRef[] } | undefined;

  /** Marks the listing stale: a write started or ended. */
  changed(): void {
    this.#generation++;
  }

  /** Every ref, sorted: the snapshot when `continuing` a listing and nothing changed, else `load()`. */
  async all(continuing: boolean, load: () => Promise<ValueRef[]>): Promise<ValueRef[]> {
    const snapshot = this.#snapshot;
    if (
      continuing &&
      snapshot !== undefined &&
      snapshot.generation === this.#generation &&
      performance.now() - snapshot.takenAt < snapshotMs
    ) {
      return snapshot.refs;
    }
    const generation = this.#generation;
    const takenAt = performance.now();
    const refs = (await load()).sort(compareRefs);
    this.#snapshot = { generation, takenAt, refs };
    return refs;
  }
}
