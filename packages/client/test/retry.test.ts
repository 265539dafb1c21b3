// Retries, against a scripted fetch: which requests are repeated, after what, and how long the
// client says it waits. Nothing here reads a clock; waits run on fake timers.
import { createClient, isCofferApiError, type RetryEvent, type RetryOptions } from '@coffer/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectionRefused, json, problem, scriptedFetch } from './support/fake-fetch.js';

const baseUrl = 'http://coffer.test';
const secret = { id: 's1', name: 'mail', currentVersion: 3 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function clientWith(fetch: typeof globalThis.fetch, retry: RetryOptions = {}) {
  const events: RetryEvent[] = [];
  const client = createClient({
    baseUrl,
    token: 'cfr_test',
    fetch,
    retry: { onRetry: (e) => events.push(e), ...retry },
  });
  return { client, events };
}

describe('retries', () => {
  it('repeats a GET after 503 and network errors, with growing jittered backoff', async () => {
    const fetch = scriptedFetch(problem(503, 'backend_unavailable'), connectionRefused(), json(200, secret));
    const { client, events } = clientWith(fetch, { attempts: 3, baseDelayMs: 100 });
    const result = client.secrets.get('mail');
    await vi.runAllTimersAsync();
    expect(await result).toEqual(secret);
    expect(fetch.requests).toHaveLength(3);
    expect(events.map((e) => [e.attempt, e.status, e.method, e.path])).toEqual([
      [1, 503, 'GET', '/secrets/mail'],
      [2, undefined, 'GET', '/secrets/mail'],
    ]);
    // Equal jitter: retry n waits between half and all of base * 2^(n-1).
    expect(events[0]!.delayMs).toBeGreaterThanOrEqual(50);
    expect(events[0]!.delayMs).toBeLessThanOrEqual(100);
    expect(events[1]!.delayMs).toBeGreaterThanOrEqual(100);
    expect(events[1]!.delayMs).toBeLessThanOrEqual(200);
  });

  it('waits as long as Retry-After says on 429, and not before', async () => {
    const fetch = scriptedFetch(problem(429, 'rate_limited', { 'retry-after': '7' }), json(200, secret));
    const { client, events } = clientWith(fetch);
    const result = client.secrets.get('mail');
    await vi.advanceTimersByTimeAsync(6_999);
    expect(fetch.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual(secret);
    expect(fetch.requests).toHaveLength(2);
    expect(events[0]).toMatchObject({ attempt: 1, delayMs: 7_000, status: 429 });
  });

  it('reads an HTTP-date Retry-After too', async () => {
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const later = new Date('2030-01-01T00:00:03Z').toUTCString();
    const fetch = scriptedFetch(
      problem(503, 'backend_unavailable', { 'retry-after': later }),
      json(200, secret),
    );
    const { client, events } = clientWith(fetch);
    const result = client.secrets.get('mail');
    await vi.runAllTimersAsync();
    await result;
    expect(events[0]!.delayMs).toBe(3_000);
  });

  it('does not wait longer than maxDelayMs: the 429 is thrown with the wait in details', async () => {
    const fetch = scriptedFetch(problem(429, 'rate_limited', { 'retry-after': '900' }), json(200, secret));
    const { client, events } = clientWith(fetch, { maxDelayMs: 10_000 });
    const err = await client.secrets.get('mail').catch((e: unknown) => e);
    expect(isCofferApiError(err, 'rate_limited')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ retryAfterSeconds: 900 });
    expect(fetch.requests).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('gives up after the attempts allowed and throws the last answer', async () => {
    const fetch = scriptedFetch(problem(503, 'backend_unavailable'));
    const { client } = clientWith(fetch, { attempts: 4, baseDelayMs: 10 });
    const result = client.secrets.get('mail').catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = await result;
    expect(isCofferApiError(err, 'backend_unavailable')).toBe(true);
    expect((err as { status: number }).status).toBe(503);
    expect(fetch.requests).toHaveLength(4);
  });

  it('says "network" with the reason when nothing answers, and how often it tried', async () => {
    const fetch = scriptedFetch(connectionRefused());
    const { client } = clientWith(fetch, { attempts: 2 });
    const result = client.kinds.list().catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = await result;
    expect(isCofferApiError(err, 'network')).toBe(true);
    expect((err as Error).message).toMatch(/GET \/kinds: no answer .*\(2 attempts\).*ECONNREFUSED/);
    expect((err as Error).message).not.toContain('cfr_test');
  });

  it('never repeats a POST or an unconditional PATCH', async () => {
    for (const call of [
      (c: ReturnType<typeof createClient>) => c.secrets.create({ name: 'x', kind: 'generic', values: {} }),
      (c: ReturnType<typeof createClient>) => c.secrets.updateValues('mail', { values: { a: 1 } }),
    ]) {
      const fetch = scriptedFetch(problem(503, 'backend_unavailable'), json(200, secret));
      const { client } = clientWith(fetch);
      const err = await call(client).catch((e: unknown) => e);
      expect(isCofferApiError(err, 'backend_unavailable')).toBe(true);
      expect(fetch.requests).toHaveLength(1);
    }
  });

  it('repeats a conditional write after 503, but not after a network error (it may have been applied)', async () => {
    const ok = scriptedFetch(problem(503, 'backend_unavailable'), json(200, secret));
    const first = clientWith(ok).client.secrets.updateValues('mail', { values: { a: 1 } }, { ifVersion: 3 });
    await vi.runAllTimersAsync();
    await first;
    expect(ok.requests.map((r) => r.headers['if-match'])).toEqual(['"v3"', '"v3"']);

    const lost = scriptedFetch(connectionRefused(), json(200, secret));
    const err = await clientWith(lost)
      .client.secrets.updateValues('mail', { values: { a: 1 } }, { ifVersion: 3 })
      .catch((e: unknown) => e);
    expect(isCofferApiError(err, 'network')).toBe(true);
    expect(lost.requests).toHaveLength(1);
  });

  it('repeats PUT and DELETE, which are idempotent', async () => {
    const fetch = scriptedFetch(connectionRefused(), new Response(null, { status: 204 }));
    const { client } = clientWith(fetch);
    const put = client.groups.addMember('g1', 'u1');
    await vi.runAllTimersAsync();
    await put;
    expect(fetch.requests.map((r) => r.method)).toEqual(['PUT', 'PUT']);
  });

  it('stops waiting when the signal aborts, with the signal’s reason', async () => {
    const fetch = scriptedFetch(
      problem(503, 'backend_unavailable', { 'retry-after': '5' }),
      json(200, secret),
    );
    const { client } = clientWith(fetch);
    const controller = new AbortController();
    const result = client.secrets.get('mail', { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort(new Error('user went away'));
    expect(((await result) as Error).message).toBe('user went away');
    expect(fetch.requests).toHaveLength(1);
  });

  it('attempts: 1 turns retries off', async () => {
    const fetch = scriptedFetch(problem(503, 'backend_unavailable'), json(200, secret));
    const { client } = clientWith(fetch, { attempts: 1 });
    await expect(client.secrets.get('mail')).rejects.toMatchObject({ code: 'backend_unavailable' });
    expect(fetch.requests).toHaveLength(1);
  });

  it('an answer that is not Coffer’s is unexpected_response, with its status', async () => {
    const fetch = scriptedFetch(
      new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const { client } = clientWith(fetch);
    const err = await client.secrets.get('mail').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'unexpected_response',
      status: 502,
      method: 'GET',
      path: '/secrets/mail',
    });
  });

  it('a per-attempt timeout is retried like a network error', async () => {
    vi.useRealTimers();
    let calls = 0;
    const hanging = ((_: RequestInfo | URL, init: RequestInit = {}) => {
      calls++;
      if (calls === 2) return Promise.resolve(json(200, secret));
      return new Promise<Response>((_, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      );
    }) as typeof fetch;
    const client = createClient({ baseUrl, fetch: hanging, timeoutMs: 20, retry: { baseDelayMs: 0 } });
    expect(await client.secrets.get('mail')).toEqual(secret);
    expect(calls).toBe(2);
  });
});
