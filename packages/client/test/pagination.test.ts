// Async iteration across pages of the real server.
import { createClient, paginate } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, startCoffer, type TestCoffer } from './support/coffer-server.js';
import { recordingFetch } from './support/fake-fetch.js';

let coffer: TestCoffer;
const names = Array.from({ length: 11 }, (_, i) => `page-${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  coffer = await startCoffer();
  for (const name of names) await coffer.admin.secrets.create({ name, kind: 'generic', values: { n: name } });
  await coffer.admin.secrets.create({ name: 'other', kind: 'generic', values: { n: 1 } });
});
afterAll(() => cleanupServers());

describe('pagination', () => {
  it('iterate walks every page, once each, with the filter on every page', async () => {
    const recording = recordingFetch();
    const client = createClient({ baseUrl: coffer.url, token: coffer.token, fetch: recording });
    const seen: string[] = [];
    for await (const secret of client.secrets.iterate({ namePrefix: 'page-', limit: 3 }))
      seen.push(secret.name);
    expect(seen).toEqual(names);
    expect(recording.requests).toHaveLength(4);
    for (const request of recording.requests) {
      expect(new URL(request.url).searchParams.get('namePrefix')).toBe('page-');
      expect(new URL(request.url).searchParams.get('limit')).toBe('3');
    }
    expect(new URL(recording.requests[0]!.url).searchParams.has('cursor')).toBe(false);
    expect(new URL(recording.requests[1]!.url).searchParams.get('cursor')).toBeTruthy();
  });

  it('stops fetching when the loop breaks', async () => {
    const recording = recordingFetch();
    const client = createClient({ baseUrl: coffer.url, token: coffer.token, fetch: recording });
    let count = 0;
    for await (const _ of client.secrets.iterate({ limit: 2 })) if (++count === 3) break;
    expect(recording.requests).toHaveLength(2);
  });

  it('list hands out pages and cursors; paginate works with any list', async () => {
    const first = await coffer.admin.secrets.list({ namePrefix: 'page-', limit: 10 });
    expect(first.items).toHaveLength(10);
    const second = await coffer.admin.secrets.list({
      namePrefix: 'page-',
      limit: 10,
      cursor: first.nextCursor!,
    });
    expect(second.items.map((s) => s.name)).toEqual(['page-10']);
    expect(second.nextCursor).toBeNull();
    const records: number[] = [];
    for await (const r of paginate((page) => coffer.admin.audit.query({ action: 'secret.create', ...page }), {
      limit: 5,
    })) {
      records.push(r.seq);
    }
    expect(records).toHaveLength(12);
  });
});
