import { expect, it } from 'vitest';
import { pooledRandomBytes } from './random-pool.js';

it('gives as many bytes as asked, a fresh buffer each time', () => {
  for (const size of [0, 1, 6, 12, 16, 56, 256, 257, 5000]) {
    expect(pooledRandomBytes(size)).toHaveLength(size);
  }
  const a = pooledRandomBytes(16);
  const b = pooledRandomBytes(16);
  expect(a.equals(b)).toBe(false);
});

it('hands out copies: a key keeps its bytes when the pool refills, and zeroing it touches nothing else', () => {
  const key = pooledRandomBytes(32);
  const kept = Buffer.from(key);
  const next = pooledRandomBytes(32);
  const nextKept = Buffer.from(next);
  // 4 KiB more than the pool holds: it refills at least once under the key's old place
  for (let i = 0; i < 300; i++) pooledRandomBytes(16);
  expect(key.equals(kept)).toBe(true);
  key.fill(0); // the caller zeroes its data key once used
  expect(next.equals(nextKept)).toBe(true);
});

it('hands out every byte once, across many refills of the pool', () => {
  // 20,000 draws of 16 bytes are ~78 refills of 4 KiB; a repeat of 128 random bits would mean
  // bytes given out twice.
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) seen.add(pooledRandomBytes(16).toString('hex'));
  expect(seen.size).toBe(20_000);
});

it('looks uniformly random: each byte value about as often as the others', () => {
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < 4096; i++) for (const byte of pooledRandomBytes(64)) counts[byte]!++;
  // 262,144 bytes: 1,024 expected per value; a pool handing out zeroed (used) bytes would
  // put tens of thousands on 0.
  expect(Math.max(...counts)).toBeLessThan(1_250);
  expect(Math.min(...counts)).toBeGreaterThan(800);
});
