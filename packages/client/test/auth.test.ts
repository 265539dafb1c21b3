// Authentication against the real server: cookie sessions as a browser holds them (CSRF from
// the login answer and from the coffer_csrf cookie), sessions in Node, bearer tokens, scopes.
import { createClient, isCofferApiError } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedBrowser } from './support/browser.js';
import { adminPassword, cleanupServers, startCoffer, type TestCoffer } from './support/coffer-server.js';
import { recordingFetch } from './support/fake-fetch.js';

let coffer: TestCoffer;

beforeAll(async () => {
  coffer = await startCoffer();
});
afterAll(() => cleanupServers());

describe('a browser session', () => {
  it('logs in, sends the CSRF token on writes, and logs out', async () => {
    const browser = simulatedBrowser(coffer.url);
    const undo = browser.installGlobals();
    try {
      // Same origin: no baseUrl in a browser.
      const client = createClient({ fetch: browser.fetch, clientName: 'web' });
      expect(client.apiUrl).toBe('/api/v1');
      const login = await client.auth.login({ username: 'admin', password: adminPassword });
      expect(login.user.username).toBe('admin');
      expect(browser.cookies.get('coffer_session')?.httpOnly).toBe(true);

      const me = await client.auth.me();
      expect(me.authenticatedBy).toBe('session');
      expect(me.user.id).toBe(login.user.id);

      const created = await client.secrets.create({
        name: 'browser-made',
        kind: 'generic',
        values: { a: '1' },
      });
      const write = browser.requests.find((r) => r.method === 'POST' && r.url.endsWith('/secrets'))!;
      expect(write.headers['x-csrf-token']).toBe(login.csrfToken);
      expect(write.headers['x-coffer-client']).toBe('web');
      expect(write.headers.authorization).toBeUndefined();
      const read = browser.requests.find((r) => r.method === 'GET' && r.url.endsWith('/auth/me'))!;
      expect(read.headers['x-csrf-token']).toBeUndefined();

      // A page reload: a new client that never saw the login answer reads the CSRF cookie.
      const reloaded = createClient({ fetch: browser.fetch });
      await reloaded.secrets.updateMetadata(created.id, { description: 'after a reload' });
      expect((await reloaded.secrets.get(created.id)).description).toBe('after a reload');

      await reloaded.auth.logout();
      expect(browser.cookies.has('coffer_session')).toBe(false);
      const after = await client.auth.me().catch((err: unknown) => err);
      expect(isCofferApiError(after, 'unauthenticated')).toBe(true);
    } finally {
      undo();
    }
  });

  it('is refused a write without the CSRF token (the server checks, the client sends)', async () => {
    const browser = simulatedBrowser(coffer.url);
    const undo = browser.installGlobals();
    try {
      const client = createClient({ fetch: browser.fetch });
      await client.auth.login({ username: 'admin', password: adminPassword });
      // A client that cannot know the token: the cookie is hidden from it.
      const withoutCookie = createClient({ fetch: browser.fetch, csrfCookieName: 'not-the-csrf-cookie' });
      const err = await withoutCookie.secrets
        .create({ name: 'no-csrf', kind: 'generic', values: { a: '1' } })
        .catch((e: unknown) => e);
      expect(isCofferApiError(err, 'forbidden')).toBe(true);
      expect((err as Error).message).toMatch(/CSRF/);
      await client.auth.logout();
    } finally {
      undo();
    }
  });

  it('refuses a wrong password with unauthenticated', async () => {
    const client = createClient({ baseUrl: coffer.url });
    const err = await client.auth.login({ username: 'admin', password: 'not the password' }).catch((e) => e);
    expect(isCofferApiError(err, 'unauthenticated')).toBe(true);
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('not the password');
  });
});

describe('a session in Node', () => {
  it('keeps the cookies itself and sends them, with the CSRF token, until logout', async () => {
    const recording = recordingFetch();
    const client = createClient({ baseUrl: coffer.url, fetch: recording });
    await client.auth.login({ username: 'admin', password: adminPassword });
    expect((await client.auth.me()).authenticatedBy).toBe('session');
    await client.secrets.create({ name: 'node-session', kind: 'generic', values: { a: '1' } });
    const write = recording.requests.at(-1)!;
    expect(write.headers.cookie).toMatch(/coffer_session=/);
    expect(write.headers['x-csrf-token']).toBeDefined();
    await client.auth.logout();
    const err = await client.auth.me().catch((e: unknown) => e);
    expect(isCofferApiError(err, 'unauthenticated')).toBe(true);
    expect(recording.requests.at(-1)!.headers.cookie).toBeUndefined();
  });
});

describe('bearer tokens', () => {
  it('authenticate every request, and record the CLI as the source', async () => {
    const recording = recordingFetch();
    const cli = createClient({
      baseUrl: coffer.url,
      token: coffer.token,
      clientName: 'cli',
      fetch: recording,
    });
    const me = await cli.auth.me();
    expect(me.authenticatedBy).toBe('token');
    expect(me.token?.scope).toBe('read-write');
    expect(recording.requests[0]!.headers.authorization).toBe(`Bearer ${coffer.token}`);
    await cli.secrets.create({ name: 'made-by-cli', kind: 'generic', values: { a: '1' } });
    const [record] = (await coffer.admin.audit.query({ action: 'secret.create', limit: 1 })).items;
    expect(record?.source).toBe('cli');
    expect(record?.target?.name).toBe('made-by-cli');
  });

  it('a read-only token reads but cannot write', async () => {
    const { token } = await coffer.admin.tokens.create({ name: 'ro', scope: 'read-only' });
    const ro = createClient({ baseUrl: coffer.url, token });
    expect((await ro.auth.me()).token?.scope).toBe('read-only');
    await ro.secrets.list();
    const err = await ro.secrets
      .create({ name: 'ro-write', kind: 'generic', values: { a: '1' } })
      .catch((e) => e);
    expect(isCofferApiError(err, 'forbidden')).toBe(true);
  });

  it('a revoked or unknown token is unauthenticated, and the error never holds it', async () => {
    const { token, info } = await coffer.admin.tokens.create({ name: 'short-lived', scope: 'read-write' });
    const client = createClient({ baseUrl: coffer.url, token });
    await client.auth.me();
    await coffer.admin.tokens.revoke(info.id);
    const err = await client.auth.me().catch((e: unknown) => e);
    expect(isCofferApiError(err, 'unauthenticated')).toBe(true);
    expect(JSON.stringify(err)).not.toContain(token);
    expect(String((err as Error).stack)).not.toContain(token);
    expect(String(err)).not.toContain(token);
  });

  it('refuses a token with characters no token has, without quoting it', () => {
    expect(() => createClient({ baseUrl: coffer.url, token: 'cfr_bad token\n' })).toThrow(/token/);
    expect(() => createClient({ baseUrl: coffer.url, token: 'cfr_bad token\n' })).not.toThrow(/bad token/);
  });

  it('needs an http(s) baseUrl outside a browser', () => {
    expect(() => createClient({ token: coffer.token })).toThrow(/baseUrl is required/);
    expect(() => createClient({ baseUrl: '127.0.0.1:8470' })).toThrow(/must be an http\(s\) URL/);
    expect(() => createClient({ baseUrl: '/coffer' })).toThrow(/must be an http\(s\) URL/);
    expect(createClient({ baseUrl: `${coffer.url}/api/v1/` }).apiUrl).toBe(`${coffer.url}/api/v1`);
  });
});

describe('single sign-on', () => {
  it('says it is off on a server without it, and refuses a code there', async () => {
    const anonymous = createClient({ baseUrl: coffer.url });
    expect(await anonymous.auth.sso()).toEqual({
      enabled: false,
      name: null,
      startPath: null,
      passwordLogin: 'all',
    });
    const refused = await anonymous.auth
      .ssoToken({ code: 'x'.repeat(43), codeVerifier: 'v'.repeat(43) })
      .catch((err: unknown) => err);
    expect(isCofferApiError(refused, 'not_found')).toBe(true);
  });
});
