// Share links through the SDK against the real server process: a member makes one, a client
// without any credentials previews and opens it from its URL, and the SDK reports each way a
// link stops working by its code.
import { createClient, isCofferApiError, parseShareLink } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, startCoffer, type TestCoffer } from './support/coffer-server.js';

let coffer: TestCoffer;

beforeAll(async () => {
  coffer = await startCoffer();
  await coffer.admin.secrets.create({
    name: 'jira',
    kind: 'jira',
    values: { baseUrl: 'https://jira.example.com', email: 'bot@example.com', apiToken: 'jira-token-1' },
  });
});
afterAll(() => cleanupServers());

describe('share links', () => {
  it('makes a link, and a recipient without an account opens it once from its URL', async () => {
    const made = await coffer.admin.shareLinks.create('jira', { fields: ['apiToken'], maxViews: 1 });
    expect(made.url).toBe(`${coffer.url}${made.path}`);
    expect(parseShareLink(made.url)).toEqual({ id: made.link.id, key: made.key });

    const recipient = createClient({ baseUrl: new URL(made.url).origin });
    const preview = await recipient.shareLinks.preview(made.url);
    expect(preview).toMatchObject({ secretName: 'jira', fields: ['apiToken'], viewsLeft: 1 });
    const opened = await recipient.shareLinks.open(made.url);
    expect(opened.values).toEqual({ apiToken: 'jira-token-1' });

    const again = await recipient.shareLinks.open(made.path).catch((err: unknown) => err);
    expect(isCofferApiError(again, 'share_link_used')).toBe(true);
    expect((again as { status: number }).status).toBe(410);
  });

  it('passes the passphrase, lists metadata, and revokes', async () => {
    const made = await coffer.admin.shareLinks.create('jira', {
      passphrase: 'a long passphrase',
      maxViews: 2,
    });
    const recipient = createClient({ baseUrl: coffer.url });
    const missing = await recipient.shareLinks.open(made.url).catch((err: unknown) => err);
    expect(isCofferApiError(missing, 'share_link_wrong_passphrase')).toBe(true);
    expect((missing as { details: { attemptsLeft: number } }).details.attemptsLeft).toBe(10);
    const opened = await recipient.shareLinks.open(
      { id: made.link.id, key: made.key },
      { passphrase: 'a long passphrase' },
    );
    expect(opened.viewsLeft).toBe(1);

    const listed = await coffer.admin.shareLinks.list('jira');
    const link = listed.items.find((l) => l.id === made.link.id)!;
    expect(link).toMatchObject({ views: 1, maxViews: 2, passphrase: true, state: 'active' });
    expect(JSON.stringify(listed)).not.toContain(made.key);

    expect((await coffer.admin.shareLinks.revoke(made.link.id)).state).toBe('revoked');
    const revoked = await recipient.shareLinks
      .open(made.url, { passphrase: 'a long passphrase' })
      .catch((e) => e);
    expect(isCofferApiError(revoked, 'share_link_revoked')).toBe(true);
  });

  it('refuses something that is not a share link without sending it anywhere', () => {
    expect(() => parseShareLink('https://coffer.example.com/s/abc')).toThrow(/after "#"/);
    expect(() => parseShareLink('https://coffer.example.com/secrets/abc#key')).toThrow(TypeError);
    expect(parseShareLink('/s/abc/#k-y_')).toEqual({ id: 'abc', key: 'k-y_' });
  });
});
