import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../test-support/databases.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

await describeEachDialect('sessions', (dialect) => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await createIdentityFixture(dialect, {
      sessions: { ttlSeconds: 8 * 3600, idleTimeoutSeconds: 1800, maxTtlSeconds: 24 * 3600 },
    });
  });
  afterAll(async () => {
    await fx?.close();
  });

  const sessionRow = (sessionId: string) =>
    fx.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', createHash('sha256').update(sessionId).digest('hex'))
      .executeTakeFirst();

  it('starts a session whose id is stored only as a hash', async () => {
    const amy = await fx.member('amy');
    const { sessionId, expiresAt } = await fx.identity.createSession(amy.id, { address: '203.0.113.9' });
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe(new Date(fx.time.clock().getTime() + 8 * 3600_000).toISOString());
    const row = await sessionRow(sessionId);
    expect(row).toMatchObject({ user_id: amy.id, address: '203.0.113.9' });
    for (const value of Object.values(row!)) expect(String(value)).not.toContain(sessionId);

    const actor = await fx.identity.authenticateSession(sessionId, { address: '203.0.113.9' });
    expect(actor).toEqual({ principal: { type: 'user', id: amy.id }, source: 'web', address: '203.0.113.9' });
    await expect(fx.identity.authenticateSession('x'.repeat(43))).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(fx.identity.authenticateSession('short')).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses service accounts, disabled users and out-of-range lifetimes', async () => {
    const bot = await fx.identity.createUser(fx.admin.actor, {
      username: 'web-bot',
      type: 'service_account',
    });
    await expect(fx.identity.createSession(bot.id)).rejects.toMatchObject({ code: 'unauthenticated' });
    const ben = await fx.member('ben');
    await expect(fx.identity.createSession(ben.id, { ttlSeconds: 10 })).rejects.toMatchObject({
      code: 'validation',
    });
    await expect(fx.identity.createSession(ben.id, { ttlSeconds: 48 * 3600 })).rejects.toMatchObject({
      code: 'validation',
    });
    await fx.identity.disableUser(fx.admin.actor, ben.id);
    await expect(fx.identity.createSession(ben.id)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('ends a session after its idle timeout, moving the deadline at most once a minute', async () => {
    const cal = await fx.member('cal');
    const { sessionId } = await fx.identity.createSession(cal.id);
    const created = (await sessionRow(sessionId))!.last_seen_at;
    fx.time.advance(30);
    await fx.identity.authenticateSession(sessionId);
    expect((await sessionRow(sessionId))!.last_seen_at).toBe(created);
    fx.time.advance(1500);
    await fx.identity.authenticateSession(sessionId);
    const slid = (await sessionRow(sessionId))!.last_seen_at;
    expect(slid).toBe(fx.time.clock().toISOString());
    fx.time.advance(1799);
    await fx.identity.authenticateSession(sessionId);
    fx.time.advance(1801);
    await expect(fx.identity.authenticateSession(sessionId)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    expect(await sessionRow(sessionId)).toBeUndefined();
  });

  it('ends a session at its absolute lifetime however active it is', async () => {
    const dan = await fx.member('dan');
    const { sessionId } = await fx.identity.createSession(dan.id, { ttlSeconds: 3600 });
    for (let i = 0; i < 5; i++) {
      fx.time.advance(600);
      await fx.identity.authenticateSession(sessionId);
    }
    fx.time.advance(601);
    await expect(fx.identity.authenticateSession(sessionId)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('logs out one session, recorded, and everywhere for the user or an admin', async () => {
    const eve = await fx.member('eve');
    const other = await fx.member('flo');
    const one = await fx.identity.createSession(eve.id);
    const two = await fx.identity.createSession(eve.id);
    const three = await fx.identity.createSession(eve.id);

    expect(await fx.identity.revokeSession(one.sessionId, { address: '192.0.2.5' })).toBe(true);
    expect(await fx.identity.revokeSession(one.sessionId)).toBe(false);
    await expect(fx.identity.authenticateSession(one.sessionId)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await fx.identity.authenticateSession(two.sessionId);
    const [logout] = (await fx.audit.query(fx.admin.actor, { actorId: eve.id, action: 'auth.logout' })).items;
    expect(logout).toMatchObject({ source: 'web', address: '192.0.2.5', target: { type: 'session' } });

    await expect(fx.identity.revokeAllSessions(other.actor, eve.id)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await fx.identity.revokeAllSessions(eve.actor, eve.id)).toBe(2);
    await expect(fx.identity.authenticateSession(three.sessionId)).rejects.toMatchObject({
      code: 'unauthenticated',
    });

    const four = await fx.identity.createSession(eve.id);
    expect(await fx.identity.revokeAllSessions(fx.admin.actor, eve.id)).toBe(1);
    await expect(fx.identity.authenticateSession(four.sessionId)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('ends every session of a user who is disabled, for good', async () => {
    const gil = await fx.member('gil');
    const sessions = [await fx.identity.createSession(gil.id), await fx.identity.createSession(gil.id)];
    await fx.identity.disableUser(fx.admin.actor, gil.id);
    for (const { sessionId } of sessions) {
      await expect(fx.identity.authenticateSession(sessionId)).rejects.toMatchObject({
        code: 'unauthenticated',
      });
    }
    await fx.identity.enableUser(fx.admin.actor, gil.id);
    for (const { sessionId } of sessions) {
      await expect(fx.identity.authenticateSession(sessionId)).rejects.toMatchObject({
        code: 'unauthenticated',
      });
    }
    const [record] = (await fx.audit.query(fx.admin.actor, { targetId: gil.id, action: 'user.disable' }))
      .items;
    expect(record!.details).toMatchObject({ sessionsRevoked: 2 });
  });

  it('purges expired and idle sessions', async () => {
    const hub = await fx.member('hub');
    const { sessionId } = await fx.identity.createSession(hub.id);
    fx.time.advance(1801);
    expect(await fx.identity.purgeExpiredSessions()).toBeGreaterThanOrEqual(1);
    expect(await sessionRow(sessionId)).toBeUndefined();
  });
});
