import { CofferError, type Page } from '@coffer/core';

/** Items per page unless the client asks: the same default as core's lists. */
export const defaultPageLimit = 100;

type Key = readonly (string | number)[];

/**
 * One page of a list that core returns whole (versions, shares, kinds, group members):
 * keyset pagination like core's own lists. `items` must be sorted by `keyOf` in `order`; the
 * cursor holds the last key, so an item removed between pages does not break the walk.
 *
 * @example
 * pageOfList(versions, (v) => [v.version], { cursor, limit }, 'desc');
 */
export function pageOfList<T>(
  items: readonly T[],
  keyOf: (item: T) => Key,
  request: { cursor?: string | undefined; limit?: number | undefined },
  order: 'asc' | 'desc' = 'asc',
): Page<T> {
  const limit = request.limit ?? defaultPageLimit;
  const sign = order === 'asc' ? 1 : -1;
  let rest = items;
  if (request.cursor !== undefined) {
    const after = decodeListCursor(request.cursor, items.length > 0 ? keyOf(items[0]!) : undefined);
    rest = items.filter((item) => sign * compareKeys(keyOf(item), after) > 0);
  }
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page,
    nextCursor: rest.length > limit && last !== undefined ? encodeListCursor(keyOf(last)) : null,
  };
}

/** Sorts a copy of `items` by `keyOf`, the order {@link pageOfList} expects. */
export function sortByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => Key,
  order: 'asc' | 'desc' = 'asc',
): T[] {
  const sign = order === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => sign * compareKeys(keyOf(a), keyOf(b)));
}

function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

function encodeListCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeListCursor(cursor: string, sample: Key | undefined): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.length <= 8 &&
    parsed.every((part, i) => {
      const expected = sample?.[i];
      if (expected === undefined) return typeof part === 'string' || typeof part === 'number';
      return typeof part === typeof expected;
    });
  if (!valid) {
    throw CofferError.validation([{ path: 'cursor', message: 'is not a cursor this list returned' }]);
  }
  return parsed as Key;
}
