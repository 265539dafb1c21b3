import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { silentLogger } from '../logging/logger.js';
import { describeEachDialect } from '../test-support/databases.js';
import { asToken } from './actor.js';
import { createIdentityService } from './identity-service.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isCofferError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the operation to fail');
}

await describeEachDialect('api tokens', (dialect) => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('returns the token once and stores only its SHA-256 and a display prefix', async () => {
    const rita = await fx.member('rita');
    const { token, info } = await fx.identity.createToken(rita.actor, {
      name: 'laptop',
      scope: 'read-write',
    });
    expect(token).toMatch(/^cfr_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({
      userId: rita.id,
      name: 'laptop',
      scope: 'read-write',
      state: 'active',
      expiresAt: null,
    });
    expect(info.prefix).toBe(token.slice(0, 12));
    expect(JSON.stringify(info)).not.toContain(token);

    const rows = await fx.database.db.selectFrom('api_tokens').selectAll().execute();
    const row = rows.find((r) => r.id === info.id)!;
    expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    for (const r of rows) {
      for (const value of Object.values(r)) expect(String(value)).not.toContain(token.slice(12));
    }
    const listed = await fx.identity.listTokens(rita.actor);
    expect(listed.items).toEqual([info]);
    expect(JSON.stringify(listed)).not.toContain('token_hash');

    const actor = await fx.identity.authenticateToken(token, { address: '198.51.100.4' });
    expect(actor).toEqual({
      principal: { type: 'token', id: info.id },
      source: 'api',
      address: '198.51.100.4',
    });
    expect(await fx.identity.resolveActor(actor)).toMatchObject({
      type: 'user',
      id: rita.id,
      name: 'rita',
      role: 'member',
      scope: 'read-write',
      tokenId: info.id,
    });
  });

  it('gives each resolution its own request’s address and source, from the actor cache too', async () => {
    // The fixture's service reads every time; this one over the same database caches.
    const cached = createIdentityService({
      database: fx.database,
      clock: fx.time.clock,
      audit: fx.auditLog,
      logger: silentLogger(),
      cacheSeconds: 60,
    });
    const vera = await fx.member('vera');
    const { token } = await fx.identity.createToken(vera.actor, { name: 'where-from', scope: 'read-write' });
    const first = await cached.authenticateToken(token, { address: '198.51.100.4' });
    expect(await cached.resolveActor(first)).toMatchObject({ source: 'api', address: '198.51.100.4' });
    // Cached from here on: the same principal, another request.
    const second = await cached.authenticateToken(token, { address: '203.0.113.9' });
    expect(await cached.resolveActor(second)).toMatchObject({ source: 'api', address: '203.0.113.9' });
    const bare = await cached.resolveActor({ principal: first.principal });
    expect(bare.source).toBe('library');
    expect(bare).not.toHaveProperty('address');
    expect(bare).toMatchObject({ id: vera.id, tokenId: first.principal.id });
    // It was the cache that answered: a rename it has not heard of does not show.
    await fx.database.db
      .updateTable('users')
      .set({ username: 'renamed-behind' })
      .where('id', '=', vera.id)
      .execute();
    expect((await cached.resolveActor(second)).name).toBe('vera');
  });

  it('applies the token’s scope: a read-only token of an admin changes nothing', async () => {
    const { token } = await fx.identity.createToken(fx.admin.actor, { name: 'ro', scope: 'read-only' });
    const actor = await fx.identity.authenticateToken(token);
    expect(await fx.identity.resolveActor(actor)).toMatchObject({ role: 'admin', scope: 'read-only' });
    await expect(fx.identity.createGroup(actor, { name: 'from-ro' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(fx.identity.createToken(actor, { name: 'more', scope: 'read-write' })).rejects.toMatchObject(
      {
        code: 'forbidden',
      },
    );
    expect((await fx.identity.listUsers(actor)).items.length).toBeGreaterThan(0);
    // It may revoke no other token, but itself (how `coffer logout` ends a read-only login).
    const other = await fx.identity.createToken(fx.admin.actor, { name: 'other', scope: 'read-write' });
    await expect(fx.identity.revokeToken(actor, other.info.id)).rejects.toMatchObject({ code: 'forbidden' });
    const self = (await fx.identity.resolveActor(actor)).tokenId!;
    expect((await fx.identity.revokeToken(actor, self)).state).toBe('revoked');
    expect((await errorOf(fx.identity.authenticateToken(token))).code).toBe('unauthenticated');
  });

  it('expires tokens by the clock', async () => {
    const sam = await fx.member('sam');
    const expiresAt = new Date(fx.time.clock().getTime() + 3600_000);
    const { token, info } = await fx.identity.createToken(sam.actor, {
      name: 'short',
      scope: 'read-write',
      expiresAt,
    });
    expect(info.expiresAt).toBe(expiresAt.toISOString());
    await fx.identity.authenticateToken(token);
    fx.time.advance(3601);
    expect((await errorOf(fx.identity.authenticateToken(token))).code).toBe('unauthenticated');
    expect((await errorOf(fx.identity.resolveActor(asToken(info.id)))).code).toBe('unauthenticated');
    expect((await fx.identity.listTokens(sam.actor)).items).toEqual([]);
    expect((await fx.identity.listTokens(sam.actor, { includeInactive: true })).items[0]!.state).toBe(
      'expired',
    );
    await expect(
      fx.identity.createToken(sam.actor, {
        name: 'past',
        scope: 'read-only',
        expiresAt: '2001-01-01T00:00:00Z',
      }),
    ).rejects.toMatchObject({ code: 'validation' });
    await expect(
      fx.identity.createToken(sam.actor, { name: 'bad', scope: 'read-only', expiresAt: 'tomorrow' }),
    ).rejects.toMatchObject({ code: 'validation' });
  });

  it('revokes a token with immediate effect, for the owner or an admin only', async () => {
    const tom = await fx.member('tom');
    const uma = await fx.member('uma');
    const first = await fx.identity.createToken(tom.actor, { name: 'one', scope: 'read-write' });
    const second = await fx.identity.createToken(tom.actor, { name: 'two', scope: 'read-write' });
    const viaToken = await fx.identity.authenticateToken(first.token);
    await fx.identity.resolveActor(viaToken);

    await expect(fx.identity.revokeToken(uma.actor, first.info.id)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await fx.identity.revokeToken(tom.actor, first.info.id)).state).toBe('revoked');
    expect((await errorOf(fx.identity.resolveActor(viaToken))).code).toBe('unauthenticated');
    expect((await errorOf(fx.identity.authenticateToken(first.token))).code).toBe('unauthenticated');
    // The refused token is a failed login in the audit log, named by its id, never its text.
    const refused = (await fx.audit.query(fx.admin.actor, { action: 'auth.login_failed' })).items[0]!;
    expect(refused).toMatchObject({
      outcome: 'failure',
      target: { type: 'token', id: first.info.id },
      details: { reason: 'revoked', method: 'token' },
    });
    expect(JSON.stringify(refused)).not.toContain(first.token);
    expect((await fx.identity.revokeToken(tom.actor, first.info.id)).state).toBe('revoked');

    expect((await fx.identity.revokeToken(fx.admin.actor, second.info.id)).state).toBe('revoked');
    await expect(
      fx.identity.revokeToken(tom.actor, '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    const actions = (await fx.audit.query(fx.admin.actor, { action: 'token.revoke', outcome: 'success' }))
      .items;
    const mine = new Set([first.info.id, second.info.id]);
    expect(
      actions.filter((r) => mine.has(r.target?.id ?? '')).map((r) => [r.target?.id, r.actor.id]),
    ).toEqual([
      [second.info.id, fx.admin.id],
      [first.info.id, tom.id],
    ]);
  });

  it('lets admins create tokens for service accounts, and service accounts create none', async () => {
    const bot = await fx.identity.createUser(fx.admin.actor, { username: 'ci', type: 'service_account' });
    const { token } = await fx.identity.createToken(fx.admin.actor, {
      userId: bot.id,
      name: 'ci',
      scope: 'read-write',
    });
    const botActor = await fx.identity.authenticateToken(token);
    expect(await fx.identity.resolveActor(botActor)).toMatchObject({ type: 'service_account', id: bot.id });
    await expect(
      fx.identity.createToken(botActor, { name: 'self', scope: 'read-write' }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    const vic = await fx.member('vic');
    await expect(
      fx.identity.createToken(vic.actor, { userId: bot.id, name: 'steal', scope: 'read-write' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(fx.identity.listTokens(vic.actor, { userId: bot.id })).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await fx.identity.listTokens(fx.admin.actor, { userId: bot.id })).items).toHaveLength(1);
  });

  it('rejects unknown, malformed, revoked, expired and disabled-owner tokens with one error', async () => {
    const wes = await fx.member('wes');
    const revoked = await fx.identity.createToken(wes.actor, { name: 'r', scope: 'read-write' });
    await fx.identity.revokeToken(wes.actor, revoked.info.id);
    const expiring = await fx.identity.createToken(wes.actor, {
      name: 'e',
      scope: 'read-write',
      expiresAt: new Date(fx.time.clock().getTime() + 60_000),
    });
    const xia = await fx.member('xia');
    const owned = await fx.identity.createToken(xia.actor, { name: 'd', scope: 'read-write' });
    await fx.identity.disableUser(fx.admin.actor, xia.id);
    fx.time.advance(61);

    const errors = [];
    for (const token of [
      `cfr_${'A'.repeat(43)}`,
      'not a token',
      '',
      revoked.token,
      expiring.token,
      owned.token,
    ]) {
      errors.push(await errorOf(fx.identity.authenticateToken(token)));
    }
    for (const err of errors)
      expect(err).toEqual({ code: 'unauthenticated', message: 'the token is unknown, revoked or expired' });

    await fx.identity.enableUser(fx.admin.actor, xia.id);
    await fx.identity.authenticateToken(owned.token);
  });

  it('records the last use at most once a minute', async () => {
    const yan = await fx.member('yan');
    const { token, info } = await fx.identity.createToken(yan.actor, { name: 'busy', scope: 'read-write' });
    const lastUsed = async () =>
      (
        await fx.database.db
          .selectFrom('api_tokens')
          .select('last_used_at')
          .where('id', '=', info.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    expect(await lastUsed()).toBeNull();
    await fx.identity.authenticateToken(token);
    const first = await lastUsed();
    expect(first).toBe(fx.time.clock().toISOString());
    fx.time.advance(30);
    await fx.identity.authenticateToken(token);
    await fx.identity.authenticateToken(token);
    expect(await lastUsed()).toBe(first);
    fx.time.advance(31);
    await fx.identity.authenticateToken(token);
    expect(await lastUsed()).toBe(fx.time.clock().toISOString());
  });

  it('pages through tokens newest first', async () => {
    const zed = await fx.member('zed');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await fx.identity.createToken(zed.actor, { name: `t${i}`, scope: 'read-only' })).info.id);
      if (i % 2 === 0) fx.time.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await fx.identity.listTokens(zed.actor, { limit: 2, cursor });
      seen.push(...page.items.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.length).toBe(5);
    expect(new Set(seen).size).toBe(5);
    expect(seen[4]).toBe('t0');
  });
});
