// The reminder job with a real SMTP server (smtp-server in this process, on 127.0.0.1) and the
// server's own mail transport: what arrives, at most once per secret and period even with two
// engines on one database, and what happens when the SMTP secret is missing or the mail fails.
import { randomBytes } from 'node:crypto';
import { asUser, type Coffer } from '@coffer/core';
import {
  type CofferFixture,
  createCofferFixture,
  describeEachDialect,
  type TestPrincipal,
} from '@coffer/core/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { smtpMailer } from '../src/mail/smtp-mailer.js';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink.js';

const day = 86_400;
const planted = {
  token: `PLANTED-reminder-token-${randomBytes(6).toString('hex')}`,
  smtpPassword: `PLANTED-smtp-password-${randomBytes(6).toString('hex')}`,
};

await describeEachDialect('reminder mails', (dialect) => {
  let fx: CofferFixture;
  let sink: SmtpSink;
  let alice: TestPrincipal;
  let bob: TestPrincipal;
  let systemGroupId: string;
  const mailer = smtpMailer({ timeoutMs: 5000 });

  /** A secret owned by `who` that expires in `days` days, holding the planted token. */
  const expiring = async (who: TestPrincipal, name: string, days: number) =>
    fx.coffer.secrets.create(who.actor, {
      name,
      kind: 'api-token',
      values: { token: planted.token },
      expiresAt: new Date(fx.time.clock().getTime() + days * day * 1000).toISOString(),
      rotateEveryDays: null,
    });
  const mailsAbout = (name: string) => sink.mails.filter((m) => m.subject.includes(`"${name}"`));

  beforeAll(async () => {
    sink = await startSmtpSink();
    fx = await createCofferFixture(dialect, {}, { mailer });
    const admin = fx.admin.actor;
    const created = await fx.coffer.identity.createUser(admin, {
      username: 'alice',
      displayName: 'Alice Example',
      email: 'alice@example.com',
      password: 'password of alice',
    });
    alice = { id: created.id, actor: asUser(created.id) };
    bob = await fx.member('bob'); // no email address
    const smtp = await fx.coffer.secrets.create(admin, {
      name: 'system-smtp',
      kind: 'smtp',
      values: sink.secretValues(planted.smtpPassword),
    });
    systemGroupId = await fx.coffer.identity.systemGroupId();
    await fx.coffer.shares.share(admin, smtp.id, { granteeType: 'group', granteeId: systemGroupId });
  });
  afterAll(async () => {
    await fx?.close();
    await sink?.close();
  });

  it('mails the owner once, naming the secret and its due date, never a value; owners without an address are counted', async () => {
    const secret = await expiring(alice, 'alice-token', 10);
    await expiring(bob, 'bob-token', 10);
    const result = await fx.coffer.maintenance.sendReminders();
    expect(result).toMatchObject({ sent: 1, noRecipient: 1, failed: 0, claimedElsewhere: 0 });
    expect(result.warning).toBeUndefined();

    const [mail, ...others] = mailsAbout('alice-token');
    expect(others).toEqual([]);
    expect(mail!.to).toEqual(['alice@example.com']);
    expect(mail!.from).toBe('coffer@example.com');
    expect(mail!.user).toBe('mailer'); // logged in with the SMTP secret's credentials
    expect(mail!.subject).toBe(
      `Coffer: "alice-token" expires on ${secret.expiresAt!.slice(0, 10)} ${secret.expiresAt!.slice(11, 16)} UTC`,
    );
    expect(mail!.text).toContain('Hello Alice Example,');
    expect(mail!.text).toContain('The secret "alice-token" (API token) that you own in Coffer expires on');
    expect(mail!.text).toContain('(in 10 days)');
    expect(mailsAbout('bob-token')).toEqual([]);
    expect(fx.logText()).toContain('1 reminder(s) not mailed: their owners have no email address');

    // Audited: the SMTP secret used by the system group (with its purpose), and the mail.
    const used = await fx.coffer.audit.query(fx.admin.actor, {
      action: 'secret.use',
      actorId: systemGroupId,
    });
    expect(used.items[0]).toMatchObject({
      purpose: 'expiry and rotation reminders',
      target: { name: 'system-smtp' },
    });
    const sent = await fx.coffer.audit.query(fx.admin.actor, {
      action: 'reminder.sent',
      targetId: secret.id,
    });
    expect(sent.items).toHaveLength(1);
    expect(sent.items[0]).toMatchObject({
      outcome: 'success',
      actor: { type: 'group', id: systemGroupId, name: 'system' },
      details: { reason: 'expiring', recipientId: alice.id, dueAt: secret.expiresAt },
    });
  });

  it('sends nothing again in the same period, and once more when the secret has expired', async () => {
    const before = sink.mails.length;
    expect(await fx.coffer.maintenance.sendReminders()).toMatchObject({ sent: 0, due: 1, noRecipient: 1 });
    expect(sink.mails.length).toBe(before);

    fx.time.advance(11 * day);
    try {
      expect(await fx.coffer.maintenance.sendReminders()).toMatchObject({ sent: 1 });
      const expired = mailsAbout('alice-token').at(-1)!;
      expect(expired.subject).toMatch(/^Coffer: "alice-token" expired on /);
      expect(expired.text).toContain('(1 day ago)');
      expect(await fx.coffer.maintenance.sendReminders()).toMatchObject({ sent: 0 });
    } finally {
      fx.time.advance(-11 * day);
    }
  });

  // Two engines on one SQLite file in one process block each other's thread while one waits
  // for the other's write lock (better-sqlite3 waits synchronously), so this runs where
  // replicas run: on PostgreSQL and MariaDB.
  it.skipIf(dialect === 'sqlite')(
    'sends exactly one mail per secret and period when two engines run the job at once',
    async () => {
      const other: Coffer = await fx.reopen({ mailer });
      const names = ['both-1', 'both-2', 'both-3', 'both-4', 'both-5'];
      for (const name of names) await expiring(alice, name, 5);
      const [a, b] = await Promise.all([
        fx.coffer.maintenance.sendReminders(),
        other.maintenance.sendReminders(),
      ]);
      expect(a.sent + b.sent).toBe(5);
      expect(a.failed + b.failed).toBe(0);
      for (const name of names) expect(mailsAbout(name), name).toHaveLength(1);
      expect(await other.maintenance.sendReminders()).toMatchObject({ sent: 0 });
    },
  );

  it('gives the claim back when the mail fails, so the next run sends it', async () => {
    const secret = await expiring(alice, 'flaky-smtp', 3);
    sink.failing = true;
    try {
      expect(await fx.coffer.maintenance.sendReminders()).toMatchObject({ sent: 0, failed: 1 });
    } finally {
      sink.failing = false;
    }
    const claims = await fx.coffer.database.db
      .selectFrom('reminders_sent')
      .selectAll()
      .where('secret_id', '=', secret.id)
      .execute();
    expect(claims).toEqual([]);
    const failed = await fx.coffer.audit.query(fx.admin.actor, {
      action: 'reminder.sent',
      targetId: secret.id,
    });
    expect(failed.items[0]).toMatchObject({ outcome: 'failure' });
    expect(await fx.coffer.maintenance.sendReminders()).toMatchObject({ sent: 1, failed: 0 });
    expect(mailsAbout('flaky-smtp')).toHaveLength(1);
  });

  it('sends nothing and warns when the SMTP secret is not shared with the system group, or does not exist', async () => {
    await fx.coffer.shares.unshare(fx.admin.actor, 'system-smtp', {
      granteeType: 'group',
      granteeId: systemGroupId,
    });
    const secret = await expiring(alice, 'unsent', 2);
    const before = sink.mails.length;
    try {
      const result = await fx.coffer.maintenance.sendReminders();
      expect(result).toMatchObject({ sent: 0, due: 1 });
      expect(result.warning).toMatch(
        /the SMTP secret "system-smtp" does not exist or is not shared with the system group/,
      );
      expect(fx.logText()).toContain('reminders not sent: the SMTP secret \\"system-smtp\\"');
      const missing = await fx.reopen({ mailer }, { reminders: { smtpSecret: 'no-such-smtp' } });
      expect((await missing.maintenance.sendReminders()).warning).toMatch(/"no-such-smtp" does not exist/);
      const unclaimed = await fx.coffer.database.db
        .selectFrom('reminders_sent')
        .selectAll()
        .where('secret_id', '=', secret.id)
        .execute();
      expect(unclaimed).toEqual([]);
      expect(sink.mails.length).toBe(before);
    } finally {
      await fx.coffer.shares.share(fx.admin.actor, 'system-smtp', {
        granteeType: 'group',
        granteeId: systemGroupId,
      });
    }
    expect(await fx.coffer.maintenance.sendReminders()).toMatchObject({ sent: 1 });
  });

  it('never put a value in a mail, a log line or an audit record', async () => {
    let exported = '';
    for await (const line of fx.coffer.audit.export(fx.admin.actor, {})) exported += line;
    const haystacks = {
      mails: sink.mails.map((m) => `${m.raw}\n${m.text}`).join('\n'),
      logs: fx.logText(),
      audit: exported,
    };
    expect(sink.mails.length).toBeGreaterThanOrEqual(4);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [which, value] of Object.entries(planted)) {
        expect(text.includes(value), `planted ${which} found in ${where}`).toBe(false);
      }
    }
  });
});
