// Check-and-set with modify against the real server: a concurrent writer forces a 412, the
// helper reads again and reapplies, and no update is lost.
import { createClient, isCofferApiError, MASK } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, startCoffer, type TestCoffer } from './support/coffer-server.js';
import { recordingFetch } from './support/fake-fetch.js';

let coffer: TestCoffer;

beforeAll(async () => {
  coffer = await startCoffer();
});
afterAll(() => cleanupServers());

describe('modify', () => {
  it('retries on 412 when another writer got in between, and keeps both changes', async () => {
    await coffer.admin.secrets.create({ name: 'counter', kind: 'generic', values: { count: 0, owner: 'a' } });
    const recording = recordingFetch();
    const client = createClient({ baseUrl: coffer.url, token: coffer.token, fetch: recording });
    const rounds: number[] = [];
    const result = await client.secrets.modify('counter', async (values, { attempt, version }) => {
      rounds.push(version);
      if (attempt === 1) {
        // Someone else writes after we read: our conditional write must fail and retry.
        await coffer.admin.secrets.updateValues('counter', { values: { owner: 'b' } });
      }
      return { ...values, count: Number(values.count) + 1 };
    });
    expect(rounds).toEqual([1, 2]);
    expect(result.currentVersion).toBe(3);
    expect((await coffer.admin.secrets.values('counter', { reveal: true })).values).toEqual({
      count: 1,
      owner: 'b',
    });
    const patches = recording.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.headers['if-match'])).toEqual(['"v1"', '"v2"']);
    // Only the changed field is sent.
    expect(JSON.parse(patches[1]!.body!)).toEqual({ values: { count: 1 } });
  });

  it('loses no update under many concurrent writers', async () => {
    await coffer.admin.secrets.create({ name: 'race', kind: 'generic', values: { count: 0 } });
    const writers = Array.from({ length: 8 }, () =>
      createClient({ baseUrl: coffer.url, token: coffer.token }),
    );
    await Promise.all(
      writers.map((w) =>
        w.secrets.modify('race', (v) => ({ ...v, count: Number(v.count) + 1 }), { attempts: 100 }),
      ),
    );
    expect((await coffer.admin.secrets.values('race', { reveal: true })).values.count).toBe(8);
  });

  it('gives up after its attempts with version_conflict', async () => {
    await coffer.admin.secrets.create({ name: 'contended', kind: 'generic', values: { n: 0 } });
    const err = await coffer.admin.secrets
      .modify(
        'contended',
        async (v) => {
          await coffer.admin.secrets.updateValues('contended', { values: { other: Math.random() } });
          return { ...v, n: 1 };
        },
        { attempts: 2 },
      )
      .catch((e: unknown) => e);
    expect(isCofferApiError(err, 'version_conflict')).toBe(true);
  });

  it('removes dropped fields, writes nothing when nothing changed, and can work masked', async () => {
    const created = await coffer.admin.secrets.create({
      name: 'smtp',
      kind: 'generic',
      values: { host: 'a.example', password: 'p', extra: 'x' },
    });
    const dropped = await coffer.admin.secrets.modify('smtp', ({ extra: _extra, ...rest }) => rest);
    expect(dropped.currentVersion).toBe(created.currentVersion + 1);
    const same = await coffer.admin.secrets.modify('smtp', (v) => v);
    expect(same.currentVersion).toBe(dropped.currentVersion);

    const before = (await coffer.admin.audit.query({ action: 'secret.reveal' })).items.length;
    await coffer.admin.secrets.modify(
      'smtp',
      (v) => {
        expect(v.password).toBe(MASK);
        return { ...v, host: 'b.example' };
      },
      { reveal: false },
    );
    const after = (await coffer.admin.audit.query({ action: 'secret.reveal' })).items.length;
    expect(after).toBe(before);
    const values = (await coffer.admin.secrets.values('smtp', { reveal: true })).values;
    expect(values).toMatchObject({ host: 'b.example', password: 'p' });
    expect(values.extra).toBeUndefined();
  });
});
