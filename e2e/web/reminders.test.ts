// biome-ignore-all lint/performance/useDomNodeTextContent: innerText here is Playwright's locator.innerText() (rendered text, what a person reads), not the DOM property
// Expiry and rotation in a real browser: Debian's Chromium against the real server process
// serving the built UI. A user sets an expiry and a rotation interval on a new secret, the
// secret list and the secret's page say what is due, the "Due soon" page lists it with why, and
// an admin sends the reminders from there.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CofferClient } from '@coffer/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmtpSink, startSmtpSink } from '../../packages/server/test/support/smtp-sink.js';
import { launchBrowser, type Recorder, recordedContext, screenshotDir } from './support/browser.js';
import { cleanupServers, type ServerProcess, skipBrowserTests, startCoffer, step } from './support/story.js';

const token = `Tk-${randomBytes(12).toString('hex')}`;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe.skipIf(skipBrowserTests())('expiry and rotation in Chromium', () => {
  let server: ServerProcess;
  let adminPassword: string;
  let sink: SmtpSink;
  let browser: Browser;
  let admin: CofferClient;
  let page: Page;
  const recorder: Recorder = { requests: [], cspViolations: [], pageErrors: [] };
  const shots = screenshotDir();

  beforeAll(async () => {
    sink = await startSmtpSink();
    ({ server, adminPassword, admin } = await startCoffer({ tokenName: 'e2e reminders' }));
    const me = await admin.auth.me();
    await admin.users.update(me.user.id, { email: 'admin@example.com' });
    await admin.secrets.create({
      name: 'old-cert',
      kind: 'generic',
      values: { pem: 'x' },
      expiresAt: inDays(-3),
    });
    await admin.secrets.create({ name: 'system-smtp', kind: 'smtp', values: sink.secretValues('smtp pw') });
    const system = (await admin.groups.list({ query: 'system' })).items.find((g) => g.name === 'system')!;
    await admin.shares.grant('system-smtp', { granteeType: 'group', granteeId: system.id });

    browser = await launchBrowser();
    const context = await recordedContext(browser, recorder, { origin: server.url });
    page = await context.newPage();
    await page.goto(`${server.url}/new/api-token`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'New API token' }).waitFor();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cleanupServers();
    await sink?.close();
  });

  it("creates a secret with an expiry, the kind's rotation interval prefilled", step, async () => {
    const form = page.getByRole('form', { name: 'New API token' });
    expect(await form.getByLabel('Rotate every (days)').inputValue()).toBe('90');
    await form.locator('input[name="name"]').fill('deploy-token');
    await form.getByLabel('Expires on').fill(inDays(10));
    await form.getByLabel('Rotate every (days)').fill('0');
    await form.locator('input[name="token"]').fill(token);
    await form.getByRole('button', { name: 'Create secret' }).click();
    // The server's message shows under the field it refused.
    const rotation = form.getByLabel('Rotate every (days)');
    await expect.poll(() => rotation.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field-invalid .field-error').first().innerText()).toBe(
      'must be a whole number of days from 1 to 3650, or null',
    );
    await form.getByLabel('Rotate every (days)').fill('30');
    await form.getByRole('button', { name: 'Create secret' }).click();
    await page.getByRole('heading', { name: 'deploy-token' }).waitFor();
    const details = page.getByRole('complementary', { name: 'Details' });
    expect(await details.innerText()).toMatch(/Expires\s+.*expires in 10 days/);
    expect(await details.innerText()).toMatch(/Rotation\s+every 30 days, next /);
  });

  it('marks due secrets in the list, and lists them with why on "Due soon"', step, async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My secrets' }).click();
    const list = page.getByRole('list', { name: 'Secrets' });
    await list.getByText('expires in 10 days').waitFor();
    await list.getByText('expired', { exact: true }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Due soon' }).click();
    await page.getByRole('heading', { name: 'Due soon' }).waitFor();
    const due = page.getByRole('list', { name: 'Due secrets' });
    const items = due.getByRole('listitem').filter({ has: page.getByRole('link') });
    await items.first().waitFor();
    expect(await items.allInnerTexts()).toEqual([
      expect.stringMatching(/^old-cert · Generic secret\s+expired Expired .* \(3 days ago\)$/),
      expect.stringMatching(
        /^deploy-token · API token\s+expiring Expires .* \(in 10 days\)\s+rotation Rotation due .* \(in 30 days; every 30 days\)$/,
      ),
    ]);
    await page.screenshot({ path: join(shots, 'due-soon.png'), animations: 'disabled', caret: 'hide' });

    await page.getByLabel('Due within').selectOption({ label: 'the next 7 days' });
    await due.getByRole('link', { name: 'deploy-token' }).waitFor({ state: 'detached' });
    expect(await due.getByRole('link').allInnerTexts()).toEqual(['old-cert']);
    await page.getByLabel('Due within').selectOption({ label: 'the next 30 days' });
    await due.getByRole('link', { name: 'deploy-token' }).waitFor();
  });

  it('sends the reminders now for an admin, once', step, async () => {
    await page.getByRole('button', { name: 'Send reminders now' }).click();
    expect(await page.getByRole('status').filter({ hasText: 'sent' }).innerText()).toBe('3 reminders sent.');
    expect(sink.mails.map((m) => m.subject).sort()).toEqual([
      expect.stringMatching(/^Coffer: "deploy-token" expires on /),
      expect.stringMatching(/^Coffer: "deploy-token" is due for rotation on /),
      expect.stringMatching(/^Coffer: "old-cert" expired on /),
    ]);
    expect(sink.mails.map((m) => m.raw).join('\n')).not.toContain(token);
    await page.getByRole('button', { name: 'Send reminders now' }).click();
    await page.getByRole('status').filter({ hasText: '0 reminders sent.' }).waitFor();
    expect(sink.mails).toHaveLength(3);
  });

  it('changes expiry and rotation in the edit form', step, async () => {
    await page.getByRole('link', { name: 'deploy-token' }).click();
    await page.getByRole('heading', { name: 'deploy-token' }).waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit deploy-token' });
    expect(await form.getByLabel('Expires on').inputValue()).toBe(inDays(10));
    await form.getByLabel('Expires on').fill('');
    await form.getByLabel('Rotate every (days)').fill('');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved').waitFor();
    const details = page.getByRole('complementary', { name: 'Details' });
    expect(await details.innerText()).toMatch(/Expires\s+never\s+Rotation\s+none/);
    const stored = await admin.secrets.get('deploy-token');
    expect(stored).toMatchObject({ expiresAt: null, rotateEveryDays: null, currentVersion: 1 });
    expect(recorder.cspViolations).toEqual([]);
    expect(recorder.pageErrors).toEqual([]);
    expect(recorder.requests.filter((url) => new URL(url).host !== new URL(server.url).host)).toEqual([]);
  });
});
