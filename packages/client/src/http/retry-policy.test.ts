import { describe, expect, it } from 'vitest';
import { backoffDelay, mayRetry, retryAfterMs, retryPolicyOf } from './retry-policy.js';

describe('retry policy', () => {
  it('repeats idempotent methods, conditional writes only after a status, other writes never', () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      expect(mayRetry(method, false, 'network')).toBe(true);
      expect(mayRetry(method, false, 'status')).toBe(true);
    }
    for (const method of ['POST', 'PATCH']) {
      expect(mayRetry(method, false, 'status')).toBe(false);
      expect(mayRetry(method, false, 'network')).toBe(false);
      expect(mayRetry(method, true, 'status')).toBe(true);
      expect(mayRetry(method, true, 'network')).toBe(false);
    }
  });

  it('backs off exponentially with equal jitter, capped', () => {
    const policy = retryPolicyOf({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('normalizes options', () => {
    expect(retryPolicyOf(undefined)).toMatchObject({ attempts: 3, baseDelayMs: 200, maxDelayMs: 30_000 });
    expect(retryPolicyOf({ attempts: 0, baseDelayMs: -5 })).toMatchObject({ attempts: 1, baseDelayMs: 0 });
  });
});
