import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './write-rate-limiter.js';

describe('createRateLimiter', () => {
  it('lets a burst through at once, then spaces the rest at the rate', async () => {
    const limiter = createRateLimiter({ perSecond: 50, burst: 5 });
    const started = performance.now();
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        await limiter.take();
        at.push(performance.now() - started);
      }),
    );
    at.sort((a, b) => a - b);
    // five from the full bucket, then one every 20 ms: the tenth no sooner than ~100 ms
    expect(at[4]!).toBeLessThan(at[9]!);
    expect(at[9]!).toBeGreaterThanOrEqual(90);
  });

  it('serves waiters in the order they came', async () => {
    const limiter = createRateLimiter({ perSecond: 200, burst: 1 });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not limit with a rate of 0', async () => {
    const limiter = createRateLimiter({ perSecond: 0 });
    expect(limiter.perSecond).toBe(Number.POSITIVE_INFINITY);
    await Promise.all(Array.from({ length: 1000 }, () => limiter.take()));
  });
});
