import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/audit-log.js';
import { isCofferError } from '../errors/coffer-error.js';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { describeEachDialect } from '../test-support/databases.js';
import { asUser } from './actor.js';
import { createIdentityService } from './identity-service.js';
import type { User } from './identity-types.js';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

/** The real hasher, counting argon2 verifications, so tests can see every login path pays for one. */
function countingHasher(): PasswordHasher & { verifications: number } {
  const real = createPasswordHasher();
  const counting = {
    verifications: 0,
    hash: real.hash,
    needsRehash: real.needsRehash,
    async verify(stored: string, password: string) {
      counting.verifications++;
      return real.verify(stored, password);
    },
    async verifyDummy(password: string) {
      counting.verifications++;
      return real.verifyDummy(password);
    },
  };
  return counting;
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await promise;
  } catch (err) {
    if (isCofferError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected the operation to fail');
}

await describeEachDialect('users', (dialect) => {
  let fx: IdentityFixture;
  let hasher: ReturnType<typeof countingHasher>;
  beforeAll(async () => {
    hasher = countingHasher();
    fx = await createIdentityFixture(dialect, { passwordHasher: hasher });
  });
  afterAll(async () => {
    await fx?.close();
  });

  describe('create', () => {
    it('creates users and service accounts, audited without the password', async () => {
      const user = await fx.identity.createUser(fx.admin.actor, {
        username: 'grace',
        displayName: 'Grace Hopper',
        email: 'grace@example.com',
        password: 'grace password 1',
        role: 'admin',
      });
      expect(user).toMatchObject({
        username: 'grace',
        displayName: 'Grace Hopper',
        email: 'grace@example.com',
        role: 'admin',
        type: 'user',
        disabled: false,
        hasPassword: true,
      });
      const bot = await fx.identity.createUser(fx.admin.actor, {
        username: 'deploy-bot',
        type: 'service_account',
      });
      expect(bot).toMatchObject({
        type: 'service_account',
        role: 'member',
        hasPassword: false,
        displayName: 'deploy-bot',
      });

      const [record] = (await fx.audit.query(fx.admin.actor, { targetId: user.id, action: 'user.create' }))
        .items;
      expect(record).toMatchObject({
        actor: { id: fx.admin.id },
        details: { role: 'admin', hasPassword: true },
      });
      expect(JSON.stringify(record)).not.toContain('grace password 1');
    });

    it('validates input and refuses duplicates', async () => {
      for (const username of ['A', 'Ada', '-ada', 'a', 'a'.repeat(65), 'ada lovelace', 'ada@x']) {
        expect((await failure(fx.identity.createUser(fx.admin.actor, { username }))).code).toBe('validation');
      }
      const short = await failure(
        fx.identity.createUser(fx.admin.actor, { username: 'shorty', password: 'too short' }),
      );
      expect(short).toMatchObject({ code: 'validation', details: { issues: [{ path: 'password' }] } });
      expect(short.message).not.toContain('too short');
      expect(
        (
          await failure(
            fx.identity.createUser(fx.admin.actor, {
              username: 'x-bot',
              type: 'service_account',
              password: 'a'.repeat(20),
            }),
          )
        ).code,
      ).toBe('validation');
      expect(
        (await failure(fx.identity.createUser(fx.admin.actor, { username: 'mail', email: 'nope' }))).code,
      ).toBe('validation');
      expect(
        (await failure(fx.identity.createUser(fx.admin.actor, { username: 'extra', secret: 1 } as never)))
          .code,
      ).toBe('validation');
      await fx.identity.createUser(fx.admin.actor, { username: 'dup' });
      expect((await failure(fx.identity.createUser(fx.admin.actor, { username: 'dup' }))).code).toBe(
        'already_exists',
      );
    });
  });

  describe('get and list', () => {
    let ada: User;
    let bob: User;
    beforeAll(async () => {
      ada = await fx.identity.createUser(fx.admin.actor, {
        username: 'ada',
        displayName: 'Ada Lovelace',
        email: 'ada@example.com',
      });
      bob = await fx.identity.createUser(fx.admin.actor, {
        username: 'bob',
        displayName: 'Robert',
        email: 'bob@example.com',
      });
      for (let i = 0; i < 12; i++)
        await fx.identity.createUser(fx.admin.actor, { username: `page-${String(i).padStart(2, '0')}` });
      await fx.identity.createUser(fx.admin.actor, { username: 'page_x', displayName: 'Underscore' });
    });

    it('shows email and last login only to admins and the user', async () => {
      expect((await fx.identity.getUser(asUser(ada.id), bob.id)).email).toBeUndefined();
      expect((await fx.identity.getUser(asUser(ada.id), bob.id)).lastLoginAt).toBeUndefined();
      expect((await fx.identity.getUser(asUser(bob.id), bob.id)).email).toBe('bob@example.com');
      expect((await fx.identity.getUser(fx.admin.actor, bob.id)).email).toBe('bob@example.com');
      const listed = await fx.identity.listUsers(asUser(ada.id), { query: 'bob' });
      expect(listed.items).toHaveLength(1);
      expect(listed.items[0]!.email).toBeUndefined();
      expect(
        (await failure(fx.identity.getUser(fx.admin.actor, '00000000-0000-4000-8000-000000000000'))).code,
      ).toBe('not_found');
    });

    it('pages by username and filters by a case-insensitive prefix of username or display name', async () => {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await fx.identity.listUsers(asUser(ada.id), { query: 'page', limit: 5, cursor });
        names.push(...page.items.map((u) => u.username));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(names).toEqual([
        ...Array.from({ length: 12 }, (_, i) => `page-${String(i).padStart(2, '0')}`),
        'page_x',
      ]);

      expect(
        (await fx.identity.listUsers(asUser(ada.id), { query: 'ROB' })).items.map((u) => u.username),
      ).toEqual(['bob']);
      expect(
        (await fx.identity.listUsers(asUser(ada.id), { query: 'ada lov' })).items.map((u) => u.username),
      ).toEqual(['ada']);
      // LIKE wildcards in the query are literal characters.
      expect(
        (await fx.identity.listUsers(asUser(ada.id), { query: 'page_' })).items.map((u) => u.username),
      ).toEqual(['page_x']);
      expect((await fx.identity.listUsers(asUser(ada.id), { query: '%' })).items).toEqual([]);
      expect((await failure(fx.identity.listUsers(asUser(ada.id), { cursor: 'garbage' }))).code).toBe(
        'validation',
      );
    });

    it('leaves disabled users out on request', async () => {
      const gone = await fx.identity.createUser(fx.admin.actor, { username: 'page-zz' });
      await fx.identity.disableUser(fx.admin.actor, gone.id);
      const all = await fx.identity.listUsers(fx.admin.actor, { query: 'page-z' });
      expect(all.items.map((u) => [u.username, u.disabled])).toEqual([['page-zz', true]]);
      expect(
        (await fx.identity.listUsers(fx.admin.actor, { query: 'page-z', includeDisabled: false })).items,
      ).toEqual([]);
    });
  });

  describe('update', () => {
    it('lets users change their own display name and email, and admins everything', async () => {
      const carol = await fx.member('carol');
      const dave = await fx.member('dave');
      const updated = await fx.identity.updateUser(carol.actor, carol.id, {
        displayName: ' Carol C. ',
        email: null,
      });
      expect(updated).toMatchObject({ displayName: 'Carol C.', email: null });
      expect((await failure(fx.identity.updateUser(carol.actor, carol.id, { role: 'admin' }))).code).toBe(
        'forbidden',
      );
      expect((await failure(fx.identity.updateUser(carol.actor, dave.id, { displayName: 'x' }))).code).toBe(
        'forbidden',
      );
      expect(
        await fx.identity.updateUser(fx.admin.actor, dave.id, { role: 'admin', displayName: 'Dave' }),
      ).toMatchObject({
        role: 'admin',
        displayName: 'Dave',
      });
      const [record] = (await fx.audit.query(fx.admin.actor, { targetId: dave.id, action: 'user.update' }))
        .items;
      expect(record!.details).toMatchObject({ changed: ['displayName', 'role'], role: 'admin' });
      const denied = await fx.audit.query(fx.admin.actor, { actorId: carol.id, outcome: 'denied' });
      expect(denied.items.map((r) => r.action)).toEqual(['user.update', 'user.update']);
    });

    it('makes a disabled user unable to act on the very next call', async () => {
      const erin = await fx.member('erin');
      await fx.identity.getUser(erin.actor, erin.id);
      await fx.identity.disableUser(fx.admin.actor, erin.id);
      expect((await failure(fx.identity.getUser(erin.actor, erin.id))).code).toBe('unauthenticated');
      expect((await failure(fx.identity.resolveActor(erin.actor))).code).toBe('unauthenticated');
      await fx.identity.enableUser(fx.admin.actor, erin.id);
      expect((await fx.identity.resolveActor(erin.actor)).id).toBe(erin.id);
      const actions = (await fx.audit.query(fx.admin.actor, { targetId: erin.id })).items.map(
        (r) => r.action,
      );
      expect(actions.slice(0, 2)).toEqual(['user.enable', 'user.disable']);
    });
  });

  describe('last admin', () => {
    it('never lets the last enabled admin be disabled or demoted', async () => {
      // Other tests in this file create admins; demote them so `admin` is the last one.
      const admins = await fx.database.db
        .selectFrom('users')
        .select('id')
        .where('role', '=', 'admin')
        .where('id', '!=', fx.admin.id)
        .execute();
      for (const { id } of admins) await fx.identity.updateUser(fx.admin.actor, id, { role: 'member' });

      expect(await failure(fx.identity.disableUser(fx.admin.actor, fx.admin.id))).toMatchObject({
        code: 'conflict',
      });
      expect(
        (await failure(fx.identity.updateUser(fx.admin.actor, fx.admin.id, { role: 'member' }))).code,
      ).toBe('conflict');
      // An admin service account cannot use the admin center, so it does not count.
      const bot = await fx.identity.createUser(fx.admin.actor, {
        username: 'admin-bot',
        type: 'service_account',
        role: 'admin',
      });
      expect((await failure(fx.identity.disableUser(fx.admin.actor, fx.admin.id))).code).toBe('conflict');
      await fx.identity.disableUser(fx.admin.actor, bot.id);

      const second = await fx.identity.createUser(fx.admin.actor, {
        username: 'second-admin',
        role: 'admin',
      });
      await fx.identity.disableUser(fx.admin.actor, second.id);
      expect((await failure(fx.identity.disableUser(fx.admin.actor, fx.admin.id))).code).toBe('conflict');
      await fx.identity.enableUser(fx.admin.actor, second.id);
      // With two, one may go; then the other is the last.
      await fx.identity.updateUser(asUser(second.id), fx.admin.id, { role: 'member' });
      expect(
        (await failure(fx.identity.updateUser(asUser(second.id), second.id, { role: 'member' }))).code,
      ).toBe('conflict');
      await fx.identity.updateUser(asUser(second.id), fx.admin.id, { role: 'admin' });
      await fx.identity.updateUser(fx.admin.actor, second.id, { role: 'member' });
    });

    it('lets only one of two admins demoting each other at the same moment succeed', async () => {
      const other = await fx.identity.createUser(fx.admin.actor, { username: 'rival-admin', role: 'admin' });
      // Separate handles stand for separate server processes (SQLite serializes writers anyway).
      const handles: CofferDatabase[] = fx.database.features.forUpdate
        ? [await openDatabase(fx.testDb.url), await openDatabase(fx.testDb.url)]
        : [fx.database, fx.database];
      try {
        const [a, b] = handles.map((database) =>
          createIdentityService({
            database,
            audit: createAuditLog({ database, clock: fx.time.clock }),
            clock: fx.time.clock,
          }),
        );
        const results = await Promise.allSettled([
          a!.updateUser(fx.admin.actor, other.id, { role: 'member' }),
          b!.updateUser(asUser(other.id), fx.admin.id, { role: 'member' }),
        ]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        expect(ok).toHaveLength(1);
        const admins = await fx.database.db
          .selectFrom('users')
          .select('id')
          .where('role', '=', 'admin')
          .where('disabled', '=', 0)
          .where('type', '=', 'user')
          .execute();
        expect(admins).toHaveLength(1);
        if (admins[0]!.id !== fx.admin.id) {
          await fx.identity.updateUser(asUser(other.id), fx.admin.id, { role: 'admin' });
        }
      } finally {
        if (fx.database.features.forUpdate) await Promise.all(handles.map((h) => h.close()));
      }
      expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
    });
  });

  describe('passwords', () => {
    it('lets users change their own password with the current one and ends their sessions', async () => {
      const fay = await fx.member('fay');
      const { sessionId } = await fx.identity.createSession(fay.id);
      const wrong = await failure(
        fx.identity.setPassword(fay.actor, fay.id, {
          currentPassword: 'not my password',
          newPassword: 'a new password!',
        }),
      );
      expect(wrong.code).toBe('forbidden');
      expect(
        (await failure(fx.identity.setPassword(fay.actor, fay.id, { newPassword: 'a new password!' }))).code,
      ).toBe('forbidden');
      await fx.identity.authenticateSession(sessionId);
      await fx.identity.setPassword(fay.actor, fay.id, {
        currentPassword: fay.password,
        newPassword: 'a new password!',
      });
      expect((await failure(fx.identity.authenticateSession(sessionId))).code).toBe('unauthenticated');
      expect((await failure(fx.identity.login('fay', fay.password))).code).toBe('unauthenticated');
      expect((await fx.identity.login('fay', 'a new password!')).user.username).toBe('fay');
      const records = (
        await fx.audit.query(fx.admin.actor, { targetId: fay.id, action: 'user.password_change' })
      ).items;
      expect(records.map((r) => [r.outcome, r.details.reset ?? null])).toEqual([
        ['success', false],
        ['denied', null],
        ['denied', null],
      ]);
    });

    it('lets admins reset another password; members may not, and policy applies', async () => {
      const gus = await fx.member('gus');
      const hal = await fx.member('hal');
      expect(
        (await failure(fx.identity.setPassword(gus.actor, hal.id, { newPassword: 'gus sets hal pw' }))).code,
      ).toBe('forbidden');
      expect(
        (await failure(fx.identity.setPassword(fx.admin.actor, hal.id, { newPassword: 'short' }))).code,
      ).toBe('validation');
      await fx.identity.setPassword(fx.admin.actor, hal.id, { newPassword: 'admin reset pw!' });
      expect((await fx.identity.login('hal', 'admin reset pw!')).user.id).toBe(hal.id);
      const bot = await fx.identity.createUser(fx.admin.actor, {
        username: 'pw-bot',
        type: 'service_account',
      });
      expect(
        (await failure(fx.identity.setPassword(fx.admin.actor, bot.id, { newPassword: 'bots have none' })))
          .code,
      ).toBe('validation');
    });
  });

  describe('login', () => {
    it('logs in, records it and the last login time', async () => {
      const ivy = await fx.member('ivy');
      const { user, actor } = await fx.identity.login('ivy', ivy.password, {
        source: 'web',
        address: '10.0.0.7',
      });
      expect(actor).toEqual({ principal: { type: 'user', id: ivy.id }, source: 'web', address: '10.0.0.7' });
      expect(user.lastLoginAt).toBe(fx.time.clock().toISOString());
      expect(user.email).toBe('ivy@example.com');
      const [record] = (await fx.audit.query(fx.admin.actor, { actorId: ivy.id, action: 'auth.login' }))
        .items;
      expect(record).toMatchObject({ source: 'web', address: '10.0.0.7', outcome: 'success' });
    });

    it('gives the same error, after one argon2 verification, whether the user is unknown, disabled, a bot or the password wrong', async () => {
      const jan = await fx.member('jan');
      const kim = await fx.member('kim');
      await fx.identity.disableUser(fx.admin.actor, kim.id);
      await fx.identity.createUser(fx.admin.actor, { username: 'login-bot', type: 'service_account' });
      const attempts: [string, string, string][] = [
        ['nobody', 'whatever password', 'unknown_user'],
        ['jan', 'wrong password!!', 'wrong_password'],
        ['kim', kim.password, 'disabled'],
        ['login-bot', 'whatever password', 'no_password'],
        ['Not A Username', 'whatever password', 'unknown_user'],
        ['jan', 'x'.repeat(5000), 'unusable_password'],
      ];
      const errors = [];
      for (const [username, password] of attempts) {
        const before = hasher.verifications;
        errors.push(await failure(fx.identity.login(username, password, { address: '192.0.2.1' })));
        expect(hasher.verifications - before).toBe(1);
      }
      for (const err of errors) expect(err).toEqual(errors[0]);
      expect(errors[0]).toEqual({
        code: 'unauthenticated',
        message: 'invalid username or password',
        details: {},
      });
      expect((await fx.identity.login('jan', jan.password)).user.id).toBe(jan.id);
      // Twice at the same instant: the second login changes no column value, and still works.
      expect((await fx.identity.login('jan', jan.password)).user.id).toBe(jan.id);

      const failed = (
        await fx.audit.query(fx.admin.actor, { action: 'auth.login_failed', limit: attempts.length })
      ).items;
      expect(failed.map((r) => r.details.reason).reverse()).toEqual(attempts.map((a) => a[2]));
      expect(
        failed.every(
          (r) => r.outcome === 'failure' && r.actor.type === 'anonymous' && r.address === '192.0.2.1',
        ),
      ).toBe(true);
      // Unknown usernames are not recorded: they are often passwords typed in the wrong field.
      expect(JSON.stringify(failed)).not.toContain('nobody');
      expect(JSON.stringify(failed)).not.toContain('Not A Username');
    });
  });
});
