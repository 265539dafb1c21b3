import { describe, expect, it } from 'vitest';
import { movableClock } from '../identity/test-support/identity-fixture.js';
import { DataKeyCache } from './data-key-cache.js';

const keyOf = (byte: number) => Buffer.alloc(32, byte);

/** The ids the cache still holds, of those given. */
function held(cache: DataKeyCache, ids: readonly string[]): string[] {
  return ids.filter((id) => cache.use(id, () => true) === true);
}

describe('DataKeyCache', () => {
  it('evicts the least recently used key, counting a use as recent', () => {
    const cache = new DataKeyCache({ maxEntries: 3, ttlSeconds: 60 }, movableClock().clock);
    cache.set('a', keyOf(1));
    cache.set('b', keyOf(2));
    cache.set('c', keyOf(3));
    // a is used, so b is now the least recently used.
    expect(cache.use('a', (k) => k[0])).toBe(1);
    cache.set('d', keyOf(4));
    expect(cache.size).toBe(3);
    expect(cache.use('b', () => true)).toBeUndefined();
    // Checking a, c and d uses each in turn; e then evicts the first of them, a.
    expect(held(cache, ['a', 'c', 'd'])).toEqual(['a', 'c', 'd']);
    cache.set('e', keyOf(5));
    expect(held(cache, ['a', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e']);
  });

  it('stays bounded and zeroes every key it lets go, through many evictions', () => {
    const cache = new DataKeyCache({ maxEntries: 100, ttlSeconds: 60 }, movableClock().clock);
    const lent: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      cache.set(`id-${i}`, keyOf((i % 255) + 1));
      cache.use(`id-${i}`, (k) => lent.push(k));
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    // The cache handed out its own copies: the 4,900 evicted ones are all zeros now.
    expect(lent.slice(0, 4900).every((k) => k.every((b) => b === 0))).toBe(true);
    expect(lent.slice(4900).every((k, i) => k[0] === ((4900 + i) % 255) + 1)).toBe(true);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(lent.every((k) => k.every((b) => b === 0))).toBe(true);
  });

  it('replaces a key stored again under the same id, zeroing the old copy', () => {
    const cache = new DataKeyCache({ maxEntries: 2, ttlSeconds: 60 }, movableClock().clock);
    cache.set('a', keyOf(1));
    let first: Buffer | undefined;
    cache.use('a', (k) => {
      first = k;
    });
    cache.set('a', keyOf(2));
    expect(cache.size).toBe(1);
    expect(first?.every((b) => b === 0)).toBe(true);
    expect(cache.use('a', (k) => k[0])).toBe(2);
    cache.set('b', keyOf(3));
    cache.set('c', keyOf(4));
    expect(held(cache, ['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  it('expires a key its TTL after it was stored, however often it is used', () => {
    const time = movableClock();
    const cache = new DataKeyCache({ maxEntries: 10, ttlSeconds: 10 }, time.clock);
    cache.set('a', keyOf(1));
    time.advance(6);
    cache.set('b', keyOf(2));
    expect(cache.use('a', (k) => k[0])).toBe(1);
    time.advance(5);
    expect(cache.use('a', () => true)).toBeUndefined();
    expect(cache.size).toBe(1);
    time.advance(5);
    expect(cache.sweep()).toBe(1);
    expect(cache.size).toBe(0);
    // An emptied list takes new keys again.
    cache.set('c', keyOf(3));
    expect(cache.use('c', (k) => k[0])).toBe(3);
  });

  it('keeps nothing when turned off', () => {
    const cache = new DataKeyCache({ maxEntries: 0, ttlSeconds: 60 }, movableClock().clock);
    cache.set('a', keyOf(1));
    expect(cache.size).toBe(0);
    expect(cache.use('a', () => true)).toBeUndefined();
  });
});
