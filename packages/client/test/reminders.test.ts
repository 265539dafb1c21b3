// Expiry and rotation through the SDK against the real server process: typed metadata on
// create and update, the due list page by page, and a run of the reminder job.
import { isCofferApiError } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, createMember, startCoffer, type TestCoffer } from './support/coffer-server.js';

let coffer: TestCoffer;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  coffer = await startCoffer();
});
afterAll(() => cleanupServers());

describe('reminders', () => {
  it('sets expiry and rotation, and lists what is due earliest first, in pages', async () => {
    const token = await coffer.admin.secrets.create({
      name: 'ci-token',
      kind: 'api-token',
      values: { token: 't' },
      expiresAt: inDays(20),
    });
    expect(token).toMatchObject({ expiresAt: `${inDays(20)}T00:00:00.000Z`, rotateEveryDays: 90 });
    await coffer.admin.secrets.create({
      name: 'cert',
      kind: 'generic',
      values: { pem: 'p' },
      expiresAt: inDays(2),
    });
    const cleared = await coffer.admin.secrets.updateMetadata('ci-token', { rotateEveryDays: null });
    expect(cleared.rotationDueAt).toBeNull();

    const first = await coffer.admin.reminders.due({ within: '30d', limit: 1 });
    expect(first.items.map((s) => [s.name, s.reasons])).toEqual([['cert', ['expiring']]]);
    expect(first.nextCursor).not.toBeNull();
    const all = [];
    for await (const s of coffer.admin.reminders.iterateDue({ within: 30, limit: 1 })) all.push(s.name);
    expect(all).toEqual(['cert', 'ci-token']);
    expect((await coffer.admin.reminders.due({ within: 7 })).items.map((s) => s.name)).toEqual(['cert']);

    const member = await createMember(coffer, 'due-member');
    expect((await member.client.reminders.due()).items).toEqual([]);
    const bad = await coffer.admin.reminders.due({ within: 'soon' }).catch((err: unknown) => err);
    expect(isCofferApiError(bad, 'validation')).toBe(true);
  });

  it('runs the reminder job for an admin, who alone may', async () => {
    // The admin owns both and has no email address: nothing to send, so no SMTP secret needed.
    const result = await coffer.admin.reminders.run();
    expect(result).toEqual({ due: 2, sent: 0, claimedElsewhere: 0, noRecipient: 2, failed: 0 });
    const member = await createMember(coffer, 'run-member');
    const denied = await member.client.reminders.run().catch((err: unknown) => err);
    expect(isCofferApiError(denied, 'forbidden')).toBe(true);
  });
});
