import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultRetryPolicy, RetriesExhausted, withRetries } from './retry-policy.js';

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe('withRetries', () => {
  it('retries what the classifier calls retryable, then succeeds', async () => {
    let calls = 0;
    const out = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('busy'), { code: 'ThrottlingException' });
        return 'done';
      },
      { policy: fast, classify: () => ({ retry: true }) },
    );
    expect(out).toBe('done');
    expect(calls).toBe(3);
  });

  it('rethrows a non-retryable error at once, unwrapped', async () => {
    let calls = 0;
    const denied = new Error('denied');
    await expect(
      withRetries(
        async () => {
          calls++;
          throw denied;
        },
        { policy: fast, classify: () => ({ retry: false }) },
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last error and the count', async () => {
    let calls = 0;
    const err = await withRetries(
      async () => {
        calls++;
        throw new Error(`attempt ${calls}`);
      },
      { policy: { ...fast, maxAttempts: 4 }, classify: () => ({ retry: true }) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhausted);
    expect((err as RetriesExhausted).attempts).toBe(4);
    expect(((err as RetriesExhausted).last as Error).message).toBe('attempt 4');
    expect(calls).toBe(4);
  });

  it('waits at least what the store asked for (Retry-After), capped by maxDelayMs', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetries(
      async () => {
        if (++calls === 1) throw new Error('429');
        return 1;
      },
      {
        policy: { baseDelayMs: 1, maxDelayMs: 30 },
        classify: () => ({ retry: true, afterMs: 25 }),
        onRetry: (_e, _a, delay) => waits.push(delay),
      },
    );
    expect(waits).toEqual([25]);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with full jitter and stays under the cap', () => {
    const top = () => 0.999_999;
    expect(backoffDelay(1, defaultRetryPolicy, top)).toBe(99);
    expect(backoffDelay(3, defaultRetryPolicy, top)).toBe(399);
    expect(backoffDelay(30, defaultRetryPolicy, top)).toBe(4999);
    expect(backoffDelay(3, defaultRetryPolicy, () => 0)).toBe(0);
  });
});
