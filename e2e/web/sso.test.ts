// biome-ignore-all lint/performance/useDomNodeTextContent: innerText here is Playwright's locator.innerText() (rendered text, what a person reads), not the DOM property
// Single sign-on in a real browser: Debian's Chromium against the real server process (serving
// the built UI) and a real OpenID Connect provider (oidc-provider) on 127.0.0.1. A person opens a
// page of the admin center, clicks "Sign in with ...", logs in on the provider's own page, gives
// consent, and lands on the page they asked for as a new Coffer user in their mapped group.
import { join } from 'node:path';
import type { CofferClient } from '@coffer/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startOidcProvider,
  type TestProvider,
} from '../../packages/server/test/support/oidc-provider.js';
import { launchBrowser, type Recorder, recordedContext, screenshotDir } from './support/browser.js';
import { cleanupServers, type ServerProcess, skipBrowserTests, startCoffer, step } from './support/story.js';

describe.skipIf(skipBrowserTests())('single sign-on in Chromium', () => {
  let provider: TestProvider;
  let server: ServerProcess;
  let browser: Browser;
  let admin: CofferClient;
  let page: Page;
  let platformId: string;
  const recorder: Recorder = { requests: [], cspViolations: [], pageErrors: [] };
  const shots = screenshotDir();

  beforeAll(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({
      redirectUris: [`${url}/api/v1/auth/sso/callback`],
      accounts: { grace: { name: 'Grace Hopper', email: 'grace@example.com', groups: ['platform-team'] } },
    });
    ({ server, admin } = await startCoffer({
      tokenName: 'e2e sso',
      env: {
        COFFER_PORT: String(port),
        COFFER_SSO_ISSUER: provider.issuer,
        COFFER_SSO_CLIENT_ID: provider.clientId,
        COFFER_SSO_CLIENT_SECRET: provider.clientSecret,
        COFFER_SSO_PUBLIC_URL: url,
        COFFER_SSO_NAME: 'Example ID',
        COFFER_SSO_SCOPES: 'openid,profile,email,groups',
        COFFER_SSO_GROUPS_CLAIM: 'groups',
        COFFER_SSO_GROUP_MAPPING: 'platform-team=platform',
        COFFER_SSO_PASSWORD_LOGIN: 'admins',
      },
    }));
    // Admins keep their passwords (the break-glass); the test's own calls use a token.
    platformId = (await admin.groups.create({ name: 'platform' })).id;
    const secret = await admin.secrets.create({
      name: 'platform-db',
      kind: 'generic',
      values: { url: 'postgres://db.internal/platform' },
    });
    await admin.shares.grant(secret.id, { granteeType: 'group', granteeId: platformId, level: 'read' });

    browser = await launchBrowser();
    const context = await recordedContext(browser, recorder);
    page = await context.newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cleanupServers();
    await provider?.close();
  });

  it('offers "Sign in with Example ID" and keeps passwords for admins', step, async () => {
    await page.goto(`${server.url}/trash`);
    const signIn = page.getByRole('link', { name: 'Sign in with Example ID' });
    await signIn.waitFor();
    expect(await page.getByText('Administrators: log in with a password').count()).toBe(1);
    expect(await page.getByLabel('Username').count()).toBe(1);
    expect(new URL((await signIn.getAttribute('href'))!, server.url).search).toBe('?next=%2Ftrash');
    await page.screenshot({ path: join(shots, 'login-sso.png'), animations: 'disabled', caret: 'hide' });
  });

  it(
    "logs in at the provider's page and lands on the page asked for, as that user, in the mapped group",
    step,
    async () => {
      await page.getByRole('link', { name: 'Sign in with Example ID' }).click();
      // oidc-provider's own login page, then its consent page.
      await page.waitForURL((u) => u.origin === provider.issuer);
      await page.locator('input[name="login"]').fill('grace');
      await page.locator('input[name="password"]').fill('her provider password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.waitForURL(`${server.url}/trash`);
      await page.getByRole('heading', { name: 'Trash' }).waitFor();
      expect(await page.locator('.user-name').innerText()).toBe('Grace Hopper');
      const members = (await admin.groups.get(platformId)).members.map((m) => m.username);
      expect(members).toEqual(['grace']);

      // The group's secret is hers to read now.
      await page.getByRole('link', { name: 'My secrets' }).click();
      await page.getByRole('link', { name: 'platform-db' }).waitFor();
      const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
      expect(me).toMatchObject({ authenticatedBy: 'session', user: { username: 'grace', role: 'member' } });
      expect(recorder.pageErrors).toEqual([]);
      expect(recorder.cspViolations).toEqual([]);
    },
  );

  it('says why when a sign-in comes back refused', step, async () => {
    const fresh = await (await recordedContext(browser, recorder)).newPage();
    await fresh.goto(`${server.url}/login?sso_error=denied`);
    await fresh.getByRole('alert').getByText('Signing in with Example ID was cancelled.').waitFor();
    await fresh.goto(`${server.url}/login?sso_error=disabled`);
    await fresh
      .getByRole('alert')
      .getByText('Your Coffer account is disabled. Ask an administrator.')
      .waitFor();
    await fresh.close();
  });
});
