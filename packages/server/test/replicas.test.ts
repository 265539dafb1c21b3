// Two server processes on one PostgreSQL database: nothing important lives in one process's
// memory, so a write through one is read through the other, and logout and revocation on one
// take effect on the other at once.
import { join } from 'node:path';
import { createTestDatabase, probeDialect, type TestDatabase } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer, tempDir } from './support/server-process.js';

const postgres = await probeDialect('postgres');

describe.skipIf(!postgres.available)(
  `two servers on one PostgreSQL${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`,
  () => {
    let database: TestDatabase;
    let a: ServerProcess;
    let b: ServerProcess;
    const password = 'replica admin password';

    beforeAll(async () => {
      database = await createTestDatabase('postgres');
      // Both share the database and the key file; each has its own data directory.
      const keyFile = join(tempDir(), 'keyring.json');
      const env = {
        COFFER_DATABASE_URL: database.url,
        COFFER_KEY_FILE: keyFile,
        COFFER_ADMIN_PASSWORD: password,
      };
      a = await startServer({ env });
      b = await startServer({ env });
    });

    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await cleanupServers();
      await database?.drop();
    });

    it('bootstraps once: only the first server created the admin', () => {
      expect(a.stdout()).toContain('First start: an admin account was created.');
      expect(b.stdout()).not.toContain('First start');
    });

    it('reads through one server what was written through the other', async () => {
      const viaA = await ApiClient.login(a.api, 'admin', password);
      const created = await viaA.post('/secrets', {
        name: 'shared',
        kind: 'generic',
        values: { v: 'written on A' },
      });
      expect(created.status).toBe(201);
      const token = (await viaA.post('/tokens', { name: 'replica', scope: 'read-write' })).body.token;
      const viaB = new ApiClient(b.api, token);
      const read = await viaB.get('/secrets/shared/values?reveal=true');
      expect(read.body.values.v).toBe('written on A');
      expect(read.headers.get('etag')).toBe('"v1"');

      // Check-and-set across processes.
      const updated = await viaB.patch(
        '/secrets/shared/values',
        { values: { v: 'written on B' } },
        { headers: { 'if-match': '"v1"' } },
      );
      expect(updated.status).toBe(200);
      const stale = await viaA.patch(
        '/secrets/shared/values',
        { values: { v: 'lost' } },
        { headers: { 'if-match': '"v1"' } },
      );
      expect(stale.status).toBe(412);
      expect((await viaA.get('/secrets/shared/values?reveal=true')).body.values.v).toBe('written on B');
    });

    it('honours a session on both, and a logout on one everywhere at once', async () => {
      const onA = await ApiClient.login(a.api, 'admin', password);
      const onB = new ApiClient(b.api);
      for (const [k, v] of onA.cookies) onB.cookies.set(k, v);
      onB.csrf = onA.csrf;
      expect((await onB.get('/auth/me')).status).toBe(200);
      expect((await onB.post('/groups', { name: 'from-b' })).status).toBe(201);
      expect((await onA.get('/groups?query=from-b')).body.items).toHaveLength(1);
      expect((await onB.post('/auth/logout')).status).toBe(204);
      expect((await onA.get('/auth/me')).status).toBe(401);
    });

    it('refuses a token on one server within a second of the other revoking it', async () => {
      const admin = await ApiClient.login(a.api, 'admin', password);
      const created = await admin.post('/tokens', { name: 'short-lived', scope: 'read-only' });
      const onB = new ApiClient(b.api, created.body.token);
      // B now remembers who the token is (identityCacheSeconds); only A's event can make it forget.
      expect((await onB.get('/secrets')).status).toBe(200);
      expect((await admin.delete(`/tokens/${created.body.info.id}`)).status).toBe(200);
      await vi.waitFor(async () => expect((await onB.get('/secrets')).status).toBe(401), {
        timeout: 1000,
        interval: 10,
      });
    });

    it('refuses a disabled user and a removed member on the other server within a second', async () => {
      const admin = await ApiClient.login(a.api, 'admin', password);
      const ada = await admin.post('/users', { username: 'replica-ada', password: 'replica ada password' });
      const team = await admin.post('/groups', { name: 'replica-team' });
      await admin.put(`/groups/${team.body.id}/members/${ada.body.id}`);
      await admin.post('/secrets', { name: 'team-secret', kind: 'generic', values: { v: 'x' } });
      await admin.post('/secrets/team-secret/shares', {
        granteeType: 'group',
        granteeId: team.body.id,
        level: 'read',
      });
      const adaOnA = await ApiClient.login(a.api, 'replica-ada', 'replica ada password');
      const token = (await adaOnA.post('/tokens', { name: 'b', scope: 'read-write' })).body.token;
      const adaOnB = new ApiClient(b.api, token);
      expect((await adaOnB.get('/secrets/team-secret/values?reveal=true')).status).toBe(200);
      await admin.delete(`/groups/${team.body.id}/members/${ada.body.id}`);
      await vi.waitFor(
        async () => expect((await adaOnB.get('/secrets/team-secret/values?reveal=true')).status).toBe(404),
        { timeout: 1000, interval: 10 },
      );
      await admin.patch(`/users/${ada.body.id}`, { disabled: true });
      await vi.waitFor(async () => expect((await adaOnB.get('/secrets')).status).toBe(401), {
        timeout: 1000,
        interval: 10,
      });
    });

    it('counts failed logins across both servers: parallel guesses spread over them meet one limit', async () => {
      const guesses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          new ApiClient(i % 2 === 0 ? a.api : b.api).post('/auth/login', {
            username: 'spread-guess',
            password: `wrong guess ${i}`,
          }),
        ),
      );
      const statuses = guesses.map((g) => g.status);
      // the default limit is 5 failures per username: at most five guesses were checked
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(11);
      expect(
        (await new ApiClient(b.api).post('/auth/login', { username: 'spread-guess', password: 'x' })).status,
      ).toBe(429);
    });

    // Last: it takes the database away from both servers.
    it('keeps serving /metrics and says not ready when the database is gone', async () => {
      expect(await (await fetch(`${a.url}/metrics`)).text()).toContain('coffer_database_up 1');
      await database.drop();
      const ready = await fetch(`${a.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { database: 'unreachable' } });
      const metrics = await fetch(`${a.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('coffer_database_up 0');
      expect(text).toContain('coffer_process_resident_memory_bytes');
    });
  },
);
