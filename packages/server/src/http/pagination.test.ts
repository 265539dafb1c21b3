import { describe, expect, it } from 'vitest';
import { pageOfList, sortByKey } from './pagination.js';

describe('pageOfList', () => {
  const items = [5, 4, 3, 2, 1].map((version) => ({ version }));
  const key = (v: { version: number }) => [v.version];

  it('walks a list in pages with cursors', () => {
    const first = pageOfList(items, key, { limit: 2 }, 'desc');
    expect(first.items.map((v) => v.version)).toEqual([5, 4]);
    const second = pageOfList(items, key, { limit: 2, cursor: first.nextCursor! }, 'desc');
    expect(second.items.map((v) => v.version)).toEqual([3, 2]);
    const last = pageOfList(items, key, { limit: 2, cursor: second.nextCursor! }, 'desc');
    expect(last).toEqual({ items: [{ version: 1 }], nextCursor: null });
  });

  it('keeps going when the item at the page boundary went away', () => {
    const first = pageOfList(items, key, { limit: 2 }, 'desc');
    const without4 = items.filter((v) => v.version !== 4);
    expect(pageOfList(without4, key, { limit: 2, cursor: first.nextCursor! }, 'desc').items).toEqual([
      { version: 3 },
      { version: 2 },
    ]);
  });

  it('refuses a cursor it did not make', () => {
    for (const cursor of [
      'nope',
      Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('["x"]').toString('base64url'),
    ]) {
      expect(() => pageOfList(items, key, { cursor })).toThrow(/cursor/);
    }
  });

  it('sorts by tuple keys', () => {
    const rows = [
      { t: 1, n: 'b' },
      { t: 0, n: 'z' },
      { t: 1, n: 'a' },
    ];
    expect(sortByKey(rows, (r) => [r.t, r.n]).map((r) => r.n)).toEqual(['z', 'a', 'b']);
  });
});
