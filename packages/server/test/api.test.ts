// The REST API over real HTTP on loopback, against the real server process, on every SQL
// dialect. One server per dialect; the tests in it run in order and build on each other.
import { randomBytes } from 'node:crypto';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ApiResponse } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';

const mask = '••••••••';

/** Distinctive values planted in requests; none may ever appear in the server's output. */
function planter() {
  const planted: string[] = [];
  return {
    planted,
    plant(label: string): string {
      const value = `planted-${label}-${randomBytes(8).toString('hex')}`;
      planted.push(value);
      return value;
    },
    add(value: string) {
      planted.push(value);
    },
  };
}

function expectProblem(response: ApiResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: `urn:coffer:error:${code}`, status, code });
  expect(typeof response.body.title).toBe('string');
  expect(typeof response.body.detail).toBe('string');
}

afterAll(() => cleanupServers());

await describeEachDialect('server API', (dialect) => {
  const { planted, plant, add } = planter();
  const adminPassword = plant('admin-password');
  let database: TestDatabase | undefined;
  let server: ServerProcess;
  let admin: ApiClient;
  const alicePassword = plant('alice-password');
  const bobPassword = plant('bob-password');
  let alice: ApiClient;
  let aliceId: string;
  let bob: ApiClient;
  let bobId: string;
  let opsGroupId: string;

  beforeAll(async () => {
    database = dialect === 'sqlite' ? undefined : await createTestDatabase(dialect);
    server = await startServer({
      env: {
        COFFER_ADMIN_PASSWORD: adminPassword,
        COFFER_LOG_LEVEL: 'trace',
        COFFER_LOGIN_MAX_FAILURES: '3',
        COFFER_LOGIN_LOCKOUT_SECONDS: '60',
        ...(database === undefined ? {} : { COFFER_DATABASE_URL: database.url }),
      },
    });
    admin = await ApiClient.login(server.api, 'admin', adminPassword);
    add(admin.cookies.get('coffer_session')!);
    add(admin.csrf!);
    expect((await admin.get('/auth/me')).body.user.username).toBe('admin');
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  describe('authentication', () => {
    it('sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie', async () => {
      const client = new ApiClient(server.api);
      const response = await client.post('/auth/login', { username: 'admin', password: adminPassword });
      expect(response.status).toBe(200);
      const cookies = response.headers.getSetCookie();
      const session = cookies.find((c) => c.startsWith('coffer_session='))!;
      const csrf = cookies.find((c) => c.startsWith('coffer_csrf='))!;
      expect(session).toMatch(/HttpOnly/i);
      expect(session).toMatch(/SameSite=Strict/i);
      expect(session).not.toMatch(/Secure/i); // plain HTTP here; see the TLS test
      expect(csrf).not.toMatch(/HttpOnly/i);
      expect(response.body.csrfToken).toBe(client.cookies.get('coffer_csrf'));
      expect(response.body.user).toMatchObject({ username: 'admin', role: 'admin' });
      add(client.cookies.get('coffer_session')!);
      add(response.body.csrfToken);
      await client.post('/auth/logout');
    });

    it('refuses state-changing cookie requests without the CSRF token', async () => {
      const noCsrf = new ApiClient(server.api);
      for (const [k, v] of admin.cookies) noCsrf.cookies.set(k, v);
      expect((await noCsrf.get('/auth/me')).status).toBe(200);
      const refused = await noCsrf.post('/groups', { name: 'csrf-test' });
      expectProblem(refused, 403, 'forbidden');
      noCsrf.csrf = 'wrong';
      expectProblem(await noCsrf.post('/groups', { name: 'csrf-test' }), 403, 'forbidden');
      expect((await admin.get('/groups?query=csrf-test')).body.items).toEqual([]);
    });

    it('answers a wrong password and an unknown user alike, then locks out (429)', async () => {
      const anonymous = new ApiClient(server.api);
      const wrong = await anonymous.post('/auth/login', { username: 'admin', password: plant('wrong') });
      const unknown = await anonymous.post('/auth/login', {
        username: 'nobody-here',
        password: plant('wrong'),
      });
      expectProblem(wrong, 401, 'unauthenticated');
      expectProblem(unknown, 401, 'unauthenticated');
      expect(wrong.body.detail).toBe(unknown.body.detail);
      expect(wrong.headers.get('www-authenticate')).toBe(unknown.headers.get('www-authenticate'));
      // One failure each so far; the third locks both names, real or not.
      for (const username of ['admin', 'nobody-here']) {
        for (let i = 0; i < 2; i++)
          await anonymous.post('/auth/login', { username, password: plant('wrong') });
        const locked = await anonymous.post('/auth/login', { username, password: adminPassword });
        expectProblem(locked, 429, 'rate_limited');
        expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // The admin's existing session is unaffected.
      expect((await admin.get('/auth/me')).status).toBe(200);
    });

    it('lets no burst of parallel guesses past the lockout', async () => {
      const anonymous = new ApiClient(server.api);
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          anonymous.post('/auth/login', { username: 'parallel-guess', password: plant('wrong') }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      // COFFER_LOGIN_MAX_FAILURES is 3: at most three guesses are checked, the rest wait.
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(9);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    });

    it('401s without credentials, with a malformed bearer, and with an unknown token', async () => {
      const anonymous = new ApiClient(server.api);
      expectProblem(await anonymous.get('/secrets'), 401, 'unauthenticated');
      expectProblem(
        await anonymous.get('/secrets', { headers: { authorization: 'Basic abc' } }),
        401,
        'unauthenticated',
      );
      expectProblem(
        await anonymous.withToken(`cfr_${'x'.repeat(43)}`).get('/secrets'),
        401,
        'unauthenticated',
      );
    });

    it('creates people, a group and a service account', async () => {
      const a = await admin.post('/users', {
        username: 'alice',
        password: alicePassword,
        email: 'alice@example.com',
      });
      expect(a.status).toBe(201);
      aliceId = a.body.id;
      const b = await admin.post('/users', { username: 'bob', password: bobPassword });
      bobId = b.body.id;
      expectProblem(
        await admin.post('/users', { username: 'bob', password: bobPassword }),
        409,
        'already_exists',
      );
      const ops = await admin.post('/groups', { name: 'ops', description: 'Operations' });
      expect(ops.status).toBe(201);
      opsGroupId = ops.body.id;
      expect((await admin.put(`/groups/${opsGroupId}/members/${bobId}`)).status).toBe(204);
      expect((await admin.put(`/groups/${opsGroupId}/members/${bobId}`)).status).toBe(204); // idempotent
      alice = await ApiClient.login(server.api, 'alice', alicePassword);
      bob = await ApiClient.login(server.api, 'bob', bobPassword);
      for (const c of [alice, bob]) {
        add(c.cookies.get('coffer_session')!);
        add(c.csrf!);
      }
      expect((await alice.get('/auth/me')).body).toMatchObject({
        authenticatedBy: 'session',
        user: { username: 'alice' },
      });
      // Members cannot administer.
      expectProblem(
        await alice.post('/users', { username: 'mallory', password: plant('m') }),
        403,
        'forbidden',
      );
    });

    it('ends a session at once on logout and on revocation', async () => {
      const second = await ApiClient.login(server.api, 'alice', alicePassword);
      const stolen = new ApiClient(server.api);
      for (const [k, v] of second.cookies) stolen.cookies.set(k, v);
      stolen.csrf = second.csrf;
      expect((await second.post('/auth/logout')).status).toBe(204);
      expect(second.cookies.has('coffer_session')).toBe(false);
      expectProblem(await stolen.get('/auth/me'), 401, 'unauthenticated');

      const third = await ApiClient.login(server.api, 'alice', alicePassword);
      const ended = await admin.delete(`/users/${aliceId}/sessions`);
      expect(ended.status).toBe(200);
      expect(ended.body.ended).toBeGreaterThanOrEqual(2);
      expectProblem(await third.get('/auth/me'), 401, 'unauthenticated');
      alice = await ApiClient.login(server.api, 'alice', alicePassword);
      add(alice.cookies.get('coffer_session')!);
      add(alice.csrf!);
    });
  });

  describe('tokens and scopes', () => {
    let botToken: string;
    let botTokenId: string;

    it('issues tokens once and lists only their prefix', async () => {
      const bot = await admin.post('/users', { username: 'ci-bot', type: 'service_account' });
      expect(bot.body).toMatchObject({ type: 'service_account', hasPassword: false });
      const created = await admin.post('/tokens', {
        userId: bot.body.id,
        name: 'deploy',
        scope: 'read-only',
      });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^cfr_/);
      botToken = created.body.token;
      botTokenId = created.body.info.id;
      add(botToken);
      const listed = await admin.get(`/tokens?userId=${bot.body.id}`);
      expect(listed.body.items).toHaveLength(1);
      expect(listed.text).not.toContain(botToken);
      expect(listed.body.items[0].prefix).toBe(botToken.slice(0, 12));
    });

    it('lets a read-only token read but not write', async () => {
      const client = new ApiClient(server.api, botToken);
      expect((await client.get('/secrets')).status).toBe(200);
      const me = await client.get('/auth/me');
      expect(me.body).toMatchObject({
        authenticatedBy: 'token',
        token: { id: botTokenId, scope: 'read-only' },
      });
      expectProblem(
        await client.post('/secrets', { name: 'nope', kind: 'generic', values: { a: 'b' } }),
        403,
        'forbidden',
      );
    });

    it('refuses a revoked token on the very next request', async () => {
      const own = await alice.post('/tokens', { name: 'laptop', scope: 'read-write' });
      add(own.body.token);
      const client = new ApiClient(server.api, own.body.token);
      expect((await client.get('/secrets')).status).toBe(200);
      expect((await alice.delete(`/tokens/${own.body.info.id}`)).body.state).toBe('revoked');
      expectProblem(await client.get('/secrets'), 401, 'unauthenticated');
    });
  });

  describe('secrets', () => {
    let smtpId: string;
    const smtpPassword = plant('smtp-password');

    it('creates a secret: 201, ETag v1, Location', async () => {
      const created = await alice.post('/secrets', {
        name: 'mail',
        kind: 'smtp',
        description: 'Outgoing mail',
        labels: { env: 'prod' },
        values: { host: 'smtp.example.com', username: 'mailer', password: smtpPassword },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.headers.get('etag')).toBe('"v1-r1"');
      expect(created.headers.get('location')).toBe(`/api/v1/secrets/${created.body.id}`);
      expect(created.text).not.toContain(smtpPassword);
      smtpId = created.body.id;
      expect(created.body).toMatchObject({
        name: 'mail',
        kind: 'smtp',
        currentVersion: 1,
        labels: { env: 'prod' },
      });
    });

    it('rejects bad input with field-level issues and unknown fields', async () => {
      const bad = await alice.post('/secrets', { name: 'bad name!', kind: 'smtp', values: { port: 'x' } });
      expectProblem(bad, 422, 'validation');
      const paths = bad.body.issues.map((i: { path: string }) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['name', 'values.host', 'values.port']));
      const unknown = await alice.post('/secrets', {
        name: 'x',
        kind: 'generic',
        values: { a: 'b' },
        extra: 1,
      });
      expectProblem(unknown, 422, 'validation');
      expect(unknown.body.issues[0].message).toContain('extra');
      expectProblem(
        await alice.post('/secrets', { name: 'mail', kind: 'generic', values: { a: 'b' } }),
        409,
        'already_exists',
      );
      const notJson = await alice.post('/secrets', undefined, {
        rawBody: '{"name": ',
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(notJson, 400, 'validation');
      const form = await alice.post('/secrets', undefined, {
        rawBody: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      // Under the body limit, over the engine's limit on one secret's values (1 MiB).
      const blobs = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`blob${i}`, 'x'.repeat(60_000)]),
      );
      const tooBig = await alice.post('/secrets', { name: 'huge', kind: 'generic', values: blobs });
      expectProblem(tooBig, 413, 'payload_too_large');
      // Over the body limit (2 MiB): refused on the declared length, before the body is read.
      expect(await alice.declareBody('POST', '/secrets', 3 * 1024 * 1024, 'application/json')).toBe(413);
    });

    it('reads metadata and values by id or name, masked unless revealed, with an ETag', async () => {
      const byName = await alice.get('/secrets/mail');
      expect(byName.body.id).toBe(smtpId);
      expect(byName.headers.get('etag')).toBe('"v1-r1"');
      const masked = await alice.get(`/secrets/${smtpId}/values`);
      expect(masked.body).toMatchObject({ revealed: false, maskedFields: ['password'], version: 1 });
      expect(masked.body.values.password).toBe(mask);
      expect(masked.text).not.toContain(smtpPassword);
      const revealed = await alice.get('/secrets/mail/values?reveal=true');
      expect(revealed.body.values.password).toBe(smtpPassword);
      expect(revealed.headers.get('etag')).toBe('"v1"');
      expect(revealed.headers.get('cache-control')).toBe('no-store');
      expectProblem(await alice.get('/secrets/mail/values?reveal=maybe'), 422, 'validation');
      expectProblem(await alice.get('/secrets/no-such-secret'), 404, 'not_found');
    });

    it('answers If-None-Match with 304 while the values version is current', async () => {
      const created = await alice.post('/secrets', {
        name: 'etag-probe',
        kind: 'generic',
        values: { token: plant('etag-probe-token') },
      });
      expect(created.status, created.text).toBe(201);
      const first = await alice.get('/secrets/etag-probe/values?reveal=true');
      const tag = first.headers.get('etag')!;
      expect(tag).toBe('"v1"');
      const unchanged = await alice.get('/secrets/etag-probe/values?reveal=true', {
        headers: { 'if-none-match': `W/"v999", ${tag}` },
      });
      expect(unchanged.status, unchanged.text).toBe(304);
      expect(unchanged.text).toBe('');
      expect(unchanged.headers.get('etag')).toBe(tag);
      // The access check runs first: a guessed tag gets nobody a 304.
      expectProblem(
        await bob.get('/secrets/etag-probe/values?reveal=true', { headers: { 'if-none-match': tag } }),
        404,
        'not_found',
      );
      const written = await alice.patch('/secrets/etag-probe/values', { values: { token: 'rotated' } });
      expect(written.status, written.text).toBe(200);
      const changed = await alice.get('/secrets/etag-probe/values?reveal=true', {
        headers: { 'if-none-match': tag },
      });
      expect(changed.status).toBe(200);
      expect(changed.body.values.token).toBe('rotated');
      expect(changed.headers.get('etag')).toBe('"v2"');
    });

    it('writes conditionally with If-Match: 412 on a stale version', async () => {
      const v2 = await alice.patch(
        '/secrets/mail/values',
        { values: { port: 2525 } },
        { headers: { 'if-match': '"v1"' } },
      );
      expect(v2.status, v2.text).toBe(200);
      expect(v2.headers.get('etag')).toBe('"v2"');
      const stale = await alice.patch(
        '/secrets/mail/values',
        { values: { port: 25 } },
        { headers: { 'if-match': '"v1"' } },
      );
      expectProblem(stale, 412, 'version_conflict');
      expect(stale.body.details).toMatchObject({ expectedVersion: 1, currentVersion: 2 });
      expectProblem(
        await alice.patch(
          '/secrets/mail/values',
          { values: { port: 25 } },
          { headers: { 'if-match': 'v2' } },
        ),
        400,
        'validation',
      );
      const staleMeta = await alice.patch(
        '/secrets/mail',
        { description: 'x' },
        { headers: { 'if-match': '"v1"' } },
      );
      expectProblem(staleMeta, 412, 'version_conflict');
      const staleRename = await alice.post(
        '/secrets/mail/rename',
        { newName: 'x' },
        { headers: { 'if-match': '"v1"' } },
      );
      expectProblem(staleRename, 412, 'version_conflict');
      const staleRollback = await alice.post(
        '/secrets/mail/rollback',
        { toVersion: 1 },
        { headers: { 'if-match': '"v1"' } },
      );
      expectProblem(staleRollback, 412, 'version_conflict');
      // Sending the mask back keeps the stored password.
      const kept = await alice.patch(
        '/secrets/mail/values',
        { values: { password: mask, port: 465 } },
        { headers: { 'if-match': '"v2"' } },
      );
      expect(kept.body.currentVersion).toBe(3);
      expect((await alice.get('/secrets/mail/values?reveal=true')).body.values).toMatchObject({
        password: smtpPassword,
        port: 465,
      });
    });

    it('lists versions newest first, reads an old one, and rolls back', async () => {
      const versions = await alice.get('/secrets/mail/versions?limit=2');
      expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([3, 2]);
      const rest = await alice.get(`/secrets/mail/versions?limit=2&cursor=${versions.body.nextCursor}`);
      expect(rest.body).toMatchObject({ items: [{ version: 1 }], nextCursor: null });
      const v1 = await alice.get('/secrets/mail/values?version=1&reveal=true');
      expect(v1.body.values.port).toBe(587);
      const rolled = await alice.post(
        '/secrets/mail/rollback',
        { toVersion: 1 },
        { headers: { 'if-match': '"v3"' } },
      );
      expect(rolled.body.currentVersion).toBe(4);
      expect((await alice.get('/secrets/mail/values')).body.values.port).toBe(587);
    });

    it('changes metadata and renames', async () => {
      const meta = await alice.patch('/secrets/mail', {
        description: 'Mail relay',
        labels: { env: 'staging' },
      });
      expect(meta.body).toMatchObject({ description: 'Mail relay', labels: { env: 'staging' } });
      expectProblem(await alice.patch('/secrets/mail', {}), 422, 'validation');
      // Two editors read the same ETag; the second edit is refused instead of silently winning.
      const tag = (await alice.get('/secrets/mail')).headers.get('etag')!;
      expect(tag).toMatch(/^"v4-r\d+"$/);
      const first = await alice.patch(
        '/secrets/mail',
        { labels: { env: 'staging', team: 'a' } },
        { headers: { 'if-match': tag } },
      );
      expect(first.status, first.text).toBe(200);
      expect(first.headers.get('etag')).not.toBe(tag);
      const second = await alice.patch(
        '/secrets/mail',
        { labels: { team: 'b' } },
        { headers: { 'if-match': tag } },
      );
      expectProblem(second, 412, 'version_conflict');
      expect(second.body.details).toMatchObject({ currentVersion: 4 });
      expectProblem(
        await alice.post('/secrets/mail/rename', { newName: 'mail-x' }, { headers: { 'if-match': tag } }),
        412,
        'version_conflict',
      );
      expect((await alice.get('/secrets/mail')).body.labels).toEqual({ env: 'staging', team: 'a' });
      const renamed = await alice.post(
        '/secrets/mail/rename',
        { newName: 'mail-relay' },
        { headers: { 'if-match': '"v4"' } },
      );
      expect(renamed.body.name).toBe('mail-relay');
      expect((await alice.get(`/secrets/${smtpId}`)).body.name).toBe('mail-relay');
    });

    it('pages through lists with cursors', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await alice.post('/secrets', {
          name: `page-${i}`,
          kind: 'generic',
          values: { v: plant(`page-${i}`) },
        });
        expect(r.status).toBe(201);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: ApiResponse = await alice.get(
          `/secrets?namePrefix=page-&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((s: { name: string }) => s.name));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
      expectProblem(await alice.get('/secrets?cursor=not-a-cursor'), 422, 'validation');
      expectProblem(await alice.get('/secrets?limit=0'), 422, 'validation');
      expectProblem(await alice.get('/secrets?limit=5000'), 422, 'validation');
      const labelled = await alice.get('/secrets?label=env=staging');
      expect(labelled.body.items.map((s: { name: string }) => s.name)).toEqual(['mail-relay']);
    });

    it('creates several secrets in one request, answering each on its own', async () => {
      const token = plant('batch-token');
      const batch = await alice.post('/secrets/batch', {
        secrets: [
          { name: 'batch-ok', kind: 'api-token', values: { token } },
          { name: 'page-0', kind: 'generic', values: { a: plant('batch-dup') } },
          { name: 'batch-bad', kind: 'smtp', values: { port: 'x' } },
        ],
      });
      expect(batch.status, batch.text).toBe(200);
      expect(batch.text).not.toContain(token);
      const [ok, duplicate, invalid] = batch.body.results;
      expect(ok).toMatchObject({
        name: 'batch-ok',
        created: true,
        secret: { name: 'batch-ok', currentVersion: 1 },
      });
      expect(duplicate).toMatchObject({
        name: 'page-0',
        created: false,
        error: { code: 'already_exists', status: 409 },
      });
      expect(invalid).toMatchObject({ name: 'batch-bad', created: false, error: { code: 'validation' } });
      expect(invalid.error.issues.map((i: { path: string }) => i.path)).toContain('values.host');
      // each one as a single create: its values, its audit record; the failed ones left nothing
      const values = await alice.get(`/secrets/${ok.secret.id}/values?reveal=true`);
      expect(values.body.values.token).toBe(token);
      expectProblem(await alice.get('/secrets/batch-bad'), 404, 'not_found');
      const audit = await admin.get(`/audit?action=secret.create&targetId=${ok.secret.id}`);
      expect(audit.body.items).toHaveLength(1);
      // a read-only token may create none of them
      const readOnlyToken = await alice.post('/tokens', { name: 'batch-reader', scope: 'read-only' });
      add(readOnlyToken.body.token);
      const readOnly = await new ApiClient(server.api, readOnlyToken.body.token).post('/secrets/batch', {
        secrets: [{ name: 'batch-ro', kind: 'generic', values: { a: 'b' } }],
      });
      expect(readOnly.body.results[0]).toMatchObject({ created: false, error: { code: 'forbidden' } });
      // a request the server cannot take as a whole is refused as a whole
      const tooMany = Array.from({ length: 101 }, (_, i) => ({
        name: `n${i}`,
        kind: 'generic',
        values: { a: 'b' },
      }));
      expectProblem(await alice.post('/secrets/batch', { secrets: tooMany }), 422, 'validation');
      expectProblem(await alice.post('/secrets/batch', { secrets: [] }), 422, 'validation');
    });

    it('deletes to the trash, restores, purges', async () => {
      // A delete conditional on a stale ETag is refused and deletes nothing.
      const read = await alice.get('/secrets/page-0');
      await alice.patch('/secrets/page-0', { description: 'changed meanwhile' });
      const stale = await alice.delete('/secrets/page-0', {
        headers: { 'if-match': read.headers.get('etag')! },
      });
      expectProblem(stale, 412, 'version_conflict');
      expect((await alice.get('/secrets/page-0')).body.deletedAt).toBeNull();
      const current = (await alice.get('/secrets/page-0')).headers.get('etag')!;
      const deleted = await alice.delete('/secrets/page-0', { headers: { 'if-match': current } });
      expect(deleted.status, deleted.text).toBe(200);
      expect(deleted.body.deletedAt).not.toBeNull();
      expectProblem(await alice.get('/secrets/page-0/values'), 404, 'not_found');
      const trash = await alice.get('/secrets?state=deleted');
      expect(trash.body.items.map((s: { name: string }) => s.name)).toContain('page-0');
      const restored = await alice.post(`/secrets/${deleted.body.id}/restore`);
      expect(restored.body.deletedAt).toBeNull();
      expect((await alice.post(`/secrets/${deleted.body.id}/purge`)).status).toBe(204);
      expectProblem(await alice.get(`/secrets/${deleted.body.id}`), 404, 'not_found');
    });

    it('deletes all only with the confirmation (428 without)', async () => {
      const scratch = await bob.post('/secrets', {
        name: 'bob-scratch',
        kind: 'generic',
        values: { a: plant('bob') },
      });
      expect(scratch.status).toBe(201);
      expectProblem(await bob.post('/secrets/delete-all', {}), 428, 'precondition_required');
      const done = await bob.post('/secrets/delete-all', { confirm: 'delete-all' });
      expect(done.body).toEqual({ deleted: 1 });
      expect((await alice.get('/secrets/mail-relay')).status).toBe(200);
    });
  });

  describe('shares', () => {
    it('shares with a user (read) and a group (use); use never reveals', async () => {
      const toAlice = await admin.post('/secrets', {
        name: 'db-main',
        kind: 'generic',
        values: { url: plant('db-url') },
      });
      const id = toAlice.body.id;
      expectProblem(await alice.get(`/secrets/${id}`), 404, 'not_found');
      const share = await admin.post(`/secrets/${id}/shares`, { granteeType: 'user', granteeId: aliceId });
      expect(share.body).toMatchObject({ level: 'read', granteeName: 'alice' });
      expect((await alice.get(`/secrets/${id}/values?reveal=true`)).status).toBe(200);
      expectProblem(await alice.patch(`/secrets/${id}/values`, { values: { url: 'x' } }), 403, 'forbidden');

      const group = await admin.post(`/secrets/${id}/shares`, {
        granteeType: 'group',
        granteeId: opsGroupId,
      });
      expect(group.body.level).toBe('use');
      // Usable, not visible: the secret is in no list of bob's, and its metadata stays hidden.
      expect((await bob.get('/secrets')).body.items.map((s: { id: string }) => s.id)).not.toContain(id);
      expectProblem(await bob.get('/secrets?access=use'), 422, 'validation');
      expectProblem(await bob.get(`/secrets/${id}`), 403, 'forbidden');
      expectProblem(await bob.get(`/secrets/${id}/values`), 403, 'forbidden');
      // A use-level member can ask for a connection test; generic secrets have none.
      const test = await bob.post(`/secrets/${id}/test`);
      expectProblem(test, 422, 'unsupported');
      expect(test.body.detail).toContain('generic');

      const listed = await admin.get(`/secrets/${id}/shares?limit=1`);
      expect(listed.body.items[0]).toMatchObject({ granteeType: 'group', granteeName: 'ops' });
      const more = await admin.get(`/secrets/${id}/shares?limit=1&cursor=${listed.body.nextCursor}`);
      expect(more.body).toMatchObject({
        items: [{ granteeType: 'user', granteeName: 'alice' }],
        nextCursor: null,
      });
      expect((await admin.delete(`/secrets/${id}/shares/user/${aliceId}`)).status).toBe(204);
      expectProblem(await alice.get(`/secrets/${id}`), 404, 'not_found');
      expectProblem(await admin.delete(`/secrets/${id}/shares/user/${aliceId}`), 404, 'not_found');
    });
  });

  describe('users, groups, kinds', () => {
    it('lists and pages users; members see no one else’s email', async () => {
      const page = await admin.get('/users?limit=2');
      expect(page.body.items).toHaveLength(2);
      expect(page.body.nextCursor).not.toBeNull();
      const asBob = await bob.get(`/users/${aliceId}`);
      expect(asBob.body.username).toBe('alice');
      expect(asBob.body.email).toBeUndefined();
      expect((await admin.get(`/users/${aliceId}`)).body.email).toBe('alice@example.com');
      const self = await bob.patch(`/users/${bobId}`, { displayName: 'Bob B.' });
      expect(self.body.displayName).toBe('Bob B.');
      expectProblem(await bob.patch(`/users/${bobId}`, { role: 'admin' }), 403, 'forbidden');
      expectProblem(await bob.get('/users/00000000-0000-0000-0000-000000000000'), 404, 'not_found');
    });

    it('changes a password, which ends the sessions', async () => {
      const newPassword = plant('bob-new-password');
      const bad = await bob.post(`/users/${bobId}/password`, { newPassword, currentPassword: plant('nope') });
      expectProblem(bad, 403, 'forbidden');
      expect(
        (await bob.post(`/users/${bobId}/password`, { newPassword, currentPassword: bobPassword })).status,
      ).toBe(204);
      expectProblem(await bob.get('/auth/me'), 401, 'unauthenticated');
      bob = await ApiClient.login(server.api, 'bob', newPassword);
      add(bob.cookies.get('coffer_session')!);
      add(bob.csrf!);
    });

    it('manages groups and members', async () => {
      const members = await admin.get(`/groups/${opsGroupId}/members`);
      expect(members.body.items.map((m: { username: string }) => m.username)).toEqual(['bob']);
      const group = await bob.get(`/groups/${opsGroupId}`);
      expect(group.body.members).toHaveLength(1);
      expect((await admin.patch(`/groups/${opsGroupId}`, { description: 'Ops team' })).body.description).toBe(
        'Ops team',
      );
      const temp = await admin.post('/groups', { name: 'temp' });
      expect((await admin.delete(`/groups/${temp.body.id}`)).status).toBe(204);
      const system = (await admin.get('/groups?query=system')).body.items[0];
      expectProblem(await admin.delete(`/groups/${system.id}`), 409, 'conflict');
    });

    it('publishes kinds with their JSON Schemas', async () => {
      const kinds = await bob.get('/kinds?limit=100');
      const ids = kinds.body.items.map((k: { id: string }) => k.id);
      expect(ids).toEqual(expect.arrayContaining(['smtp', 'database', 'generic', 'api-token']));
      const smtp = await bob.get('/kinds/smtp');
      expect(smtp.body.jsonSchema.properties.password['x-coffer-secret']).toBe(true);
      expect(smtp.body.fields.find((f: { name: string }) => f.name === 'password').secret).toBe(true);
      // the UI offers "Test connection" only where a tester exists
      expect(smtp.body.connectionTest).toBe(true);
      expect((await bob.get('/kinds/generic')).body.connectionTest).toBe(false);
      const first = await bob.get('/kinds?limit=3');
      const second = await bob.get(`/kinds?limit=3&cursor=${first.body.nextCursor}`);
      expect(second.body.items[0].id > first.body.items[2].id).toBe(true);
      expectProblem(await bob.get('/kinds/nope'), 404, 'not_found');
    });
  });

  describe('audit, keyring, backends', () => {
    it('queries, verifies and exports the audit log (admins only)', async () => {
      const reveals = await admin.get('/audit?action=secret.reveal&limit=2');
      expect(reveals.status).toBe(200);
      expect(reveals.body.items).toHaveLength(2);
      expect(reveals.body.items[0]).toMatchObject({
        action: 'secret.reveal',
        source: 'web',
        address: expect.any(String),
      });
      expect(reveals.body.nextCursor).not.toBeNull();
      const tokenUse = await admin.get('/audit?action=token.revoke');
      expect(tokenUse.body.items.length).toBeGreaterThan(0);
      expectProblem(await admin.get('/audit?action=nonsense'), 422, 'validation');
      expectProblem(await alice.get('/audit'), 403, 'forbidden');
      const verified = await admin.post('/audit/verify');
      expect(verified.body).toMatchObject({ ok: true });
      const exported = await admin.get('/audit/export?action=secret.create');
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toMatch(/application\/x-ndjson/);
      const lines = exported.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.length).toBeGreaterThan(3);
      expect(lines.every((l) => l.action === 'secret.create')).toBe(true);
      expectProblem(await alice.get('/audit/export'), 403, 'forbidden');
    });

    it('shows keyring status and rotates (admins only)', async () => {
      const before = await admin.get('/keyring');
      expect(before.body).toMatchObject({ canRotate: true, keys: [{ current: true }] });
      expect(before.text).not.toMatch(/"key":/);
      expectProblem(await alice.get('/keyring'), 403, 'forbidden');
      expectProblem(await alice.post('/keyring/rotate'), 403, 'forbidden');
      const rotated = await admin.post('/keyring/rotate');
      expect(rotated.body.current).toBe(true);
      const after = await admin.get('/keyring');
      expect(after.body.currentKeyId).toBe(rotated.body.id);
      expect(after.body.keys).toHaveLength(2);
      // Values sealed under the old key still open.
      expect((await alice.get('/secrets/mail-relay/values?reveal=true')).status).toBe(200);
    });

    it('describes backends and migration (admins only)', async () => {
      const backends = await admin.get('/backends');
      if (backends.status === 422) {
        // The engine does not offer backend administration yet.
        expectProblem(backends, 422, 'unsupported');
        expectProblem(await admin.get('/migration'), 422, 'unsupported');
        return;
      }
      expect(backends.status, backends.text).toBe(200);
      expect(backends.body.items.find((b: { name: string }) => b.name === 'sql')).toMatchObject({
        active: true,
      });
      expect((await admin.get('/backends/sql')).body.name).toBe('sql');
      expectProblem(await admin.get('/backends/nope'), 404, 'not_found');
      expect(
        (await admin.get('/backends/definitions')).body.items.map((d: { id: string }) => d.id),
      ).toContain('sql');
      expect((await admin.get('/migration')).body.state).toMatch(/idle|done/);
      expectProblem(await alice.get('/backends'), 403, 'forbidden');
      expectProblem(await alice.get('/migration'), 403, 'forbidden');
    });
  });

  describe('service endpoints', () => {
    it('serves /healthz, /readyz and /metrics', async () => {
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        checks: { database: 'ok', keyring: 'ok' },
      });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(
        /coffer_http_requests_total\{method="GET",route="\/api\/v1\/secrets\/:ref\/values",status="200"\} \d+/,
      );
      expect(metrics).toContain('coffer_http_request_duration_seconds_bucket');
      expect(metrics).toMatch(/coffer_secrets\{state="live",backend="sql"\} \d+/);
      expect(metrics).toContain('coffer_migration_pending_secrets 0');
      expect(metrics).toContain('coffer_process_resident_memory_bytes');
      if (dialect !== 'sqlite') {
        expect(metrics).not.toContain('coffer_sqlite_');
        return;
      }
      // The checkpoint worker ran (~0.2 s after the writes above) and works.
      let sqlite = metrics;
      for (let i = 0; i < 60 && /coffer_sqlite_checkpoints_total 0\b/.test(sqlite); i++) {
        await new Promise((r) => setTimeout(r, 50));
        sqlite = await (await fetch(`${server.url}/metrics`)).text();
      }
      expect(sqlite).toMatch(/coffer_sqlite_checkpoints_total [1-9]\d*/);
      expect(sqlite).toContain('# TYPE coffer_sqlite_checkpoints_total counter');
      expect(sqlite).toMatch(/coffer_sqlite_log_pages \d+/);
      expect(sqlite).toMatch(/coffer_sqlite_log_restarts_total \d+/);
      expect(sqlite).toContain('coffer_sqlite_checkpoint_worker_failed 0');
    });

    it('publishes an OpenAPI 3.1 document with every route, and a docs page', async () => {
      const doc = await (await fetch(`${server.api}/openapi.json`)).json();
      expect(doc.openapi).toBe('3.1.0');
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(routes).toEqual(
        expect.arrayContaining([
          'POST /api/v1/auth/login',
          'GET /api/v1/secrets/{ref}/values',
          'PATCH /api/v1/secrets/{ref}/values',
          'POST /api/v1/secrets/{ref}/test',
          'GET /api/v1/audit/export',
          'POST /api/v1/migration',
        ]),
      );
      expect(routes.length).toBeGreaterThanOrEqual(45);
      expect(doc.components.schemas.Problem).toBeDefined();
      const docs = await fetch(`${server.api}/docs/`);
      expect(docs.status).toBe(200);
      const csp = docs.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/https?:/);
      const html = await docs.text();
      expect(html).not.toMatch(/src="https?:|href="https?:/);
      expect((await fetch(`${server.api}/docs/static/swagger-ui-bundle.js`)).status).toBe(200);
      // The address the banner prints has no trailing slash; its assets must resolve from there.
      const bare = await (await fetch(`${server.api}/docs`)).text();
      const assets = [...bare.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThan(3);
      for (const asset of assets) {
        const target = new URL(asset, `${server.api}/docs`);
        expect([asset, (await fetch(target)).status]).toEqual([asset, 200]);
      }
    });

    it('answers NUL in a URL or in an id with 400, on every dialect', async () => {
      expectProblem(await admin.get('/groups/%00/members'), 400, 'validation');
      expectProblem(await admin.get('/secrets?namePrefix=a%00'), 400, 'validation');
      const target = await admin.post('/secrets', {
        name: 'nul-target',
        kind: 'generic',
        values: { a: '1' },
      });
      const share = await admin.post(`/secrets/${target.body.id}/shares`, {
        granteeType: 'group',
        granteeId: 'g\u0000',
      });
      expect(share.status, share.text).toBeLessThan(500);
      expect([400, 404, 422]).toContain(share.status);
    });

    it('answers unknown routes with a 404 problem, and sets security headers', async () => {
      const unknown = await admin.get('/no/such/route');
      expectProblem(unknown, 404, 'not_found');
      const root = await fetch(`${server.url}/nope`);
      expect(root.status).toBe(404);
      const any = await admin.get('/secrets');
      expect(any.headers.get('x-content-type-options')).toBe('nosniff');
      expect(any.headers.get('x-frame-options')).toBe('DENY');
      expect(any.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(any.headers.get('cache-control')).toBe('no-store');
    });
  });

  it('never writes a planted value, password, token or cookie to its logs', async () => {
    // A failed connection test and an internal log line at trace level are part of the run too.
    const failing = await alice.post('/secrets', {
      name: 'http-api',
      kind: 'api-token',
      values: { baseUrl: 'http://127.0.0.1:9/', token: plant('api-token') },
    });
    expect(failing.status).toBe(201);
    const test = await alice.post('/secrets/http-api/test');
    expect(test.body.ok).toBe(false);
    const output = server.stdout() + server.stderr();
    expect(output).toContain('"level":20'); // debug lines (every request) were written
    expect(planted.length).toBeGreaterThan(20);
    for (const value of planted) expect(output, `planted value found in the logs`).not.toContain(value);
    expect(output).not.toMatch(/cfr_[A-Za-z0-9_-]{20,}/);
    expect(output).not.toMatch(/coffer_session=/);
  });
});
