import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket that spaces out writes to a store with a quota (AWS Secrets Manager allows
 * 50 writes a second per region, SSM's standard throughput far less). Callers `await take()`
 * before each write; with a full bucket a burst of `burst` goes through at once, then writes
 * come at `perSecond`. Waiters are served in the order they came.
 *
 * @example
 * const writes = createRateLimiter({ perSecond: 20 });
 * await writes.take();
 * await client.send(new PutSecretValueCommand(input));
 */
export interface RateLimiter {
  take(): Promise<void>;
  /** Writes per second this limiter lets through. */
  readonly perSecond: number;
}

export interface RateLimiterOptions {
  /** Sustained rate; `0` or `Infinity` means unlimited. */
  perSecond: number;
  /** How many may go at once from a full bucket (default: `max(1, perSecond)`, at most 100). */
  burst?: number;
  /** Milliseconds since some epoch; tests pass their own. */
  now?: () => number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const perSecond = options.perSecond;
  if (!(perSecond > 0) || perSecond === Number.POSITIVE_INFINITY) {
    return { perSecond: Number.POSITIVE_INFINITY, take: () => Promise.resolve() };
  }
  const burst = Math.max(1, options.burst ?? Math.min(100, Math.max(1, Math.floor(perSecond))));
  const now = options.now ?? (() => performance.now());
  let tokens = burst;
  let last = now();
  let queue: Promise<void> = Promise.resolve();
  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
    last = t;
  };
  const takeOne = async () => {
    for (;;) {
      refill();
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - tokens) / perSecond) * 1000));
    }
  };
  return {
    perSecond,
    take() {
      // chain so waiters are served first come, first served
      const mine = queue.then(takeOne);
      queue = mine.catch(() => {});
      return mine;
    },
  };
}
