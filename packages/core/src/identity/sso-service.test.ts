import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../test-support/databases.js';
import { asToken } from './actor.js';
import { createIdentityService } from './identity-service.js';
import { ssoUsername } from './sso-service.js';
import type { SsoClaims, SsoPolicy } from './sso-types.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

const issuer = 'https://id.example.test';
const policy: SsoPolicy = {
  autoCreateUsers: true,
  linkExistingUsers: false,
  groupMapping: { 'eng-staff': ['engineering'], 'ops-oncall': ['ops', 'engineering'], admins: ['system'] },
  matchExistingGroups: false,
};
const claims = (subject: string, username: string, extra: Partial<SsoClaims> = {}): SsoClaims => ({
  issuer,
  subject,
  username,
  ...extra,
});

describe('ssoUsername', () => {
  it('makes a Coffer username of a provider username, or nothing', () => {
    expect(ssoUsername('Ada.Lovelace')).toBe('ada.lovelace');
    expect(ssoUsername('ada@example.com')).toBe('ada-example.com');
    expect(ssoUsername('Jürgen Groß')).toBe('jurgen-gro');
    expect(ssoUsername('  __Bob  ')).toBe('bob');
    expect(ssoUsername('x')).toBeUndefined();
    expect(ssoUsername('日本')).toBeUndefined();
    expect(ssoUsername('a'.repeat(100))).toBe('a'.repeat(64));
  });
});

await describeEachDialect('single sign-on', (dialect) => {
  let fx: IdentityFixture;
  const groupIds: Record<string, string> = {};

  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
    for (const name of ['engineering', 'ops', 'handmade']) {
      groupIds[name] = (await fx.identity.createGroup(fx.admin.actor, { name })).id;
    }
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function groupsOf(userId: string): Promise<string[]> {
    const rows = await fx.database.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select('groups.name')
      .where('group_members.user_id', '=', userId)
      .orderBy('groups.name')
      .execute();
    return rows.map((r) => r.name);
  }

  it('creates a member on the first sign-in and finds it again by issuer and subject', async () => {
    const first = await fx.identity.loginWithSso(
      claims('sub-ada', 'Ada', { displayName: 'Ada Lovelace', email: 'ada@example.com' }),
      policy,
      { source: 'web', address: '192.0.2.7' },
    );
    expect(first).toMatchObject({ created: true, linked: false });
    expect(first.user).toMatchObject({
      username: 'ada',
      displayName: 'Ada Lovelace',
      email: 'ada@example.com',
      role: 'member',
      type: 'user',
      hasPassword: false,
    });
    expect(first.actor.principal).toEqual({ type: 'user', id: first.user.id });

    // The provider renamed her: she is still the same user (linked by subject), with her new name.
    const again = await fx.identity.loginWithSso(
      claims('sub-ada', 'ada.renamed', { displayName: 'Ada King' }),
      policy,
    );
    expect(again).toMatchObject({ created: false, linked: false });
    expect(again.user).toMatchObject({ id: first.user.id, username: 'ada', displayName: 'Ada King' });

    const records = (await fx.audit.query(fx.admin.actor, { targetId: first.user.id })).items;
    expect(records.map((r) => r.action)).toEqual(['auth.login', 'user.update', 'auth.login', 'user.create']);
    expect(records[3]).toMatchObject({
      actor: { type: 'system', name: 'sso' },
      source: 'web',
      address: '192.0.2.7',
      details: { method: 'sso', issuer, username: 'ada', hasPassword: false },
    });
    expect(records[2]).toMatchObject({
      actor: { type: 'user', id: first.user.id, name: 'ada' },
      details: { method: 'sso', issuer, created: true },
    });
    expect(records[1]!.details).toMatchObject({ changed: ['displayName'] });
  });

  it('keeps the mapped groups in step at each sign-in, and never touches the others', async () => {
    const { user } = await fx.identity.loginWithSso(
      claims('sub-bo', 'bo', { groups: ['eng-staff', 'unmapped', 'admins'] }),
      policy,
    );
    expect(await groupsOf(user.id)).toEqual(['engineering']);
    // A membership made by hand in a group the provider does not manage stays.
    await fx.identity.addGroupMember(fx.admin.actor, groupIds.handmade!, user.id);

    const second = await fx.identity.loginWithSso(claims('sub-bo', 'bo', { groups: ['ops-oncall'] }), policy);
    expect(second).toMatchObject({ groupsAdded: ['ops'], groupsRemoved: [] });
    expect(await groupsOf(user.id)).toEqual(['engineering', 'handmade', 'ops']);
    expect((await fx.identity.resolveActor(second.actor)).groupIds).toHaveLength(3);

    const third = await fx.identity.loginWithSso(claims('sub-bo', 'bo', { groups: [] }), policy);
    expect(third).toMatchObject({ groupsAdded: [], groupsRemoved: ['engineering', 'ops'] });
    expect(await groupsOf(user.id)).toEqual(['handmade']);
    // No groups claim configured: memberships are left as they are.
    await fx.identity.loginWithSso(claims('sub-bo', 'bo'), policy);
    expect(await groupsOf(user.id)).toEqual(['handmade']);

    const changes = (await fx.audit.query(fx.admin.actor, { targetId: groupIds.ops! })).items;
    expect(changes.map((r) => r.action)).toEqual(['group.member_remove', 'group.member_add', 'group.create']);
    expect(changes[0]).toMatchObject({
      actor: { type: 'system', name: 'sso' },
      details: { method: 'sso', userId: user.id, username: 'bo' },
    });
    // The builtin system group is never joined through single sign-on, even when mapped.
    expect(fx.logText()).toMatch(/maps to groups that do not exist or are builtin/);
  });

  it('with matchExistingGroups, joins groups of the same name and keeps every group in step', async () => {
    const matching = { ...policy, groupMapping: {}, matchExistingGroups: true };
    const { user } = await fx.identity.loginWithSso(
      claims('sub-cy', 'cy', { groups: ['Ops', 'HandMade', 'system', 'nowhere'] }),
      matching,
    );
    expect(await groupsOf(user.id)).toEqual(['handmade', 'ops']);
    await fx.identity.addGroupMember(fx.admin.actor, groupIds.engineering!, user.id);
    await fx.identity.loginWithSso(claims('sub-cy', 'cy', { groups: ['ops'] }), matching);
    expect(await groupsOf(user.id)).toEqual(['ops']);
  });

  it('refuses a disabled user, and records why', async () => {
    const { user } = await fx.identity.loginWithSso(claims('sub-dee', 'dee'), policy);
    await fx.identity.disableUser(fx.admin.actor, user.id);
    await expect(
      fx.identity.loginWithSso(claims('sub-dee', 'dee', { groups: ['eng-staff'] }), policy),
    ).rejects.toMatchObject({ code: 'unauthenticated', details: { reason: 'disabled' } });
    expect(await groupsOf(user.id)).toEqual([]);
    const [failed] = (
      await fx.audit.query(fx.admin.actor, { targetId: user.id, action: 'auth.login_failed' })
    ).items;
    expect(failed).toMatchObject({
      outcome: 'failure',
      actor: { type: 'anonymous' },
      details: { method: 'sso', reason: 'disabled' },
    });
  });

  it('links only users prepared without a password, unless told to; never creates when told not to', async () => {
    const local = await fx.member('eve');
    await expect(fx.identity.loginWithSso(claims('sub-eve', 'Eve'), policy)).rejects.toMatchObject({
      code: 'conflict',
      details: { reason: 'username_taken' },
    });
    const linkedEve = await fx.identity.loginWithSso(claims('sub-eve', 'eve'), {
      ...policy,
      linkExistingUsers: true,
    });
    expect(linkedEve).toMatchObject({ created: false, linked: true, user: { id: local.id } });
    // Another account of the same provider cannot take her over afterwards.
    await expect(
      fx.identity.loginWithSso(claims('sub-eve-2', 'eve'), { ...policy, linkExistingUsers: true }),
    ).rejects.toMatchObject({ details: { reason: 'username_taken' } });

    const prepared = await fx.identity.createUser(fx.admin.actor, { username: 'fay' });
    const closed = { ...policy, autoCreateUsers: false };
    expect(await fx.identity.loginWithSso(claims('sub-fay', 'fay'), closed)).toMatchObject({
      linked: true,
      user: { id: prepared.id },
    });
    await expect(fx.identity.loginWithSso(claims('sub-gus', 'gus'), closed)).rejects.toMatchObject({
      code: 'forbidden',
      details: { reason: 'not_provisioned' },
    });
    await expect(fx.identity.loginWithSso(claims('sub-x', '!!'), policy)).rejects.toMatchObject({
      code: 'validation',
      details: { reason: 'invalid_claims' },
    });
    const service = await fx.serviceAccount('robot');
    await expect(
      fx.identity.loginWithSso(claims('sub-robot', 'robot'), { ...policy, linkExistingUsers: true }),
    ).rejects.toMatchObject({ details: { reason: 'username_taken' } });
    expect(service.id).toBeTruthy();
  });

  it('turns password login off for members, or for everyone, and leaves tokens alone', async () => {
    const member = await fx.member('hal');
    const { token } = await fx.identity.createToken(member.actor, { name: 'laptop', scope: 'read-only' });
    const admins = createIdentityService({
      database: fx.database,
      audit: fx.auditLog,
      clock: fx.time.clock,
      passwordLogin: 'admins',
    });
    await expect(admins.login('hal', member.password)).rejects.toMatchObject({
      code: 'forbidden',
      details: { reason: 'password_login_off' },
    });
    // A wrong password is still just a wrong password: whether the account may log in is not told.
    await expect(admins.login('hal', 'not the password at all')).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    expect((await admins.login('admin', fx.admin.password)).user.role).toBe('admin');
    expect(await admins.authenticateToken(token)).toMatchObject({ principal: { type: 'token' } });

    const nobody = createIdentityService({
      database: fx.database,
      audit: fx.auditLog,
      clock: fx.time.clock,
      passwordLogin: 'none',
    });
    for (const [username, password] of [
      ['admin', fx.admin.password],
      ['hal', 'wrong'],
      ['nobody-here', 'x'],
    ] as const) {
      await expect(nobody.login(username, password)).rejects.toMatchObject({
        code: 'forbidden',
        details: { reason: 'password_login_off' },
      });
    }
    const refused = (
      await fx.audit.query(fx.admin.actor, { targetId: member.id, action: 'auth.login_failed' })
    ).items;
    expect(refused.map((r) => r.details.reason)).toEqual([
      'password_login_off',
      'wrong_password',
      'password_login_off',
    ]);
    expect(() =>
      createIdentityService({ database: fx.database, audit: fx.auditLog, passwordLogin: 'x' as never }),
    ).toThrow(/passwordLogin/);
  });

  it('keeps started sign-ins by state, for the browser that started them, once', async () => {
    const state = randomBytes(24).toString('base64url');
    const binding = randomBytes(32).toString('base64url');
    await fx.identity.saveSsoRequest({ state, binding, returnTo: '/secrets/x' });
    expect(await fx.identity.takeSsoRequest(state, 'another-browser-cookie-value')).toBeUndefined();
    expect(await fx.identity.takeSsoRequest(state, binding)).toMatchObject({
      returnTo: '/secrets/x',
      cli: null,
    });
    expect(await fx.identity.takeSsoRequest(state, binding)).toBeUndefined();

    const late = randomBytes(24).toString('base64url');
    await fx.identity.saveSsoRequest({ state: late, binding, returnTo: '/', ttlSeconds: 10 });
    fx.time.advance(11);
    expect(await fx.identity.takeSsoRequest(late, binding)).toBeUndefined();
    const stored = await fx.database.db.selectFrom('sso_requests').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(binding);
    await expect(
      fx.identity.saveSsoRequest({ state, binding, returnTo: '/', cli: { challenge: 'short', state: 'x' } }),
    ).rejects.toMatchObject({ code: 'validation' });
  });

  it('hands a sign-in to the CLI only with its PKCE verifier, once', async () => {
    const { user } = await fx.identity.loginWithSso(claims('sub-ivy', 'ivy'), policy);
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');

    const stolen = await fx.identity.createSsoHandoff(user.id, challenge);
    await expect(
      fx.identity.redeemSsoHandoff(stolen, randomBytes(32).toString('base64url'), {
        name: 'cli',
        scope: 'read-write',
      }),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
    // A wrong verifier used the code up.
    await expect(
      fx.identity.redeemSsoHandoff(stolen, verifier, { name: 'cli', scope: 'read-write' }),
    ).rejects.toMatchObject({ code: 'unauthenticated' });

    const code = await fx.identity.createSsoHandoff(user.id, challenge);
    const redeemed = await fx.identity.redeemSsoHandoff(
      code,
      verifier,
      { name: 'coffer-cli@laptop', scope: 'read-write' },
      { source: 'cli' },
    );
    expect(redeemed.user).toMatchObject({ id: user.id, username: 'ivy' });
    const actor = await fx.identity.authenticateToken(redeemed.token);
    expect(actor.principal).toEqual(asToken(redeemed.info.id).principal);

    const expiring = await fx.identity.createSsoHandoff(user.id, challenge);
    fx.time.advance(61);
    await expect(
      fx.identity.redeemSsoHandoff(expiring, verifier, { name: 'cli', scope: 'read-write' }),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
    const failures = (
      await fx.audit.query(fx.admin.actor, { targetId: user.id, action: 'auth.login_failed' })
    ).items;
    expect(failures.map((r) => r.details.reason)).toEqual(['handoff_expired', 'handoff_verifier_mismatch']);
  });
});
