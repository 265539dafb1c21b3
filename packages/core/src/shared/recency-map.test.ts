import { describe, expect, it } from 'vitest';
import { RecencyMap } from './recency-map.js';

const keysOf = (map: RecencyMap<string, number>) => [...map.entries()].map(([k]) => k);

describe('RecencyMap', () => {
  it('keeps entries oldest first, a set or a touch making one the newest', () => {
    const map = new RecencyMap<string, number>();
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(keysOf(map)).toEqual(['a', 'b', 'c']);
    expect(map.touch('a')).toBe(true);
    expect(keysOf(map)).toEqual(['b', 'c', 'a']);
    expect(map.set('b', 20)).toBe(2);
    expect(keysOf(map)).toEqual(['c', 'a', 'b']);
    expect(map.get('b')).toBe(20);
    // A get leaves the order alone.
    expect(map.get('c')).toBe(3);
    expect(map.oldest()).toBe('c');
    expect(map.touch('missing')).toBe(false);
  });

  it('deletes from the ends and the middle, and returns what it removed', () => {
    const map = new RecencyMap<string, number>();
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) map.set(k, i);
    expect(map.delete('b')).toBe(1);
    expect(map.delete('a')).toBe(0);
    expect(map.delete('d')).toBe(3);
    expect(map.delete('d')).toBeUndefined();
    expect(keysOf(map)).toEqual(['c']);
    expect(map.oldest()).toBe('c');
    expect(map.delete('c')).toBe(2);
    expect(map.size).toBe(0);
    expect(map.oldest()).toBeUndefined();
    map.set('e', 5);
    expect(keysOf(map)).toEqual(['e']);
    map.clear();
    expect(map.size).toBe(0);
    expect(keysOf(map)).toEqual([]);
  });

  it('stays in step with a plain model through random operations', () => {
    const map = new RecencyMap<string, number>();
    let model: [string, number][] = [];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const key = `k${random(40)}`;
      const op = random(4);
      const at = model.findIndex(([k]) => k === key);
      if (op === 0 || op === 1) {
        map.set(key, step);
        if (at >= 0) model.splice(at, 1);
        model.push([key, step]);
      } else if (op === 2) {
        map.touch(key);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else {
        map.delete(key);
        if (at >= 0) model.splice(at, 1);
      }
      if (model.length > 25) {
        const oldest = map.oldest()!;
        expect(oldest).toBe(model[0]![0]);
        map.delete(oldest);
        model = model.slice(1);
      }
    }
    expect([...map.entries()]).toEqual(model);
    expect(map.size).toBe(model.length);
  });
});
