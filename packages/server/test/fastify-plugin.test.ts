// Mounting Coffer's API in an existing Fastify app: under a prefix, with the app's own
// authentication hook, without touching the app's own routes. Driven over real HTTP.
import { asUser, type Coffer, createCoffer } from '@coffer/core';
import { cofferPlugin } from '@coffer/server';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanupServers, tempDir } from './support/server-process.js';

describe('cofferPlugin in a host app', () => {
  let coffer: Coffer;
  let app: FastifyInstance;
  let base: string;
  let adminId: string;

  beforeAll(async () => {
    coffer = await createCoffer(
      { dataDir: tempDir(), adminPassword: 'plugin admin password' },
      { maintenance: false },
    );
    adminId = (await coffer.identity.login('admin', 'plugin admin password')).user.id;
    app = Fastify();
    // The host's own routes: plain text in, its own errors out.
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.post('/echo', async (request) => ({ echoed: request.body }));
    app.get('/boom', async () => {
      throw Object.assign(new Error('host error'), { statusCode: 418 });
    });
    await app.register(cofferPlugin, {
      prefix: '/admin/coffer',
      coffer,
      // The host trusts its own header (its real app would check its own session).
      authenticate: (request) => (request.headers['x-host-user'] === 'admin' ? asUser(adminId) : undefined),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await coffer?.close();
    await cleanupServers();
  });

  it('serves the API under the prefix, authenticated by the host', async () => {
    const created = await fetch(`${base}/admin/coffer/secrets`, {
      method: 'POST',
      headers: { 'x-host-user': 'admin', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from-host', kind: 'generic', values: { a: 'b' } }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toMatch(/^\/admin\/coffer\/secrets\/[0-9a-f-]{36}$/);
    const me = await (
      await fetch(`${base}/admin/coffer/auth/me`, { headers: { 'x-host-user': 'admin' } })
    ).json();
    expect(me).toMatchObject({ authenticatedBy: 'host', user: { username: 'admin' } });
    const anonymous = await fetch(`${base}/admin/coffer/secrets`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/problem\+json/);
    // The host's actor is recorded with the request's address.
    const audit = await coffer.audit.query(asUser(adminId), { action: 'secret.create', limit: 1 });
    expect(audit.items[0]).toMatchObject({ source: 'api', address: '127.0.0.1' });
  });

  it('still accepts Coffer tokens when the host hook passes', async () => {
    const { token } = await coffer.identity.createToken(asUser(adminId), {
      name: 'plugin',
      scope: 'read-only',
    });
    const listed = await fetch(`${base}/admin/coffer/secrets`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);
    expect((await listed.json()).items.map((s: { name: string }) => s.name)).toEqual(['from-host']);
  });

  it('publishes its OpenAPI document with the prefix', async () => {
    const doc = await (await fetch(`${base}/admin/coffer/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toContain('/admin/coffer/secrets/{ref}/values');
    expect(Object.keys(doc.paths).some((p) => p === '/echo')).toBe(false);
  });

  it('answers with the declared properties only, whatever else the engine’s objects carry', async () => {
    // Responses are written by serializers compiled from the route schemas: an object from the
    // engine with a property the API does not declare must not leak it, in a list or alone.
    const planted = 'planted-undeclared-value-5b1e';
    const leaky = <T extends object>(item: T) => ({
      ...item,
      sealedValue: planted,
      access: { ...(item as { access?: object }).access, dataKey: planted },
    });
    const realList = coffer.secrets.list.bind(coffer.secrets);
    const realGet = coffer.secrets.get.bind(coffer.secrets);
    const realRead = coffer.secrets.readValues.bind(coffer.secrets);
    const spies = [
      vi.spyOn(coffer.secrets, 'list').mockImplementation(async (...args) => {
        const page = await realList(...args);
        return { ...page, items: page.items.map(leaky), cursorState: planted } as typeof page;
      }),
      vi.spyOn(coffer.secrets, 'get').mockImplementation(async (...args) => leaky(await realGet(...args))),
      vi.spyOn(coffer.secrets, 'readValues').mockImplementation(async (...args) => ({
        ...(await realRead(...args)),
        plaintext: planted,
      })),
    ];
    try {
      const headers = { 'x-host-user': 'admin' };
      for (const path of ['/secrets', '/secrets/from-host', '/secrets/from-host/values?reveal=true']) {
        const response = await fetch(`${base}/admin/coffer${path}`, { headers });
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).not.toContain(planted);
        expect(text).not.toMatch(/sealedValue|dataKey|plaintext|cursorState/);
      }
      const one = await (await fetch(`${base}/admin/coffer/secrets/from-host`, { headers })).json();
      expect(one).toMatchObject({ name: 'from-host', access: { level: 'manage', basis: 'admin' } });
      expect(spies.every((spy) => spy.mock.calls.length > 0)).toBe(true);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('leaves the host’s own routes, parsers and errors alone', async () => {
    const echo = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(await echo.json()).toEqual({ echoed: 'hi' });
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(418);
    expect(boom.headers.get('content-type')).toMatch(/^application\/json/);
    expect(boom.headers.get('content-security-policy')).toBeNull();
    const unknown = await fetch(`${base}/elsewhere`);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/json/);
    // Inside the prefix, Coffer's rules: JSON bodies only.
    const text = await fetch(`${base}/admin/coffer/secrets`, {
      method: 'POST',
      headers: { 'x-host-user': 'admin', 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
  });
});
