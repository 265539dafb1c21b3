// biome-ignore-all lint/performance/useDomNodeTextContent: innerText here is Playwright's locator.innerText() (rendered text, what a person reads), not the DOM property
// The web admin center in a real browser: Debian's Chromium (headless, driven by playwright-core)
// against the real server process serving the built UI. One story, step by step: an admin logs
// in and creates an SMTP secret, reveals and edits it, tests the connection, meets a conflict,
// rolls back, shares it, deletes and restores it, creates a user and a token, and reads the
// audit log; members see what their shares allow; sessions end back at the login page.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type CofferClient, createClient } from '@coffer/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Recorder, recordedContext, screenshotDir, tabTo } from './support/browser.js';
import { cleanupServers, type ServerProcess, skipBrowserTests, startCoffer, step } from './support/story.js';

const memberPassword = `member-${randomBytes(8).toString('hex')}`;
/** The SMTP password: planted, so the tests can look for it where it must never be. */
const smtpPassword = `Sm7p-${randomBytes(8).toString('hex')}`;
const mask = '••••••••';

describe.skipIf(skipBrowserTests())('the web admin center in Chromium', () => {
  let server: ServerProcess;
  let adminPassword: string;
  let smtp: SMTPServer;
  let smtpPort: number;
  let browser: Browser;
  let admin: CofferClient;
  let adminContext: BrowserContext;
  let page: Page;
  let aliceId: string;
  let secretId: string;
  const recorder: Recorder = { requests: [], cspViolations: [], pageErrors: [] };
  const shots = screenshotDir();
  /** Bodies of API answers the admin's page received, to look for the planted password. */
  const answers: { url: string; body: string; at: number }[] = [];
  /** Answers whose bodies are still being read: `answers` is complete once these settle. */
  const recording = new Set<Promise<void>>();

  const shot = (p: Page, name: string, fullPage = false) =>
    p.screenshot({
      path: join(shots, `${name}.png`),
      fullPage,
      animations: 'disabled',
      caret: 'hide',
      style: '.toasts { display: none }', // confirmations of earlier steps would cover the page
    });

  async function login(p: Page, username: string, password: string): Promise<void> {
    await p.getByLabel('Username').fill(username);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByRole('button', { name: 'Log out' }).waitFor();
  }

  async function newUserPage(username: string, password: string) {
    const context = await recordedContext(browser, recorder);
    const p = await context.newPage();
    await p.goto(`${server.url}/`);
    await login(p, username, password);
    return { context, page: p };
  }

  beforeAll(async () => {
    smtp = new SMTPServer({
      hideSTARTTLS: true,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === smtpPassword) callback(null, { user: 'mailer' });
        else callback(Object.assign(new Error('bad credentials'), { responseCode: 535 }));
      },
    });
    smtp.on('error', () => {});
    await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as { port: number }).port;

    // The test's own calls go through an API token, so the audit log records them with source
    // `api`; the UI's (cookie session) are `web`, and the audit step can tell them apart.
    ({ server, adminPassword, admin } = await startCoffer({
      tokenName: 'e2e test client',
      clientName: 'e2e',
    }));
    const alice = await admin.users.create({
      username: 'alice',
      displayName: 'Alice',
      password: memberPassword,
    });
    const bob = await admin.users.create({ username: 'bob', displayName: 'Bob', password: memberPassword });
    aliceId = alice.id;
    const ops = await admin.groups.create({ name: 'ops', description: 'Operations' });
    await admin.groups.addMember(ops.id, bob.id);

    browser = await launchBrowser();
    adminContext = await recordedContext(browser, recorder, { origin: server.url });
    page = await adminContext.newPage();
    page.on('response', (response) => {
      if (!response.url().includes('/api/v1/')) return;
      const recorded = response
        .text()
        .catch(() => '')
        .then((body) => {
          answers.push({ url: response.url(), body, at: Date.now() });
        });
      recording.add(recorded);
      void recorded.finally(() => recording.delete(recorded));
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await cleanupServers();
  });

  it('logs in with the keyboard alone', step, async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await shot(page, 'login');
    // The username field has focus on arrival.
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(adminPassword);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My secrets' }).waitFor();
    await page.getByText('No secrets yet.').waitFor();
  });

  it(
    'creates an SMTP secret from the form with the keyboard, defaults prefilled, the server naming bad fields',
    step,
    async () => {
      await tabTo(page, 'New secret');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'New secret' }).waitFor();
      await shot(page, 'new-secret-kinds');
      await tabTo(page, /^SMTP server/);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'New SMTP server' }).waitFor();

      const form = page.getByRole('form', { name: 'New SMTP server' });
      expect(await form.getByRole('spinbutton', { name: 'Port' }).inputValue()).toBe('587');
      expect(await form.getByRole('combobox', { name: 'Security' }).inputValue()).toBe('starttls');
      const password = form.locator('input[name="password"]');
      expect(await password.getAttribute('type')).toBe('password');
      expect(await password.getAttribute('autocomplete')).toBe('off');
      expect(await form.getByRole('textbox', { name: 'Host' }).getAttribute('aria-required')).toBe('true');

      // Name and username, but no host: the server refuses and its message lands under Host.
      await tabTo(page, 'Name');
      await page.keyboard.type('mail-relay');
      await tabTo(page, 'Description');
      await page.keyboard.type('Outgoing mail for alerts');
      await tabTo(page, 'Username');
      await page.keyboard.type('mailer');
      await page.keyboard.press('Tab');
      await page.keyboard.type(smtpPassword);
      await page.keyboard.press('Enter');
      const host = form.getByRole('textbox', { name: 'Host' });
      await expect.poll(() => host.getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('.field-invalid .field-error').first().innerText()).toBe('required');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('host');
      await shot(page, 'new-secret-form', true);

      await page.keyboard.type('127.0.0.1');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'mail-relay' }).waitFor();
      secretId = new URL(page.url()).pathname.split('/').pop()!;
      const values = page.getByRole('region', { name: 'Values' });
      await values.getByText('127.0.0.1').waitFor();
      expect(await values.locator('[data-field="port"] dd').innerText()).toBe('587');
      expect(await values.locator('[data-field="security"] dd').innerText()).toBe('starttls');
      const stored = await admin.secrets.values(secretId, { reveal: true });
      expect(stored.values).toMatchObject({
        host: '127.0.0.1',
        port: 587,
        username: 'mailer',
        password: smtpPassword,
      });
    },
  );

  it('shows the password masked until Reveal, which shows it', step, async () => {
    const values = page.getByRole('region', { name: 'Values' });
    expect(await values.locator('[data-field="password"] dd').innerText()).toContain(mask);
    expect(await page.content()).not.toContain(smtpPassword);
    await Promise.all(recording);
    expect(answers.filter((a) => a.body.includes(smtpPassword))).toEqual([]);
    await shot(page, 'secret');

    await values.getByRole('button', { name: 'Reveal' }).click();
    await values.getByText(smtpPassword).waitFor();
    // The page can show the answer before the response listener has read its body and recorded it.
    await expect
      .poll(() => answers.some((a) => a.url.includes('reveal=true') && a.body.includes(smtpPassword)))
      .toBe(true);
    await values.getByRole('button', { name: 'Hide' }).click();
    await values.getByText(smtpPassword).waitFor({ state: 'detached' });
  });

  it('keeps the values masked and the button at Reveal when revealing fails', step, async () => {
    const values = page.getByRole('region', { name: 'Values' });
    const isReveal = (url: URL) =>
      url.pathname.endsWith('/values') && url.searchParams.get('reveal') === 'true';
    await page.route(isReveal, (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          title: 'Internal error',
          status: 500,
          code: 'internal',
          detail: 'the backend failed',
        }),
      }),
    );
    await values.getByRole('button', { name: 'Reveal' }).click();
    await values.getByRole('alert').getByText('the backend failed').waitFor();
    const button = values.getByRole('button', { name: /^(Reveal|Hide)$/ });
    expect(await button.innerText()).toBe('Reveal');
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    expect(await values.locator('[data-field="password"] dd').innerText()).toContain(mask);
    await page.unroute(isReveal);
    // Reveal again tries again.
    await button.click();
    await values.getByText(smtpPassword).waitFor();
    expect(await button.innerText()).toBe('Hide');
    await button.click();
    await values.getByText(smtpPassword).waitFor({ state: 'detached' });
  });

  it('edits a field without ever loading or losing the password (the masking round trip)', step, async () => {
    await page.getByRole('region', { name: 'Values' }).getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit mail-relay' });
    const password = form.locator('input[name="password"]');
    expect(await password.inputValue()).toBe(mask);
    expect(await page.content()).not.toContain(smtpPassword);
    await form.getByRole('spinbutton', { name: 'Port' }).fill(String(smtpPort));
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved').waitFor();
    const stored = await admin.secrets.values(secretId, { reveal: true });
    expect(stored.values).toMatchObject({ port: smtpPort, password: smtpPassword });
    expect(stored.version).toBe(2);
  });

  it('runs a connection test against a real SMTP server', step, async () => {
    const test = page.getByRole('region', { name: 'Connection test' });
    await test.getByRole('button', { name: 'Test connection' }).click();
    await test.getByText('Connection works.').waitFor();
    expect(await test.innerText()).toContain('authenticated: yes');
  });

  it('offers reload or overwrite when someone else changed the secret meanwhile', step, async () => {
    // Reload: their change wins and shows.
    await page.getByRole('button', { name: 'Edit' }).click();
    let form = page.getByRole('form', { name: 'Edit mail-relay' });
    await admin.secrets.updateValues(secretId, { values: { from: 'api@example.com' } });
    await form.getByRole('textbox', { name: 'From address' }).fill('ui@example.com');
    await form.getByRole('button', { name: 'Save changes' }).click();
    const conflict = page.getByRole('dialog', { name: 'Someone else changed this secret' });
    await conflict.waitFor();
    expect(await conflict.innerText()).toContain('You edited version 2, but it is now at version 3');
    await shot(page, 'conflict');
    // Keep editing (Escape): focus returns to the form, not to the page's body (the dialog opened
    // while Save was disabled, so there was no opener to go back to).
    await page.keyboard.press('Escape');
    await conflict.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.tagName)).not.toBe('BODY');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Save changes');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await conflict.waitFor();
    await conflict.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('region', { name: 'Values' }).getByText('api@example.com').waitFor();

    // Overwrite: our edit wins.
    await page.getByRole('button', { name: 'Edit' }).click();
    form = page.getByRole('form', { name: 'Edit mail-relay' });
    expect(await form.getByRole('textbox', { name: 'From address' }).inputValue()).toBe('api@example.com');
    await admin.secrets.updateValues(secretId, { values: { from: 'api2@example.com' } });
    await form.getByRole('textbox', { name: 'From address' }).fill('ui@example.com');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await conflict.waitFor();
    await conflict.getByRole('button', { name: 'Overwrite' }).click();
    await page.getByText('Changes saved').first().waitFor();
    const stored = await admin.secrets.values(secretId, { reveal: true });
    expect(stored).toMatchObject({ version: 5, values: { from: 'ui@example.com', password: smtpPassword } });
  });

  it('shows which fields each version changed and rolls back', step, async () => {
    const history = page.getByRole('region', { name: 'Version history' });
    const versions = history.getByRole('list', { name: 'Versions' }).locator(':scope > li');
    await expect.poll(() => versions.count()).toBe(5);
    expect(await versions.nth(0).innerText()).toContain('Version 5');
    expect(await versions.nth(0).innerText()).toContain('From address');
    expect(await versions.nth(3).innerText()).toContain('Port');
    expect(await history.innerText()).not.toContain(smtpPassword);
    await shot(page, 'secret-history', true);
    await history.getByRole('button', { name: 'Roll back to version 2' }).click();
    const confirm = page.getByRole('dialog', { name: 'Roll back to version 2?' });
    await confirm.getByRole('button', { name: 'Roll back' }).click();
    await page.getByText('Rolled back: now version 6').waitFor();
    await expect.poll(() => versions.count()).toBe(6);
    expect(await versions.nth(0).innerText()).toContain('rollback to version 2');
    const stored = await admin.secrets.values(secretId, { reveal: true });
    expect(stored.version).toBe(6);
    expect(stored.values.from).toBeUndefined();
    expect(stored.values).toMatchObject({ port: smtpPort, password: smtpPassword });
  });

  it('focuses the heading of a page once it has loaded', step, async () => {
    await page.getByRole('link', { name: 'My secrets' }).click();
    await page.getByRole('link', { name: 'mail-relay' }).click();
    // The secret page shows a spinner first; focus waits for its heading.
    await page.getByRole('heading', { name: 'mail-relay' }).waitFor();
    await expect
      .poll(() =>
        page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent}`),
      )
      .toBe('H1 mail-relay');
  });

  it(
    'marks a refused label, saves nothing, then saves values and labels without a false conflict',
    step,
    async () => {
      const before = await admin.secrets.get(secretId);
      await page.getByRole('region', { name: 'Values' }).getByRole('button', { name: 'Edit' }).click();
      const form = page.getByRole('form', { name: 'Edit mail-relay' });
      await form.getByRole('textbox', { name: 'From address' }).fill('alerts@example.com');
      const labels = form.getByRole('textbox', { name: 'Labels', exact: true });
      await labels.fill('Env=prod'); // the server wants lowercase label names: an issue at labels.Env
      await form.getByRole('button', { name: 'Save changes' }).click();
      await expect.poll(() => labels.getAttribute('aria-invalid')).toBe('true');
      expect(await form.locator('.field-invalid .field-error').innerText()).toMatch(/^Env: label names/);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('labels');
      expect(await admin.secrets.get(secretId)).toMatchObject({
        currentVersion: before.currentVersion,
        labels: before.labels,
      });

      await labels.fill('env=prod');
      await form.getByRole('button', { name: 'Save changes' }).click();
      await form.waitFor({ state: 'detached' }); // saved: no "someone else changed this secret"
      const version = before.currentVersion + 1;
      const details = page.getByRole('complementary', { name: 'Details' });
      const versionShown = details
        .locator('dt', { hasText: /^Version$/ })
        .locator('xpath=following-sibling::dd[1]');
      expect(await versionShown.innerText()).toBe(String(version));
      expect(await admin.secrets.get(secretId)).toMatchObject({
        currentVersion: version,
        labels: { env: 'prod' },
      });
      const stored = await admin.secrets.values(secretId, { reveal: true });
      expect(stored).toMatchObject({
        version,
        values: { from: 'alerts@example.com', password: smtpPassword },
      });
    },
  );

  it('shares with a group at use and a user at read in the share dialog', step, async () => {
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Share “mail-relay”' });
    await dialog.getByText('Nobody yet.').waitFor();
    await dialog.getByRole('searchbox', { name: 'Find a user or group' }).fill('op');
    await dialog.getByRole('button', { name: /^ops/ }).click();
    // A group defaults to `use`, each level explained in a line.
    expect(await dialog.getByRole('radio', { name: /^Use/ }).isChecked()).toBe(true);
    expect(await dialog.getByRole('radio', { name: /^Read/ }).getAttribute('name')).toBe('share-level');
    expect(await dialog.innerText()).toContain('they never see the values');
    await shot(page, 'share-dialog');
    await dialog.getByRole('button', { name: 'Share at use' }).click();
    await dialog.getByRole('list', { name: 'Current shares' }).getByText('ops').waitFor();

    await dialog.getByRole('searchbox', { name: 'Find a user or group' }).fill('ali');
    await dialog.getByRole('button', { name: /^alice/ }).click();
    expect(await dialog.getByRole('radio', { name: /^Read/ }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Share at read' }).click();
    await dialog.getByRole('list', { name: 'Current shares' }).getByText('alice').waitFor();
    const shares = await admin.shares.list(secretId);
    expect(shares.items.map((s) => [s.granteeName, s.level])).toEqual([
      ['ops', 'use'],
      ['alice', 'read'],
    ]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('lists the secret for a user share at read, never for a group share at use', step, async () => {
    const bob = await newUserPage('bob', memberPassword);
    await bob.page.getByText('No secrets yet.').waitFor();
    expect(await bob.page.content()).not.toContain('mail-relay');
    // Opened directly, a secret held at `use` says so plainly, with nothing to try again.
    await bob.page.goto(`${server.url}/secrets/${secretId}`);
    await bob.page.getByText('Coffer may use it on your behalf').waitFor();
    expect(await bob.page.getByRole('alert').count()).toBe(0);
    expect(await bob.page.getByRole('button', { name: 'Try again' }).count()).toBe(0);

    const alice = await newUserPage('alice', memberPassword);
    await alice.page.getByRole('link', { name: 'mail-relay' }).waitFor();
    expect(await alice.page.getByRole('list', { name: 'Secrets' }).innerText()).toContain('shared: read');

    // Logging out returns to the login page.
    await bob.page.getByRole('button', { name: 'Log out' }).click();
    await bob.page.getByText('You have logged out.').waitFor();
    await bob.context.close();

    // A session ended elsewhere (an admin logs Alice out everywhere): the next action goes back
    // to the login page, and logging in again returns to where she was going.
    await admin.users.endSessions(aliceId);
    await alice.page.getByRole('link', { name: 'Trash' }).click();
    await alice.page.getByText('Your session has ended. Log in again to continue.').waitFor();
    expect(new URL(alice.page.url()).pathname).toBe('/login');
    await login(alice.page, 'alice', memberPassword);
    await alice.page.getByRole('heading', { name: 'Trash' }).waitFor();
    await alice.context.close();
  });

  it('after logging in, goes to the page first asked for, never to another host', step, async () => {
    const context = await recordedContext(browser, recorder);
    const p = await context.newPage();
    const at = () => {
      const url = new URL(p.url());
      return `${url.origin}${url.pathname}`;
    };
    // A deep link opened logged out: the login page, then that page.
    await p.goto(`${server.url}/trash`);
    await p.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(at()).toBe(`${server.url}/login`);
    await login(p, 'admin', adminPassword);
    await p.getByRole('heading', { name: 'Trash' }).waitFor();
    expect(at()).toBe(`${server.url}/trash`);

    // The login page while logged in: home, or the `next` it names if that is a page of the app.
    await p.goto(`${server.url}/login`);
    await p.getByRole('heading', { name: 'My secrets' }).waitFor();
    expect(at()).toBe(`${server.url}/`);
    await p.goto(`${server.url}/login?next=${encodeURIComponent('/trash')}`);
    await p.getByRole('heading', { name: 'Trash' }).waitFor();
    expect(at()).toBe(`${server.url}/trash`);
    for (const next of ['https://evil.example/', '//evil.example']) {
      await p.goto(`${server.url}/login?next=${encodeURIComponent(next)}`);
      await p.getByRole('heading', { name: 'My secrets' }).waitFor();
      expect(at(), next).toBe(`${server.url}/`);
    }

    // Logging in with a `next` to another host lands at home.
    for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
      await p.getByRole('button', { name: 'Log out' }).click();
      await p.getByText('You have logged out.').waitFor();
      await p.goto(`${server.url}/login?next=${encodeURIComponent(next)}`);
      await login(p, 'admin', adminPassword);
      await p.getByRole('heading', { name: 'My secrets' }).waitFor();
      expect(at(), next).toBe(`${server.url}/`);
    }
    await context.close();
  });

  it('deletes with confirmation and restores from the trash', step, async () => {
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete “mail-relay”?' });
    await confirm.getByRole('button', { name: 'Move to trash' }).click();
    await page.getByText('“mail-relay” moved to the trash').waitFor();
    await page.getByRole('heading', { name: 'My secrets' }).waitFor();
    await page.getByText('No secrets yet.').waitFor();

    await page.getByRole('link', { name: 'Trash' }).click();
    await page.getByRole('list', { name: 'Deleted secrets' }).getByText('mail-relay').waitFor();
    await shot(page, 'trash');
    await page.getByRole('button', { name: 'Restore mail-relay' }).click();
    await page.getByText('“mail-relay” restored').waitFor();
    await page.getByText('The trash is empty.').waitFor();
    await page.getByRole('link', { name: 'My secrets' }).click();
    await page.getByRole('link', { name: 'mail-relay' }).waitFor();
    await shot(page, 'secrets');
  });

  it('lets an admin create a user', step, async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByRole('textbox', { name: 'Username' }).fill('carol');
    await dialog.getByRole('textbox', { name: 'Display name' }).fill('Carol');
    await dialog.locator('input[name="password"]').fill('short');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.locator('.field-invalid').first().waitFor(); // the server's word on the password
    await dialog.locator('input[name="password"]').fill(`carol-${randomBytes(8).toString('hex')}`);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByText('User carol created').waitFor();
    await page.getByRole('rowheader', { name: /carol/ }).waitFor();
    await shot(page, 'users');
  });

  it('creates a token shown once, with a copy button', step, async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'Service accounts and tokens' }).waitFor();
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog', { name: 'New token for admin' });
    await dialog.getByRole('textbox', { name: 'Name' }).fill('deploy pipeline');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const created = page.getByRole('dialog', { name: 'Token created' });
    const token = await created.getByRole('textbox', { name: /Token/ }).inputValue();
    expect(token).toMatch(/^cfr_/);
    expect(await created.innerText()).toContain('this is the only time it is shown');
    await created.getByRole('button', { name: 'Copy' }).click();
    await created.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await shot(page, 'token-created');
    const me = await createClient({ baseUrl: server.url, token }).auth.me();
    expect(me.user.username).toBe('admin');
    await created.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('cell', { name: 'deploy pipeline', exact: true }).waitFor();
    expect(await page.content()).not.toContain(token);
  });

  it('shows these actions in the audit viewer, filters them and verifies the chain', step, async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const table = page.getByRole('table');
    await table.waitFor();
    while (await page.getByRole('button', { name: 'Show older records' }).isVisible()) {
      await page.getByRole('button', { name: 'Show older records' }).click();
      await page.waitForTimeout(200);
    }
    const text = await table.innerText();
    const rows = await table.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => {
        const cell = (label: string) =>
          (tr.querySelector<HTMLElement>(`td[data-label="${label}"]`)?.innerText ?? '').trim();
        return {
          who: cell('Who'),
          action: cell('Action').split(/\s+/)[0],
          target: cell('Target'),
          outcome: cell('Outcome'),
          source: cell('From').split(/\s+/)[0],
        };
      }),
    );
    // What the admin did in the page is recorded as the admin, from the web UI (the test's own
    // calls, through its API token, are recorded from the API and cannot stand in for them).
    const byTheUi = (action: string, target?: RegExp) =>
      rows.filter(
        (r) =>
          r.action === action &&
          r.who === 'admin' &&
          r.source === 'web' &&
          r.outcome === 'success' &&
          (target === undefined || target.test(r.target)),
      );
    for (const [action, target] of [
      ['auth.login', undefined],
      ['secret.create', /^mail-relay/],
      ['secret.reveal', /^mail-relay/],
      ['secret.update', /^mail-relay/],
      ['secret.update_metadata', /^mail-relay/],
      ['secret.use', /^mail-relay/],
      ['secret.rollback', /^mail-relay/],
      ['share.grant', /^mail-relay/],
      ['secret.delete', /^mail-relay/],
      ['secret.restore', /^mail-relay/],
      ['user.create', /^carol/],
      ['token.create', /^deploy pipeline/],
    ] as const) {
      expect(byTheUi(action, target).length, `${action} from the web UI`).toBeGreaterThan(0);
    }
    // The test's own calls really are told apart: they are recorded from the API.
    expect(
      rows.filter((r) => r.action === 'user.create' && /^alice/.test(r.target)).map((r) => r.source),
    ).toEqual(['api']);
    expect(rows.some((r) => r.action === 'secret.reveal' && r.source === 'api')).toBe(true);
    expect(text).not.toContain(smtpPassword);

    await page.getByRole('combobox', { name: 'Action' }).fill('secret.reveal');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(async () => new Set(await table.locator('td[data-label="Action"]').allInnerTexts()))
      .toEqual(new Set(['secret.reveal']));
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText(/The chain is intact: \d+ records checked/).waitFor();
    await shot(page, 'audit');
  });

  it('shows backends with migration progress and the keyring with rotation', step, async () => {
    await page.getByRole('link', { name: 'Backends' }).click();
    await page.getByRole('rowheader', { name: 'sql' }).waitFor();
    await page.getByRole('progressbar', { name: 'Migration progress' }).waitFor();
    await shot(page, 'backends');
    await page.getByRole('link', { name: 'Keyring' }).click();
    const before = (await admin.keyring.status()).keys.length;
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page
      .getByRole('dialog', { name: 'Rotate the key?' })
      .getByRole('button', { name: 'Rotate' })
      .click();
    await page.getByText(/New key .* is current/).waitFor();
    expect((await admin.keyring.status()).keys.length).toBe(before + 1);
    await shot(page, 'keyring');
  });

  it('works at phone width', step, async () => {
    const context = await recordedContext(browser, recorder, { width: 390, height: 844 });
    const phone = await context.newPage();
    await phone.goto(`${server.url}/`);
    await shot(phone, 'phone-login');
    await login(phone, 'admin', adminPassword);
    await phone.getByRole('link', { name: 'mail-relay' }).waitFor();
    const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth);
    expect(await overflow()).toBeLessThanOrEqual(390);
    // The navigation sits behind the menu button.
    expect(await phone.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
    await phone.getByRole('button', { name: 'Menu' }).click();
    expect(await phone.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);
    await shot(phone, 'phone-menu');
    await phone.getByRole('button', { name: 'Menu' }).click();
    await shot(phone, 'phone-secrets');
    await phone.getByRole('link', { name: 'mail-relay' }).click();
    await phone.getByRole('heading', { name: 'mail-relay' }).waitFor();
    await phone.getByRole('region', { name: 'Values' }).getByText('127.0.0.1').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(390);
    await shot(phone, 'phone-secret', true);
    await phone.getByRole('button', { name: 'Menu' }).click();
    await phone.getByRole('link', { name: 'Audit log' }).click();
    await phone.getByRole('table').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(390);
    await context.close();
  });

  it('made no request to any host but the server, and broke no CSP rule', () => {
    expect(recorder.requests.length).toBeGreaterThan(50);
    const elsewhere = recorder.requests.filter((url) => {
      const parsed = new URL(url);
      return parsed.protocol !== 'data:' && parsed.host !== new URL(server.url).host;
    });
    expect(elsewhere).toEqual([]);
    expect(recorder.cspViolations).toEqual([]);
    expect(recorder.pageErrors).toEqual([]);
  });
});
