import { describe, expect, it } from 'vitest';
import { IdentityCache } from './identity-cache.js';

describe('IdentityCache', () => {
  it('holds at most maxEntries, dropping the longest stored first', () => {
    const cache = new IdentityCache<number>({ ttlMs: 60_000, maxEntries: 3 });
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i, 0, cache.generation);
    // A lookup does not keep an entry: it still goes in the order it was stored.
    expect(cache.get('a', 1)).toBe(0);
    cache.set('d', 3, 1, cache.generation);
    expect(cache.size).toBe(3);
    expect(cache.get('a', 1)).toBeUndefined();
    // Storing again (a lookup after its expiry, say) makes an entry the newest.
    cache.set('b', 10, 2, cache.generation);
    cache.set('e', 4, 2, cache.generation);
    expect(['b', 'c', 'd', 'e'].map((k) => cache.get(k, 2))).toEqual([10, undefined, 3, 4]);
  });

  it('stays bounded through many more identities than it holds', () => {
    const cache = new IdentityCache<number>({ ttlMs: 60_000, maxEntries: 100 });
    for (let i = 0; i < 5000; i++) {
      cache.set(`token:${i}`, i, 0, cache.generation);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get('token:4899', 0)).toBeUndefined();
    expect(cache.get('token:4900', 0)).toBe(4900);
    expect(cache.get('token:4999', 0)).toBe(4999);
  });

  it('expires an entry after ttlMs or at its own end, whichever is first', () => {
    const cache = new IdentityCache<string>({ ttlMs: 1000, maxEntries: 10 });
    cache.set('user:1', 'ada', 0, cache.generation);
    cache.set('token:1', 'ada', 0, cache.generation, 300);
    expect(cache.get('token:1', 299)).toBe('ada');
    expect(cache.get('token:1', 300)).toBeUndefined();
    expect(cache.get('user:1', 999)).toBe('ada');
    expect(cache.get('user:1', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store what a lookup found before a change cleared the cache', () => {
    const cache = new IdentityCache<string>({ ttlMs: 1000, maxEntries: 10 });
    const before = cache.generation;
    cache.clear();
    cache.set('token:1', 'revoked-state', 0, before);
    expect(cache.get('token:1', 0)).toBeUndefined();
    cache.set('token:1', 'current', 0, cache.generation);
    expect(cache.get('token:1', 0)).toBe('current');
  });

  it('keeps nothing when its ttl is 0', () => {
    const cache = new IdentityCache<string>({ ttlMs: 0, maxEntries: 10 });
    cache.set('token:1', 'ada', 0, cache.generation);
    expect(cache.size).toBe(0);
  });
});
