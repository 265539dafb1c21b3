// watch against the real server (version compare), and the ETag path with a scripted fetch.
import { createClient, type SecretChange } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, startCoffer, type TestCoffer } from './support/coffer-server.js';
import { json, problem, scriptedFetch } from './support/fake-fetch.js';

let coffer: TestCoffer;

beforeAll(async () => {
  coffer = await startCoffer();
  await coffer.admin.secrets.create({ name: 'watched', kind: 'generic', values: { v: 1 } });
  await coffer.admin.secrets.create({ name: 'quiet', kind: 'generic', values: { v: 1 } });
});
afterAll(() => cleanupServers());

/** Takes changes from an iterator one at a time, so the test can act in between. */
function taker(iterable: AsyncIterable<SecretChange>) {
  const iterator = iterable[Symbol.asyncIterator]();
  return () => iterator.next();
}

describe('watch', () => {
  it('yields when a watched secret changes, and ends on abort', async () => {
    const controller = new AbortController();
    const next = taker(
      coffer.admin.watch(['watched', 'quiet'], { intervalMs: 20, signal: controller.signal, initial: true }),
    );
    // With initial, the current states come first: after them, the watch knows the versions.
    expect((await next()).value).toMatchObject({ ref: 'watched', version: 1 });
    expect((await next()).value).toMatchObject({ ref: 'quiet', version: 1 });
    const first = next();
    await coffer.admin.secrets.updateValues('watched', { values: { v: 2 } });
    const change = await first;
    expect(change.done).toBe(false);
    expect(change.value).toMatchObject({
      ref: 'watched',
      version: 2,
      secret: { name: 'watched', currentVersion: 2 },
    });

    const second = next();
    await coffer.admin.secrets.delete('watched');
    const deleted = await second;
    expect(deleted.value).toMatchObject({ ref: 'watched', version: 2 });
    expect((deleted.value as SecretChange).secret.deletedAt).not.toBeNull();

    const third = next();
    controller.abort();
    expect(await third).toEqual({ done: true, value: undefined });
  });

  it('stops when the loop breaks', async () => {
    const seen: SecretChange[] = [];
    for await (const change of coffer.admin.watch(['quiet'], { initial: true, intervalMs: 10 })) {
      seen.push(change);
      break;
    }
    expect(seen).toMatchObject([{ ref: 'quiet', version: 1 }]);
  });

  it('fails at once for a secret that does not exist', async () => {
    const next = taker(coffer.admin.watch(['missing'], { intervalMs: 10 }));
    await expect(next()).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends If-None-Match and takes 304 as unchanged; passing trouble skips a poll', async () => {
    const meta = (version: number) => ({
      id: 's1',
      name: 'watched',
      currentVersion: version,
      deletedAt: null,
    });
    const fetch = scriptedFetch(
      json(200, meta(4), { etag: '"v4"' }),
      new Response(null, { status: 304 }),
      problem(503, 'backend_unavailable'),
      json(200, meta(5), { etag: '"v5"' }),
    );
    const client = createClient({ baseUrl: 'http://coffer.test', fetch, retry: { attempts: 1 } });
    const controller = new AbortController();
    const next = taker(client.watch(['watched'], { mode: 'poll', intervalMs: 0, signal: controller.signal }));
    expect((await next()).value).toMatchObject({ ref: 'watched', version: 5 });
    expect(fetch.requests.map((r) => r.headers['if-none-match'])).toEqual([
      undefined,
      '"v4"',
      '"v4"',
      '"v4"',
    ]);
    controller.abort();
    expect((await next()).done).toBe(true);
  });

  it('polls a server that has no event stream', async () => {
    const meta = (version: number) => ({
      id: 's1',
      name: 'watched',
      currentVersion: version,
      deletedAt: null,
    });
    const fetch = scriptedFetch(
      json(200, meta(1)),
      problem(404, 'not_found'),
      json(200, meta(1)),
      json(200, meta(2)),
    );
    const client = createClient({ baseUrl: 'http://coffer.test', fetch, retry: { attempts: 1 } });
    const controller = new AbortController();
    const next = taker(client.watch(['watched'], { intervalMs: 0, signal: controller.signal }));
    expect((await next()).value).toMatchObject({ ref: 'watched', version: 2 });
    expect(fetch.requests.map((r) => new URL(r.url).pathname)).toEqual([
      '/api/v1/secrets/watched',
      '/api/v1/events',
      '/api/v1/secrets/watched',
      '/api/v1/secrets/watched',
    ]);
    controller.abort();
  });

  it('watching nothing ends at once', async () => {
    const next = taker(coffer.admin.watch([]));
    expect((await next()).done).toBe(true);
  });
});
