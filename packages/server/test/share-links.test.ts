// Share links over real HTTP against the real server process: making, listing and revoking
// them with credentials, and the two public routes a recipient without an account uses, with
// their status codes, problem codes and throttle. The engine's own tests cover every dialect;
// this one runs on SQLite, whose file it edits to make a link expire without waiting.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ApiResponse } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';

const planted = {
  password: `planted-link-password-${randomBytes(8).toString('hex')}`,
  passphrase: `planted-passphrase-${randomBytes(8).toString('hex')}`,
  admin: `planted-admin-${randomBytes(8).toString('hex')}`,
};

function expectProblem(response: ApiResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: `urn:coffer:error:${code}`, status, code });
}

afterAll(() => cleanupServers());

describe('share links over HTTP', () => {
  let server: ServerProcess;
  let admin: ApiClient;
  let member: ApiClient;
  let anonymous: ApiClient;
  const keys: string[] = [];

  async function makeLink(body: Record<string, unknown> = {}, as: ApiClient = admin) {
    const made = await as.post('/secrets/mail/share-links', body);
    expect(made.status, made.text).toBe(201);
    keys.push(made.body.key);
    return made.body as { link: { id: string }; key: string; url: string; path: string };
  }

  beforeAll(async () => {
    server = await startServer({
      env: { COFFER_ADMIN_PASSWORD: planted.admin, COFFER_LOG_LEVEL: 'trace' },
    });
    const session = await ApiClient.login(server.api, 'admin', planted.admin);
    const token = await session.post('/tokens', { name: 'share-link tests', scope: 'read-write' });
    admin = session.withToken(token.body.token);
    const user = await admin.post('/users', { username: 'user-only', password: 'user only password' });
    member = await ApiClient.login(server.api, 'user-only', 'user only password');
    anonymous = new ApiClient(server.api);
    await admin.post('/secrets', {
      name: 'mail',
      kind: 'smtp',
      values: { host: 'smtp.example.com', password: planted.password },
    });
    await admin.post('/secrets/mail/shares', { granteeType: 'user', granteeId: user.body.id, level: 'use' });
  });

  it('makes a link whose URL carries the key after #, and lists it without the key', async () => {
    const made = await makeLink({ fields: ['password'], ttlSeconds: 3600 });
    expect(made.url).toBe(`${server.url}/s/${made.link.id}#${made.key}`);
    expect(made.path).toBe(`/s/${made.link.id}#${made.key}`);
    expect(made.link).toMatchObject({ fields: ['password'], maxViews: 1, views: 0, state: 'active' });
    const listed = await admin.get('/secrets/mail/share-links');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((l: { id: string }) => l.id)).toContain(made.link.id);
    expect(listed.text).not.toContain(made.key);
    expect(listed.text).not.toContain(planted.password);
  });

  it('opens once without an account or cookie, then answers 410 share_link_used', async () => {
    const made = await makeLink({ fields: ['password'] });
    const preview = await anonymous.post(`/share-links/${made.link.id}/preview`, { key: made.key });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body).toMatchObject({ secretName: 'mail', viewsLeft: 1, passphraseRequired: false });
    expect(preview.text).not.toContain(planted.password);
    const opened = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expect(opened.status, opened.text).toBe(200);
    expect(opened.headers.get('cache-control')).toBe('no-store');
    expect(opened.body).toMatchObject({ values: { password: planted.password }, viewsLeft: 0 });
    const again = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expectProblem(again, 410, 'share_link_used');
    expect(again.text).not.toContain(planted.password);
    expectProblem(
      await anonymous.post(`/share-links/${made.link.id}/preview`, { key: made.key }),
      410,
      'share_link_used',
    );
  });

  it('says 403 share_link_wrong_key for a wrong key, 404 for an unknown link, and counts no view', async () => {
    const made = await makeLink();
    const wrong = await anonymous.post(`/share-links/${made.link.id}/open`, {
      key: randomBytes(32).toString('base64url'),
    });
    expectProblem(wrong, 403, 'share_link_wrong_key');
    expectProblem(
      await anonymous.post(`/share-links/${randomBytesUuid()}/open`, { key: made.key }),
      404,
      'not_found',
    );
    expectProblem(await anonymous.post(`/share-links/${made.link.id}/open`, {}), 422, 'validation');
    const opened = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expect(opened.status).toBe(200);
  });

  it('asks for the passphrase (403 share_link_wrong_passphrase) and opens with it', async () => {
    const made = await makeLink({ passphrase: planted.passphrase, maxViews: 2 });
    const preview = await anonymous.post(`/share-links/${made.link.id}/preview`, { key: made.key });
    expect(preview.body.passphraseRequired).toBe(true);
    const missing = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expectProblem(missing, 403, 'share_link_wrong_passphrase');
    expect(missing.body.details).toEqual({ attemptsLeft: 10 });
    const opened = await anonymous.post(`/share-links/${made.link.id}/open`, {
      key: made.key,
      passphrase: planted.passphrase,
    });
    expect(opened.status, opened.text).toBe(200);
    expect(opened.body.viewsLeft).toBe(1);
  });

  it('answers 410 share_link_expired once the time to live ran out', async () => {
    const made = await makeLink();
    const db = new Database(join(server.dataDir!, 'coffer.db'));
    try {
      db.prepare('update share_links set expires_at = ? where id = ?').run(
        new Date(Date.now() - 1000).toISOString(),
        made.link.id,
      );
    } finally {
      db.close();
    }
    const expired = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expectProblem(expired, 410, 'share_link_expired');
    expect(expired.body.detail).toMatch(/expired/);
  });

  it('revokes (creator or manager), then answers 410 share_link_revoked', async () => {
    const made = await makeLink();
    expectProblem(await anonymous.delete(`/share-links/${made.link.id}`), 401, 'unauthenticated');
    expectProblem(await member.delete(`/share-links/${made.link.id}`), 403, 'forbidden');
    const revoked = await admin.delete(`/share-links/${made.link.id}`);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ state: 'revoked', revokeReason: 'revoked' });
    const refused = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expectProblem(refused, 410, 'share_link_revoked');
    expect(refused.body.details).toMatchObject({ reason: 'revoked' });
  });

  it('refuses use-only holders, bad settings, and cookie requests without the CSRF token', async () => {
    expectProblem(await member.post('/secrets/mail/share-links', {}), 403, 'forbidden');
    expectProblem(await admin.post('/secrets/mail/share-links', { ttlSeconds: 60 }), 422, 'validation');
    expectProblem(await admin.post('/secrets/mail/share-links', { maxViews: 101 }), 422, 'validation');
    expectProblem(await admin.post('/secrets/mail/share-links', { fields: ['nope'] }), 422, 'validation');
    const noCsrf = new ApiClient(server.api);
    for (const [k, v] of member.cookies) noCsrf.cookies.set(k, v);
    expectProblem(await noCsrf.post('/secrets/mail/share-links', {}), 403, 'forbidden');
    expect((await admin.post('/secrets/mail/share-links')).status).toBe(201);
  });

  it('publishes the routes in the OpenAPI document, the public ones without security', async () => {
    const document = (await anonymous.get('/openapi.json')).body;
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/secrets/{ref}/share-links',
        '/api/v1/share-links/{id}',
        '/api/v1/share-links/{id}/preview',
        '/api/v1/share-links/{id}/open',
      ]),
    );
    expect(document.paths['/api/v1/share-links/{id}/open'].post.security).toEqual([]);
    expect(document.paths['/api/v1/secrets/{ref}/share-links'].post.security).toBeUndefined();
  });

  it('throttles guesses at a link: after five wrong keys even the right one waits (429)', async () => {
    const made = await makeLink();
    for (let i = 0; i < 5; i++) {
      const wrong = await anonymous.post(`/share-links/${made.link.id}/open`, {
        key: randomBytes(32).toString('base64url'),
      });
      expectProblem(wrong, 403, 'share_link_wrong_key');
    }
    const locked = await anonymous.post(`/share-links/${made.link.id}/open`, { key: made.key });
    expectProblem(locked, 429, 'rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // nothing was counted: the link is still open for its holder
    const listed = await admin.get('/secrets/mail/share-links');
    expect(listed.body.items.find((l: { id: string }) => l.id === made.link.id)).toMatchObject({
      state: 'active',
      views: 0,
    });
  });

  it('records views and failed views in the audit log, and never a value or a key anywhere', async () => {
    const views = await admin.get('/audit?action=share_link.view&limit=1000');
    const outcomes = views.body.items.map((r: { outcome: string }) => r.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(['success', 'failure', 'denied']));
    expect(views.body.items[0]).toMatchObject({ actor: { type: 'anonymous' }, address: expect.any(String) });
    const created = await admin.get('/audit?action=share_link.create');
    expect(created.body.items.length).toBeGreaterThan(5);
    const exported = await admin.get('/audit/export');
    const haystacks = { stdout: server.stdout(), stderr: server.stderr(), audit: exported.text };
    expect(server.stdout()).toContain('/share-links/:id/open');
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [which, value] of Object.entries(planted)) {
        expect(text.includes(value), `${which} in ${where}`).toBe(false);
      }
      for (const key of keys) expect(text.includes(key), `a link key in ${where}`).toBe(false);
    }
  });
});

function randomBytesUuid(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
