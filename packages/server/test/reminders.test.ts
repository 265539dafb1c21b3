// Expiry and rotation over real HTTP against the real server process: metadata on create and
// update, GET /reminders/due filtered by what each caller may read, the coffer_secrets_due
// metric, and POST /reminders/run mailing through an SMTP secret shared with `system` (a real
// SMTP server in this process). The engine's tests cover every dialect; this one runs on SQLite.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink.js';

const adminPassword = `reminders-admin-${randomBytes(6).toString('hex')}`;
const planted = `PLANTED-due-token-${randomBytes(6).toString('hex')}`;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

afterAll(() => cleanupServers());

describe('reminders over HTTP', () => {
  let server: ServerProcess;
  let sink: SmtpSink;
  let admin: ApiClient;
  let reader: ApiClient;
  let user: ApiClient;
  let systemGroupId: string;

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startServer({
      env: { COFFER_ADMIN_PASSWORD: adminPassword, COFFER_REMINDERS_WEB_URL: 'https://coffer.example.com' },
    });
    const session = await ApiClient.login(server.api, 'admin', adminPassword);
    admin = session.withToken(
      (await session.post('/tokens', { name: 'reminder tests', scope: 'read-write' })).body.token,
    );
    const readerUser = await admin.post('/users', {
      username: 'reader',
      password: 'reader password 1',
      email: 'reader@example.com',
    });
    const useOnly = await admin.post('/users', { username: 'use-only', password: 'use-only password' });
    reader = await ApiClient.login(server.api, 'reader', 'reader password 1');
    user = await ApiClient.login(server.api, 'use-only', 'use-only password');

    const expiring = await admin.post('/secrets', {
      name: 'vendor-token',
      kind: 'api-token',
      values: { token: planted },
      expiresAt: inDays(5),
      ownerId: readerUser.body.id,
    });
    expect(expiring.status, expiring.text).toBe(201);
    expect(expiring.body).toMatchObject({ expiresAt: `${inDays(5)}T00:00:00.000Z`, rotateEveryDays: 90 });
    await admin.post('/secrets', {
      name: 'admin-expired',
      kind: 'generic',
      values: { v: planted },
      expiresAt: inDays(-1),
    });
    await admin.post('/secrets/admin-expired/shares', {
      granteeType: 'user',
      granteeId: useOnly.body.id,
      level: 'use',
    });
    const groups = await admin.get('/groups?query=system');
    systemGroupId = groups.body.items.find((g: { name: string }) => g.name === 'system').id;
  });
  afterAll(async () => {
    await sink?.close();
  });

  it('changes expiry and rotation with PATCH, refusing a bad date with 422', async () => {
    const patched = await admin.patch('/secrets/admin-expired', { rotateEveryDays: 7 });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ rotateEveryDays: 7, expiresAt: `${inDays(-1)}T00:00:00.000Z` });
    expect(patched.body.rotationDueAt).toMatch(/^\d{4}-/);
    const bad = await admin.patch('/secrets/admin-expired', { expiresAt: 'tomorrow' });
    expect(bad.status).toBe(422);
    expect(bad.body.issues).toEqual([{ path: 'expiresAt', message: expect.stringMatching(/ISO-8601/) }]);
    const kinds = await admin.get('/kinds/api-token');
    expect(kinds.body.rotateEveryDays).toBe(90);
  });

  it('lists what is due for each caller: admins all, a reader what it may read, a use-only holder nothing', async () => {
    const names = async (client: ApiClient, query = '') => {
      const page = await client.get(`/reminders/due${query}`);
      expect(page.status, page.text).toBe(200);
      expect(page.text).not.toContain(planted);
      return page.body.items.map(
        (i: { name: string; reasons: string[] }) => `${i.name}:${i.reasons.join('+')}`,
      );
    };
    expect(await names(admin)).toEqual(['admin-expired:expired+rotation', 'vendor-token:expiring']);
    expect(await names(reader)).toEqual(['vendor-token:expiring']);
    expect(await names(user)).toEqual([]);
    // rotation is due in a week: not within 3 days
    expect(await names(admin, '?within=3d')).toEqual(['admin-expired:expired']);
    expect(await names(admin, '?reason=expiring&limit=1')).toEqual(['vendor-token:expiring']);
    expect(await names(admin, '?view=mine')).toEqual(['admin-expired:expired+rotation']);
    const bad = await admin.get('/reminders/due?within=soon');
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'validation' });
  });

  it('exports coffer_secrets_due by reason', async () => {
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toContain('# TYPE coffer_secrets_due gauge');
    expect(metrics).toMatch(/^coffer_secrets_due\{reason="expired"\} 1$/m);
    expect(metrics).toMatch(/^coffer_secrets_due\{reason="expiring"\} 1$/m);
    expect(metrics).toMatch(/^coffer_secrets_due\{reason="rotation"\} 1$/m);
  });

  it('mails the owners now on an admin’s demand, through the SMTP secret shared with system', async () => {
    expect((await reader.post('/reminders/run', {})).status).toBe(403);
    const unready = await admin.post('/reminders/run', {});
    expect(unready.status, unready.text).toBe(200);
    expect(unready.body.warning).toMatch(
      /"system-smtp" does not exist or is not shared with the system group/,
    );
    expect(unready.body.sent).toBe(0);

    await admin.post('/secrets', {
      name: 'system-smtp',
      kind: 'smtp',
      values: sink.secretValues('smtp password'),
    });
    await admin.post('/secrets/system-smtp/shares', { granteeType: 'group', granteeId: systemGroupId });
    const ran = await admin.post('/reminders/run', {});
    // The admin has no email address: its secret is counted, not mailed.
    expect(ran.body).toMatchObject({ sent: 1, noRecipient: 2, failed: 0 });
    expect(sink.mails).toHaveLength(1);
    const [mail] = sink.mails;
    expect(mail!.to).toEqual(['reader@example.com']);
    expect(mail!.subject).toBe(`Coffer: "vendor-token" expires on ${inDays(5)}`);
    expect(mail!.text).toMatch(/open it in Coffer: https:\/\/coffer\.example\.com\/secrets\/[0-9a-f-]{36}/);
    expect(mail!.raw).not.toContain(planted);
    expect((await admin.post('/reminders/run', {})).body).toMatchObject({ sent: 0 });

    const audit = await admin.get('/audit?action=reminder.sent');
    expect(audit.body.items).toHaveLength(1);
    const runs = await admin.get('/audit?action=reminder.run');
    expect(runs.body.items.map((r: { outcome: string }) => r.outcome)).toEqual([
      'success',
      'success',
      'success',
      'denied',
    ]);
  });
});
