// Single sign-on over real HTTP: the real server process against a real OpenID Connect provider
// (oidc-provider) on 127.0.0.1, driven the way a browser goes through it: every redirect
// followed, cookies kept, the provider's login and consent pages filled in.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import {
  CookieJar,
  driveSignIn,
  freePort,
  startOidcProvider,
  type TestProvider,
} from './support/oidc-provider.js';
import { cleanupServers, type ServerProcess, startServer, tempDir } from './support/server-process.js';

const adminPassword = `admin-${randomBytes(8).toString('hex')}`;
const clientSecret = `planted-client-secret-${randomBytes(12).toString('hex')}`;
/** Values that must never reach the server's output or the audit log. */
const planted: string[] = [clientSecret];

let provider: TestProvider;
let server: ServerProcess;
let admin: ApiClient;
let base: string;
const groupIds: Record<string, string> = {};

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${base}/api/v1/auth/sso/callback`],
    clientSecret,
    accounts: {
      ada: { name: 'Ada Lovelace', email: 'ada@example.com', groups: ['eng-staff', 'not-mapped'] },
      'dev.bob': { preferredUsername: 'Bob', groups: [] },
      mallory: { preferredUsername: 'admin' },
    },
  });
  const secretFile = join(tempDir(), 'client-secret');
  writeFileSync(secretFile, `${clientSecret}\n`, { mode: 0o600 });
  server = await startServer({
    env: {
      COFFER_PORT: String(port),
      COFFER_ADMIN_PASSWORD: adminPassword,
      COFFER_LOG_LEVEL: 'trace',
      COFFER_SSO_ISSUER: provider.issuer,
      COFFER_SSO_CLIENT_ID: provider.clientId,
      COFFER_SSO_CLIENT_SECRET_FILE: secretFile,
      COFFER_SSO_PUBLIC_URL: base,
      COFFER_SSO_NAME: 'Test IdP',
      COFFER_SSO_SCOPES: 'openid,profile,email,groups',
      COFFER_SSO_GROUPS_CLAIM: 'groups',
      COFFER_SSO_GROUP_MAPPING: 'eng-staff=engineering,oncall=ops',
      COFFER_SSO_PASSWORD_LOGIN: 'admins',
    },
  });
  admin = await ApiClient.login(server.api, 'admin', adminPassword);
  for (const name of ['engineering', 'ops']) {
    groupIds[name] = (await admin.post('/groups', { name })).body.id;
  }
});

afterAll(async () => {
  await cleanupServers();
  await provider?.close();
});

/** Stops where the sign-in sends the browser back into the web UI. */
const atWebUi = (url: URL) => url.origin === base && !url.pathname.startsWith('/api/');

async function membersOf(group: string): Promise<string[]> {
  const { body } = await admin.get(`/groups/${groupIds[group]}`);
  return body.members.map((m: { username: string }) => m.username);
}

describe('single sign-on over HTTP', () => {
  it('says it is on, under which name, and that only admins may use passwords', async () => {
    const { status, body } = await new ApiClient(server.api).get('/auth/sso');
    expect(status).toBe(200);
    expect(body).toEqual({
      enabled: true,
      name: 'Test IdP',
      startPath: '/api/v1/auth/sso/start',
      passwordLogin: 'admins',
    });
  });

  it('signs a browser in through the provider: a new user, a new session, the mapped groups, the page asked for', async () => {
    const jar = new CookieJar();
    // A session id planted before signing in must not become the session (session fixation).
    const fixed = randomBytes(32).toString('base64url');
    jar.set('coffer_session', fixed);
    const trip = await driveSignIn(`${server.api}/auth/sso/start?next=${encodeURIComponent('/trash?x=1')}`, {
      login: 'ada',
      jar,
      stopAt: atWebUi,
    });
    expect(trip.landedAt).toBe(`${base}/trash?x=1`);
    expect(trip.visited.some((u) => u.startsWith(`${provider.issuer}/auth?`))).toBe(true);
    const authorize = new URL(trip.visited.find((u) => u.startsWith(`${provider.issuer}/auth?`))!);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/api/v1/auth/sso/callback`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();

    const session = jar.get('coffer_session')!;
    expect(session).toBeTruthy();
    expect(session).not.toBe(fixed);
    planted.push(session, jar.get('coffer_csrf')!);
    expect(jar.names().filter((n) => n.startsWith('coffer_sso_'))).toEqual([]);

    const browser = new ApiClient(server.api);
    browser.cookies.set('coffer_session', session);
    browser.csrf = jar.get('coffer_csrf');
    const me = await browser.get('/auth/me');
    expect(me.body).toMatchObject({
      authenticatedBy: 'session',
      user: {
        username: 'ada',
        displayName: 'Ada Lovelace',
        email: 'ada@example.com',
        role: 'member',
        hasPassword: false,
      },
    });
    expect(await membersOf('engineering')).toEqual(['ada']);
    expect(await membersOf('ops')).toEqual([]);

    const logins = (await admin.get('/audit?action=auth.login&limit=5')).body.items;
    expect(logins[0]).toMatchObject({
      actor: { type: 'user', name: 'ada' },
      source: 'web',
      details: { method: 'sso', issuer: provider.issuer, created: true },
    });
    const created = (await admin.get('/audit?action=user.create&limit=1')).body.items[0];
    expect(created).toMatchObject({ actor: { type: 'system', name: 'sso' }, target: { name: 'ada' } });
  });

  it('keeps the groups in step with the provider at the next sign-in', async () => {
    provider.accounts.get('ada')!.groups = ['oncall'];
    const trip = await driveSignIn(`${server.api}/auth/sso/start`, { login: 'ada', stopAt: atWebUi });
    expect(trip.landedAt).toBe(`${base}/`);
    expect(await membersOf('engineering')).toEqual([]);
    expect(await membersOf('ops')).toEqual(['ada']);
    const removed = (await admin.get('/audit?action=group.member_remove&limit=1')).body.items[0];
    expect(removed).toMatchObject({
      actor: { name: 'sso' },
      target: { name: 'engineering' },
      details: { username: 'ada' },
    });
  });

  it('sets the sign-in cookie HttpOnly and SameSite=Lax, only for the callback', async () => {
    const response = await fetch(`${server.api}/auth/sso/start`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('coffer_sso_'))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/api\/v1\/auth\/sso\/callback/);
    planted.push(cookie.split(';')[0]!.split('=')[1]!);
    expect(response.headers.get('location')).toMatch(new RegExp(`^${provider.issuer}/auth\\?`));
  });

  it('refuses a changed state, a changed nonce, and a callback in another browser', async () => {
    const tamper = (param: string) => (url: URL) => {
      if (url.origin === provider.issuer && url.pathname === '/auth')
        url.searchParams.set(param, `${url.searchParams.get(param)}x`);
      return url;
    };
    const wrongState = await driveSignIn(`${server.api}/auth/sso/start`, {
      login: 'ada',
      stopAt: atWebUi,
      rewrite: tamper('state'),
    });
    expect(wrongState.landedAt).toBe(`${base}/login?sso_error=expired`);
    const wrongNonce = await driveSignIn(`${server.api}/auth/sso/start`, {
      login: 'ada',
      stopAt: atWebUi,
      rewrite: tamper('nonce'),
    });
    expect(wrongNonce.landedAt).toBe(`${base}/login?sso_error=failed`);
    expect(wrongNonce.jar.get('coffer_session')).toBeUndefined();

    // The provider sends someone else's browser to the callback: without the cookie it is refused,
    // and the browser that started the sign-in can still finish it.
    const stopped = await driveSignIn(`${server.api}/auth/sso/start`, {
      login: 'ada',
      stopAt: (url) => url.pathname === '/api/v1/auth/sso/callback',
    });
    const elsewhere = await driveSignIn(stopped.landedAt, { login: 'ada', stopAt: atWebUi });
    expect(elsewhere.landedAt).toBe(`${base}/login?sso_error=expired`);
    const finished = await driveSignIn(stopped.landedAt, { login: 'ada', jar: stopped.jar, stopAt: atWebUi });
    expect(finished.landedAt).toBe(`${base}/`);
    // A callback works once.
    const replay = await driveSignIn(stopped.landedAt, { login: 'ada', jar: stopped.jar, stopAt: atWebUi });
    expect(replay.landedAt).toBe(`${base}/login?sso_error=expired`);
  });

  it('tells the login page when the person said no at the provider', async () => {
    const stopped = await driveSignIn(`${server.api}/auth/sso/start?next=/tokens`, {
      login: 'ada',
      stopAt: (url) => url.origin === provider.issuer,
    });
    const state = new URL(stopped.landedAt).searchParams.get('state')!;
    const denied = await driveSignIn(`${base}/api/v1/auth/sso/callback?error=access_denied&state=${state}`, {
      login: 'ada',
      jar: stopped.jar,
      stopAt: atWebUi,
    });
    expect(denied.landedAt).toBe(`${base}/login?sso_error=denied&next=%2Ftokens`);
  });

  it('refuses a provider account whose username is a local account, and a disabled user', async () => {
    const taken = await driveSignIn(`${server.api}/auth/sso/start`, { login: 'mallory', stopAt: atWebUi });
    expect(taken.landedAt).toBe(`${base}/login?sso_error=username_taken`);

    const bob = await driveSignIn(`${server.api}/auth/sso/start`, { login: 'dev.bob', stopAt: atWebUi });
    expect(bob.landedAt).toBe(`${base}/`);
    const bobId = (await admin.get('/users?query=bob')).body.items[0].id;
    await admin.patch(`/users/${bobId}`, { disabled: true });
    const disabled = await driveSignIn(`${server.api}/auth/sso/start`, { login: 'dev.bob', stopAt: atWebUi });
    expect(disabled.landedAt).toBe(`${base}/login?sso_error=disabled`);
    const failed = (await admin.get(`/audit?action=auth.login_failed&targetId=${bobId}`)).body.items[0];
    expect(failed).toMatchObject({ details: { method: 'sso', reason: 'disabled' } });
  });

  it('refuses password logins of members, not of admins', async () => {
    const password = `carol-${randomBytes(8).toString('hex')}`;
    planted.push(password);
    await admin.post('/users', { username: 'carol', password });
    const refused = await new ApiClient(server.api).post('/auth/login', { username: 'carol', password });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'forbidden', details: { reason: 'password_login_off' } });
    expect((await ApiClient.login(server.api, 'admin', adminPassword)).csrf).toBeTruthy();
  });

  it('hands a sign-in to the CLI on its loopback address, redeemable only with its PKCE verifier', async () => {
    const signInFor = async (verifier: string) => {
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const cliState = randomBytes(12).toString('base64url');
      const query = new URLSearchParams({
        cliRedirect: 'http://127.0.0.1:9/callback',
        cliChallenge: challenge,
        cliState,
      });
      const trip = await driveSignIn(`${server.api}/auth/sso/start?${query}`, {
        login: 'ada',
        stopAt: (url) => url.port === '9',
      });
      const landed = new URL(trip.landedAt);
      expect(landed.origin + landed.pathname).toBe('http://127.0.0.1:9/callback');
      expect(landed.searchParams.get('state')).toBe(cliState);
      const code = landed.searchParams.get('code')!;
      planted.push(code);
      return code;
    };
    const verifier = randomBytes(32).toString('base64url');
    const anonymous = new ApiClient(server.api);

    const stolen = await signInFor(verifier);
    const wrong = await anonymous.post('/auth/sso/token', {
      code: stolen,
      codeVerifier: randomBytes(32).toString('base64url'),
    });
    expect(wrong.status).toBe(401);
    expect((await anonymous.post('/auth/sso/token', { code: stolen, codeVerifier: verifier })).status).toBe(
      401,
    );

    const code = await signInFor(verifier);
    const redeemed = await anonymous.post(
      '/auth/sso/token',
      { code, codeVerifier: verifier, tokenName: 'coffer-cli@test', scope: 'read-only' },
      { headers: { 'x-coffer-client': 'cli' } },
    );
    expect(redeemed.status).toBe(201);
    expect(redeemed.body).toMatchObject({
      user: { username: 'ada' },
      info: { name: 'coffer-cli@test', scope: 'read-only' },
    });
    planted.push(redeemed.body.token);
    const me = await anonymous.withToken(redeemed.body.token).get('/auth/me');
    expect(me.body).toMatchObject({ user: { username: 'ada' }, authenticatedBy: 'token' });
    const login = (await admin.get('/audit?action=auth.login&limit=1')).body.items[0];
    expect(login).toMatchObject({ source: 'cli', details: { method: 'sso' } });

    const elsewhere = await anonymous.get(
      `/auth/sso/start?cliRedirect=${encodeURIComponent('https://evil.example/cb')}&cliChallenge=${'a'.repeat(43)}&cliState=abcdefgh`,
    );
    expect(elsewhere.status).toBe(422);
  });

  it('never writes the client secret, a code, a token or a cookie to its output or the audit log', async () => {
    const exported = await admin.get('/audit/export');
    const everything = `${server.stdout()}\n${server.stderr()}\n${exported.text}`;
    expect(exported.status).toBe(200);
    // The provider's codes and tokens (each sign-in made a code, an access token and an ID token).
    expect(provider.issued.length).toBeGreaterThan(15);
    expect(planted.length).toBeGreaterThanOrEqual(8);
    for (const value of [...planted, ...provider.issued]) {
      expect(everything, 'a planted value was written').not.toContain(value);
    }
  });
});
