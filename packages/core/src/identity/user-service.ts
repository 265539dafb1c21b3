import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import { isoNow } from '../shared/clock.js';
import { decodeCursor, encodeCursor, type Page, pageLimit } from '../shared/page.js';
import type { CofferTables, UserRow } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import { type Actor, asUser, type ResolvedActor } from './actor.js';
import {
  auditEntry,
  deny,
  type IdentityContext,
  isAdmin,
  parseInput,
  prefixMatch,
  readAs,
  requireAdminWrite,
  requirePerson,
  requireWrite,
  runAs,
} from './identity-context.js';
import { userOf } from './identity-rows.js';
import { createUserSchema, listRequestSchema, namePattern, updateUserSchema } from './identity-schemas.js';
import type {
  AuthContext,
  CreateUserInput,
  ListUsersRequest,
  LoginResult,
  SetPasswordInput,
  UpdateUserInput,
  User,
} from './identity-types.js';
import { assertPasswordPolicy, maxPasswordLength, passwordLength } from './password-hasher.js';
import { deleteSessionsOf } from './session-service.js';
import { ssoRefusalError } from './sso-service.js';
import type { PasswordLoginPolicy } from './sso-types.js';

/**
 * Users and service accounts: who may do what to whom is decided here, in core, so the
 * library and the server are equally strict.
 *
 * @example
 * const ada = await identity.createUser(admin, { username: 'ada', password });
 * const { actor } = await identity.login('ada', password, { source: 'web' });
 */
export interface UserService {
  /**
   * Admins only. A service account (`type: 'service_account'`) has no password and
   * authenticates with tokens an admin creates for it.
   *
   * @example
   * await identity.createUser(admin, { username: 'ci-bot', type: 'service_account' });
   */
  createUser(actor: Actor, input: CreateUserInput): Promise<User>;
  /**
   * Any authenticated user; email and last login only for admins and the user.
   *
   * @example
   * const user = await identity.getUser(actor, userId);
   */
  getUser(actor: Actor, userId: string): Promise<User>;
  /**
   * Any authenticated user, sorted by username, with a prefix `query` on username or
   * display name.
   *
   * @example
   * const { items, nextCursor } = await identity.listUsers(actor, { query: 'ad', limit: 20 });
   */
  listUsers(actor: Actor, request?: ListUsersRequest): Promise<Page<User>>;
  /**
   * Admins change anything; users their own display name and email. Disabling ends every
   * session of the user; the last enabled admin can be neither disabled nor demoted.
   *
   * @example
   * await identity.updateUser(asUser(me), me, { displayName: 'Ada L.' });
   */
  updateUser(actor: Actor, userId: string, input: UpdateUserInput): Promise<User>;
  /** @example await identity.disableUser(admin, userId); */
  disableUser(actor: Actor, userId: string): Promise<User>;
  /** @example await identity.enableUser(admin, userId); */
  enableUser(actor: Actor, userId: string): Promise<User>;
  /**
   * An admin resets someone else's password; a user changes their own with the current one.
   * Every session of the user ends.
   *
   * @example
   * await identity.setPassword(admin, userId, { newPassword });
   */
  setPassword(actor: Actor, userId: string, input: SetPasswordInput): Promise<void>;
  /**
   * Checks a username and password. Whether the user is unknown, disabled, a service
   * account or the password is wrong, the error is the same `unauthenticated` and takes about
   * as long; the audit log (admins only) records which.
   *
   * @example
   * const { user, actor } = await identity.login(username, password, { source: 'web', address });
   */
  login(username: string, password: string, context?: AuthContext): Promise<LoginResult>;
}

const loginFailed = () => new CofferError('unauthenticated', 'invalid username or password');

function passwordLoginAllowed(policy: PasswordLoginPolicy, role: string): boolean {
  return policy === 'all' || (policy === 'admins' && role === 'admin');
}

/** The internal factory behind {@link UserService}. */
export function createUserService(context: IdentityContext): UserService {
  const { database, hasher, audit, logger } = context;

  async function loadUser(db: Kysely<CofferTables>, userId: string, lock = false): Promise<UserRow> {
    const row = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', userId)
      .$if(lock && database.features.forUpdate, (q) => q.forUpdate())
      .executeTakeFirst();
    if (row === undefined) throw new CofferError('not_found', `user ${userId} not found`);
    return row;
  }

  /**
   * Refuses a change that would leave no enabled human admin (service accounts cannot use
   * the admin center). The enabled admins are locked, so two admins demoting each other at
   * once cannot both succeed: the second sees the first's change after the lock.
   */
  async function assertAnotherAdminRemains(tx: Tx, userId: string): Promise<void> {
    const admins = await tx
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .where('type', '=', 'user')
      .$if(database.features.forUpdate, (q) => q.forUpdate())
      .execute();
    if (!admins.some((a) => a.id !== userId)) {
      throw new CofferError('conflict', 'the last enabled admin cannot be disabled or demoted');
    }
  }

  /** Who may set whose password; returns whether it is the user's own. */
  function authorizePassword(resolved: ResolvedActor, target: UserRow): boolean {
    const audited = {
      action: 'user.password_change',
      target: { type: 'user', id: target.id, name: target.username },
    } as const;
    requireWrite(resolved, audited);
    const self = resolved.id === target.id;
    if (!self && !isAdmin(resolved)) deny(resolved, "only admins may set another user's password", audited);
    if (target.type === 'service_account') {
      throw CofferError.validation([
        { path: 'userId', message: 'service accounts authenticate with tokens and have no password' },
      ]);
    }
    if (self && target.password_hash === null) {
      deny(resolved, 'a user without a password needs an admin to set one', audited);
    }
    return self;
  }

  async function createUser(actor: Actor, input: CreateUserInput): Promise<User> {
    const parsed = parseInput(createUserSchema, input);
    const type = parsed.type ?? 'user';
    const password = parsed.password;
    if (password !== undefined) {
      if (type === 'service_account') {
        throw CofferError.validation([
          { path: 'password', message: 'service accounts authenticate with tokens and have no password' },
        ]);
      }
      assertPasswordPolicy(password, 'password');
    }
    const audited = { action: 'user.create', target: { type: 'user', name: parsed.username } } as const;
    // Hashing is slow: check the caller first, so a refused caller never makes us hash.
    await runAs(context, actor, async (_tx, resolved) =>
      requireAdminWrite(resolved, 'create users', audited),
    );
    const passwordHash = password === undefined ? null : await hasher.hash(password);

    return runAs(context, actor, async (tx, resolved, now) => {
      requireAdminWrite(resolved, 'create users', audited);
      const row: UserRow = {
        id: randomUUID(),
        username: parsed.username,
        display_name: parsed.displayName ?? parsed.username,
        email: parsed.email ?? null,
        type,
        role: parsed.role ?? 'member',
        disabled: 0,
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
        last_login_at: null,
      };
      try {
        await tx.insertInto('users').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new CofferError('already_exists', `a user named ${parsed.username} already exists`);
        }
        throw err;
      }
      await audit.append(
        tx,
        auditEntry(
          resolved,
          'user.create',
          'success',
          { type: 'user', id: row.id, name: row.username },
          {
            type,
            role: row.role,
            hasPassword: passwordHash !== null,
          },
        ),
      );
      logger.info({ userId: row.id, username: row.username, type }, 'user created');
      return userOf(row, resolved);
    });
  }

  async function getUser(actor: Actor, userId: string): Promise<User> {
    return readAs(context, actor, async (resolved) => {
      requirePerson(resolved);
      return userOf(await loadUser(database.db, userId), resolved);
    });
  }

  async function listUsers(actor: Actor, request: ListUsersRequest = {}): Promise<Page<User>> {
    return readAs(context, actor, async (resolved) => {
      requirePerson(resolved);
      const { query, cursor } = parseInput(listRequestSchema, request);
      const limit = pageLimit(request);
      const after =
        cursor === undefined || cursor === null ? undefined : String(decodeCursor(cursor, ['string'])[0]);
      const rows = await database.db
        .selectFrom('users')
        .selectAll()
        .$if(after !== undefined, (q) => q.where('username', '>', after!))
        .$if(query !== undefined && query !== '', (q) =>
          q.where((eb) => eb.or([prefixMatch('username', query!), prefixMatch('display_name', query!)])),
        )
        .$if(request.includeDisabled === false, (q) => q.where('disabled', '=', 0))
        .orderBy('username')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map((row) => userOf(row, resolved)),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.username]) : null,
      };
    });
  }

  async function updateUser(actor: Actor, userId: string, input: UpdateUserInput): Promise<User> {
    const patch = parseInput(updateUserSchema, input);
    return runAs(context, actor, async (tx, resolved, now) => {
      const action =
        patch.disabled === true ? 'user.disable' : patch.disabled === false ? 'user.enable' : 'user.update';
      const audited = { action, target: { type: 'user', id: userId } } as const;
      requireWrite(resolved, audited);
      const self = resolved.id === userId;
      if (!isAdmin(resolved)) {
        if (!self) deny(resolved, 'only admins may change other users', audited);
        if (patch.role !== undefined || patch.disabled !== undefined) {
          deny(resolved, 'only admins may change roles or disable users', audited);
        }
      }
      const row = await loadUser(tx, userId, true);
      const changes: Partial<UserRow> = {};
      const changed: string[] = [];
      if (patch.displayName !== undefined && patch.displayName !== row.display_name) {
        changes.display_name = patch.displayName;
        changed.push('displayName');
      }
      if (patch.email !== undefined && patch.email !== row.email) {
        changes.email = patch.email;
        changed.push('email');
      }
      if (patch.role !== undefined && patch.role !== row.role) {
        changes.role = patch.role;
        changed.push('role');
      }
      const disabled = patch.disabled === undefined ? undefined : patch.disabled ? 1 : 0;
      if (disabled !== undefined && disabled !== row.disabled) {
        changes.disabled = disabled;
        changed.push('disabled');
      }
      if (changed.length === 0) return userOf(row, resolved);

      const losesAdmin = changes.role === 'member' || changes.disabled === 1;
      if (losesAdmin && row.role === 'admin' && row.disabled === 0 && row.type === 'user') {
        await assertAnotherAdminRemains(tx, userId);
      }
      changes.updated_at = now;
      await tx.updateTable('users').set(changes).where('id', '=', userId).execute();
      // Disabling takes effect everywhere at once: sessions are gone, and tokens stop
      // resolving because their owner is disabled.
      const sessionsRevoked = changes.disabled === 1 ? await deleteSessionsOf(tx, userId) : 0;
      const recorded = changed.includes('disabled')
        ? changes.disabled === 1
          ? 'user.disable'
          : 'user.enable'
        : 'user.update';
      const details: Record<string, string | number | readonly string[]> = { changed };
      if (changes.role !== undefined) details.role = changes.role;
      if (changes.disabled === 1) details.sessionsRevoked = sessionsRevoked;
      await audit.append(
        tx,
        auditEntry(resolved, recorded, 'success', { type: 'user', id: row.id, name: row.username }, details),
      );
      return userOf({ ...row, ...changes }, resolved);
    });
  }

  async function setPassword(actor: Actor, userId: string, input: SetPasswordInput): Promise<void> {
    const target = await runAs(context, actor, async (tx, resolved) => {
      const row = await loadUser(tx, userId);
      authorizePassword(resolved, row);
      return { row, self: resolved.id === row.id, resolved };
    });
    assertPasswordPolicy(input?.newPassword, 'newPassword');
    if (target.self) {
      const current = input.currentPassword;
      const matches =
        typeof current === 'string' &&
        passwordLength(current) <= maxPasswordLength &&
        (await hasher.verify(target.row.password_hash!, current));
      if (!matches) {
        await audit.appendStandalone(
          auditEntry(
            target.resolved,
            'user.password_change',
            'denied',
            {
              type: 'user',
              id: target.row.id,
              name: target.row.username,
            },
            { reason: 'the current password is wrong' },
          ),
        );
        throw new CofferError('forbidden', 'the current password is wrong');
      }
    }
    const passwordHash = await hasher.hash(input.newPassword);
    await runAs(context, actor, async (tx, resolved, now) => {
      const row = await loadUser(tx, userId, true);
      const self = authorizePassword(resolved, row);
      await tx
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: now })
        .where('id', '=', userId)
        .execute();
      // A changed password must lock out whoever used the old one.
      const sessionsRevoked = await deleteSessionsOf(tx, userId);
      await audit.append(
        tx,
        auditEntry(
          resolved,
          'user.password_change',
          'success',
          { type: 'user', id: row.id, name: row.username },
          {
            reset: !self,
            sessionsRevoked,
          },
        ),
      );
    });
  }

  async function login(
    username: string,
    password: string,
    authContext: AuthContext = {},
  ): Promise<LoginResult> {
    const source = authContext.source ?? 'library';
    const address = authContext.address;
    const row =
      typeof username === 'string' && namePattern.test(username)
        ? await database.db
            .selectFrom('users')
            .selectAll()
            .where('username', '=', username)
            .executeTakeFirst()
        : undefined;
    const usable = typeof password === 'string' && passwordLength(password) <= maxPasswordLength;
    let reason: string | undefined;
    // Every failing path below runs exactly one argon2 verification, like the success path
    // (except when passwords are off for everyone, which is refused alike without one).
    if (context.passwordLogin === 'none') {
      // Refused for everyone alike, before any check: the answer says nothing about the password.
      reason = 'password_login_off';
    } else if (row === undefined || row.password_hash === null || !usable) {
      await hasher.verifyDummy(usable ? password : '');
      reason = row === undefined ? 'unknown_user' : !usable ? 'unusable_password' : 'no_password';
    } else if (!(await hasher.verify(row.password_hash, password))) {
      reason = 'wrong_password';
    } else if (row.disabled !== 0) {
      reason = 'disabled';
    }

    const fail = async (why: string, error = loginFailed()): Promise<never> => {
      // The attempted username is not recorded for unknown users: people type passwords
      // into the username field, and the audit log must never hold one.
      await audit.appendStandalone({
        action: 'auth.login_failed',
        outcome: 'failure',
        actor: { type: 'anonymous' },
        source,
        ...(address === undefined ? {} : { address }),
        ...(row === undefined ? {} : { target: { type: 'user', id: row.id, name: row.username } }),
        details: { reason: why },
      });
      logger.info({ userId: row?.id ?? null, reason: why, source }, 'login failed');
      throw error;
    };
    if (reason === 'password_login_off') return fail(reason, ssoRefusalError('password_login_off'));
    if (reason !== undefined || row === undefined) return fail(reason ?? 'unknown_user');
    // Single sign-on may leave passwords to admins (the way in when the provider is down). Said
    // only after the password was right, so it tells no one which accounts are admins.
    if (!passwordLoginAllowed(context.passwordLogin, row.role)) {
      return fail('password_login_off', ssoRefusalError('password_login_off'));
    }

    const rehash = hasher.needsRehash(row.password_hash!) ? await hasher.hash(password) : undefined;
    const loggedIn = await inTransaction(database, async (tx) => {
      const now = isoNow(context.clock);
      // Re-checked in the transaction: the user may have been disabled since the lookup.
      // (Not by the updated-row count: MySQL counts only rows whose values changed unless
      // the client asked for found rows, and two logins can carry the same timestamp.)
      const current = await tx
        .selectFrom('users')
        .select('disabled')
        .where('id', '=', row.id)
        .$if(database.features.forUpdate, (q) => q.forUpdate())
        .executeTakeFirst();
      if (current === undefined || current.disabled !== 0) return undefined;
      await tx
        .updateTable('users')
        .set({ last_login_at: now, ...(rehash === undefined ? {} : { password_hash: rehash }) })
        .where('id', '=', row.id)
        .execute();
      await audit.append(tx, {
        action: 'auth.login',
        outcome: 'success',
        actor: {
          type: row.type === 'service_account' ? 'service_account' : 'user',
          id: row.id,
          name: row.username,
        },
        source,
        ...(address === undefined ? {} : { address }),
        target: { type: 'user', id: row.id, name: row.username },
        details: { method: 'password' },
      });
      return { ...row, last_login_at: now, password_hash: rehash ?? row.password_hash };
    });
    if (loggedIn === undefined) return fail('disabled');
    return { user: userOf(loggedIn, 'self'), actor: asUser(row.id, authContext) };
  }

  return {
    createUser,
    getUser,
    listUsers,
    updateUser,
    disableUser: (actor, userId) => updateUser(actor, userId, { disabled: true }),
    enableUser: (actor, userId) => updateUser(actor, userId, { disabled: false }),
    setPassword,
    login,
  };
}
