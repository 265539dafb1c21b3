import { describe, expect, it } from 'vitest';
import { paddedIn } from './prepared.js';

describe('paddedIn', () => {
  it('lengthens a list to the next fixed length with its first value, keeping every value', () => {
    expect(paddedIn(['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'a']);
    expect(paddedIn(['a', 'b'])).toEqual(['a', 'b']);
    expect(paddedIn(['x'])).toEqual(['x', 'x']);
    const page = Array.from({ length: 100 }, (_, i) => `id-${i}`);
    const padded = paddedIn(page)!;
    expect(padded).toHaveLength(128);
    expect(new Set(padded)).toEqual(new Set(page));
  });

  it('gives a few lengths for every page size up to 256, and none past it or for an empty list', () => {
    const lengths = new Set<number>();
    for (let n = 1; n <= 256; n++) lengths.add(paddedIn(Array.from({ length: n }, (_, i) => i))!.length);
    expect([...lengths]).toEqual([2, 4, 8, 16, 32, 64, 128, 256]);
    expect(paddedIn(Array.from({ length: 257 }, (_, i) => i))).toBeUndefined();
    expect(paddedIn([])).toBeUndefined();
  });
});
