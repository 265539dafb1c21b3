// biome-ignore-all lint/performance/useDomNodeTextContent: innerText here is Playwright's locator.innerText() (rendered text, what a person reads), not the DOM property
// Share links in a real browser: Debian's Chromium against the real server process serving the
// built UI. A user makes a one-time link on a secret's page and copies it; a fresh browser
// context with no login opens it, sees the value once, and a reload says it was used. Then a
// link behind a passphrase, and one revoked from the secret's page.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type CofferClient, createClient } from '@coffer/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Recorder, recordedContext, screenshotDir } from './support/browser.js';
import { cleanupServers, type ServerProcess, skipBrowserTests, startCoffer, step } from './support/story.js';

const alicePassword = `alice-${randomBytes(8).toString('hex')}`;
/** The shared value: planted, so the test can look for it where it must never be. */
const token = `Tk-${randomBytes(12).toString('hex')}`;

describe.skipIf(skipBrowserTests())('share links in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let admin: CofferClient;
  let aliceContext: BrowserContext;
  let page: Page;
  let secretId: string;
  let link: string;
  const recorder: Recorder = { requests: [], cspViolations: [], pageErrors: [] };
  /** Every request the recipient's pages sent: URL and body. */
  const sent: { url: string; body: string }[] = [];
  const shots = screenshotDir();
  const shot = (p: Page, name: string) =>
    p.screenshot({ path: join(shots, `${name}.png`), animations: 'disabled', caret: 'hide' });

  /** A browser context of someone without an account, recording what its pages send. */
  async function recipient(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await recordedContext(browser, recorder, { origin: server.url });
    context.on('request', (request) => sent.push({ url: request.url(), body: request.postData() ?? '' }));
    return { context, page: await context.newPage() };
  }

  beforeAll(async () => {
    ({ server, admin } = await startCoffer({ tokenName: 'e2e share links' }));
    const alice = await admin.users.create({
      username: 'alice',
      displayName: 'Alice',
      password: alicePassword,
    });
    const secret = await admin.secrets.create({
      name: 'deploy-token',
      kind: 'api-token',
      values: { baseUrl: 'https://deploy.example.com', token },
    });
    secretId = secret.id;
    await admin.shares.grant(secretId, { granteeType: 'user', granteeId: alice.id, level: 'read' });

    browser = await launchBrowser();
    aliceContext = await recordedContext(browser, recorder, { origin: server.url });
    page = await aliceContext.newPage();
    await page.goto(`${server.url}/secrets/${secretId}`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(alicePassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'deploy-token' }).waitFor();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cleanupServers();
  });

  it(
    'makes a one-time link to one field on the secret page, shown once with a copy button',
    step,
    async () => {
      await page.getByRole('region', { name: 'Share links' }).getByText('No share links.').waitFor();
      await page.getByRole('button', { name: 'Share link' }).click();
      const dialog = page.getByRole('dialog', { name: 'Share link to “deploy-token”' });
      // Every field is offered, checked; only the token is shared.
      for (const other of ['Base URL', 'Header name', 'Scheme']) {
        await dialog.getByRole('checkbox', { name: other }).uncheck();
      }
      expect(await dialog.getByRole('checkbox', { name: 'Token' }).isChecked()).toBe(true);
      await dialog.getByLabel('Expires after').selectOption({ label: '1 hour' });
      expect(await dialog.getByRole('spinbutton', { name: 'Views' }).inputValue()).toBe('1');
      await shot(page, 'share-link-dialog');
      await dialog.getByRole('button', { name: 'Make link' }).click();
      const url = dialog.getByRole('textbox', { name: 'Share link' });
      link = await url.inputValue();
      expect(link).toMatch(new RegExp(`^${server.url}/s/[0-9a-f-]{36}#[A-Za-z0-9_-]{43}$`));
      expect(await dialog.innerText()).toContain('Coffer keeps no copy of it');
      await dialog.getByRole('button', { name: 'Copy link' }).click();
      await dialog.getByRole('button', { name: 'Copied' }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
      await dialog.getByRole('button', { name: 'Done' }).click();
      const row = page.getByRole('list', { name: 'Share links' }).getByRole('listitem');
      await row.getByText('active').waitFor();
      expect(await row.innerText()).toMatch(/^token · 0\/1 view · by alice/);
      // The page never shows or keeps the value after the dialog closed.
      expect(await page.content()).not.toContain(token);
    },
  );

  it('opens in a fresh context without a login, once; a reload says it was used', step, async () => {
    const { context, page: p } = await recipient();
    await p.goto(link);
    await p.getByRole('heading', { name: 'alice shared a secret with you' }).waitFor();
    expect(await p.getByRole('main').innerText()).toContain('token of “deploy-token”');
    // Nothing is shown (or counted) until the recipient asks.
    expect(await p.content()).not.toContain(token);
    await p.getByRole('button', { name: 'Show the secret' }).click();
    await p.getByRole('heading', { name: '“deploy-token” from alice' }).waitFor();
    expect(await p.getByRole('textbox', { name: 'token' }).inputValue()).toBe(token);
    expect(await p.getByRole('status').filter({ hasText: 'last view' }).innerText()).toContain(
      'the link shows nothing any more',
    );
    await p.getByRole('button', { name: 'Copy token' }).click();
    await p.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await shot(p, 'share-link-opened');

    await p.reload();
    await p.getByRole('heading', { name: 'This link was already used' }).waitFor();
    expect(await p.getByRole('alert').innerText()).toMatch(/could be opened once and was/);
    expect(await p.content()).not.toContain(token);
    await context.close();

    await page.reload();
    await page.getByRole('list', { name: 'Share links' }).getByText('used').waitFor();
  });

  it(
    'asks for the passphrase, says how many tries are left, and opens with the right one',
    step,
    async () => {
      const made = await admin.shareLinks.create(secretId, {
        fields: ['token'],
        passphrase: 'purple otters dance',
      });
      const { context, page: p } = await recipient();
      await p.goto(made.url);
      await p.getByRole('heading', { name: 'admin shared a secret with you' }).waitFor();
      await p.getByLabel('Passphrase').fill('green otters');
      await p.getByRole('button', { name: 'Show the secret' }).click();
      expect(await p.getByRole('alert').innerText()).toMatch(/the passphrase is wrong\. 9 more tries/);
      await p.getByLabel('Passphrase').fill('purple otters dance');
      await p.getByRole('button', { name: 'Show the secret' }).click();
      expect(await p.getByRole('textbox', { name: 'token' }).inputValue()).toBe(token);
      await context.close();
    },
  );

  it('revokes a link from the secret page; the recipient is told it was revoked', step, async () => {
    // alice holds read: she may revoke the links she made, not the ones of others
    const other = await admin.shareLinks.create(secretId, { fields: ['baseUrl'] });
    const asAlice = createClient({ baseUrl: server.url });
    await asAlice.auth.login({ username: 'alice', password: alicePassword });
    const made = await asAlice.shareLinks.create(secretId, { fields: ['baseUrl'], maxViews: 3 });
    await page.reload();
    const list = page.getByRole('list', { name: 'Share links' });
    await list.locator(`[data-link-id="${made.link.id}"]`).waitFor();
    expect(await list.locator(`[data-link-id="${other.link.id}"]`).getByRole('button').count()).toBe(0);
    await list.getByRole('button', { name: 'Revoke the share link to baseUrl made by alice' }).click();
    await page.getByText('Share link revoked').waitFor();
    await list.getByText('revoked').waitFor();
    const { context, page: p } = await recipient();
    await p.goto(made.url);
    await p.getByRole('heading', { name: 'This link was revoked' }).waitFor();
    await context.close();
  });

  it('never sent a link key in a URL, nor the value anywhere, and audited every view', step, async () => {
    const keys = [link, ...sent.map((s) => s.body)]
      .map((text) => /#([A-Za-z0-9_-]{43})$/.exec(text)?.[1] ?? /"key":"([^"]+)"/.exec(text)?.[1])
      .filter((k): k is string => k !== undefined);
    expect(keys.length).toBeGreaterThan(3);
    for (const request of sent) {
      for (const key of keys) expect(request.url, 'a key in a URL').not.toContain(key);
      expect(request.body, 'the value in a request').not.toContain(token);
      if (request.body.includes('"key"'))
        expect(request.url).toMatch(/\/api\/v1\/share-links\/[^/]+\/(preview|open)$/);
    }
    const elsewhere = recorder.requests.filter((url) => new URL(url).host !== new URL(server.url).host);
    expect(elsewhere).toEqual([]);
    expect(recorder.cspViolations).toEqual([]);
    expect(recorder.pageErrors).toEqual([]);

    const views = await admin.audit.query({ action: 'share_link.view', limit: 100 });
    const outcomes = views.items.map((r) => `${r.outcome}:${r.source}`);
    expect(outcomes).toEqual(expect.arrayContaining(['success:web', 'failure:web', 'denied:web']));
    const created = await admin.audit.query({ action: 'share_link.create' });
    expect(created.items.find((r) => r.actor.name === 'alice')).toMatchObject({ source: 'web' });
  });
});
