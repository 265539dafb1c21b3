import { CofferError } from '../errors/coffer-error.js';
import { isoNow } from '../shared/clock.js';
import { inTransaction, type Tx } from '../storage/transaction.js';
import { type Actor, asUser } from './actor.js';
import { credentialHash, looksLikeSessionId, newSessionId } from './credential-codec.js';
import {
  addMs,
  auditEntry,
  deny,
  type IdentityContext,
  isAdmin,
  requireWrite,
  runAs,
  touchIntervalMs,
} from './identity-context.js';
import type { AuthContext, CreatedSession, CreateSessionOptions } from './identity-types.js';

/**
 * Web sessions, kept in the database so every server process sharing it knows them. The
 * session id lives only in the client's cookie; the table holds its SHA-256.
 *
 * @example
 * const { actor, user } = await identity.login(username, password, { source: 'web' });
 * const { sessionId } = await identity.createSession(user.id, { address: req.ip });
 * // later, on each request:
 * const actor = await identity.authenticateSession(cookie, { address: req.ip });
 */
export interface SessionService {
  /**
   * Starts a session for a user who has just logged in. The caller (the web server) has
   * authenticated the user; service accounts and disabled users get `unauthenticated`.
   *
   * @example
   * const { sessionId, expiresAt } = await identity.createSession(user.id, { ttlSeconds: 8 * 3600 });
   */
  createSession(userId: string, options?: CreateSessionOptions): Promise<CreatedSession>;
  /**
   * The actor for a session cookie, or `unauthenticated` when the session is unknown,
   * revoked, past its absolute lifetime, idle too long, or its user is disabled. Use moves the
   * idle deadline, written at most once a minute.
   *
   * @example
   * const actor = await identity.authenticateSession(cookie, { source: 'web', address: req.ip });
   */
  authenticateSession(sessionId: string, context?: AuthContext): Promise<Actor>;
  /**
   * Logs a session out (idempotent); true when there was one to end.
   *
   * @example
   * await identity.revokeSession(cookie, { source: 'web', address: req.ip });
   */
  revokeSession(sessionId: string, context?: AuthContext): Promise<boolean>;
  /**
   * Ends every session of a user ("log out everywhere"): the user themself or an admin.
   * Disabling a user and changing a password do this on their own.
   *
   * @example
   * const ended = await identity.revokeAllSessions(asUser(me), me);
   */
  revokeAllSessions(actor: Actor, userId: string): Promise<number>;
  /**
   * Deletes expired and idle sessions; run it now and then (they are refused anyway).
   *
   * @example
   * setInterval(() => identity.purgeExpiredSessions(), 3_600_000);
   */
  purgeExpiredSessions(): Promise<number>;
}

const sessionInvalid = () => new CofferError('unauthenticated', 'the session is unknown or has expired');

/** Deletes a user's sessions inside the caller's transaction; returns how many ended. */
export async function deleteSessionsOf(tx: Tx, userId: string): Promise<number> {
  const result = await tx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The internal factory behind {@link SessionService}. */
export function createSessionService(context: IdentityContext): SessionService {
  const { database, audit, sessions: policy } = context;
  const idleMs = policy.idleTimeoutSeconds * 1000;

  async function createSession(userId: string, options: CreateSessionOptions = {}): Promise<CreatedSession> {
    const ttlSeconds = options.ttlSeconds ?? policy.ttlSeconds;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > policy.maxTtlSeconds) {
      throw CofferError.validation([
        { path: 'ttlSeconds', message: `must be an integer from 60 to ${policy.maxTtlSeconds}` },
      ]);
    }
    return inTransaction(database, async (tx) => {
      const user = await tx
        .selectFrom('users')
        .select(['type', 'disabled'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (user === undefined || user.disabled !== 0 || user.type !== 'user') {
        throw new CofferError('unauthenticated', 'the user cannot start a session');
      }
      const now = isoNow(context.clock);
      const sessionId = newSessionId();
      const expiresAt = addMs(now, ttlSeconds * 1000);
      await tx
        .insertInto('sessions')
        .values({
          id_hash: credentialHash(sessionId),
          user_id: userId,
          created_at: now,
          expires_at: expiresAt,
          last_seen_at: now,
          address: options.address === undefined ? null : options.address.slice(0, 64),
        })
        .execute();
      return { sessionId, expiresAt };
    });
  }

  async function authenticateSession(sessionId: string, authContext: AuthContext = {}): Promise<Actor> {
    if (typeof sessionId !== 'string' || !looksLikeSessionId(sessionId)) throw sessionInvalid();
    const idHash = credentialHash(sessionId);
    const row = await database.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.user_id', 'sessions.expires_at', 'sessions.last_seen_at', 'users.disabled'])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (row === undefined || row.disabled !== 0) throw sessionInvalid();
    const now = isoNow(context.clock);
    if (row.expires_at <= now || addMs(row.last_seen_at, idleMs) <= now) {
      await database.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
      throw sessionInvalid();
    }
    const staleBefore = addMs(now, -touchIntervalMs);
    if (row.last_seen_at < staleBefore) {
      // Conditional, so replicas racing on the same session write once between them.
      await database.db
        .updateTable('sessions')
        .set({ last_seen_at: now })
        .where('id_hash', '=', idHash)
        .where('last_seen_at', '<', staleBefore)
        .execute();
    }
    return asUser(row.user_id, { source: authContext.source ?? 'web', ...addressOf(authContext) });
  }

  async function revokeSession(sessionId: string, authContext: AuthContext = {}): Promise<boolean> {
    if (typeof sessionId !== 'string' || !looksLikeSessionId(sessionId)) return false;
    const idHash = credentialHash(sessionId);
    return inTransaction(database, async (tx) => {
      const row = await tx
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['users.id', 'users.username'])
        .where('sessions.id_hash', '=', idHash)
        .executeTakeFirst();
      if (row === undefined) return false;
      const deleted = await tx.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await audit.append(tx, {
        action: 'auth.logout',
        outcome: 'success',
        actor: { type: 'user', id: row.id, name: row.username },
        source: authContext.source ?? 'web',
        ...addressOf(authContext),
        target: { type: 'session' },
      });
      return true;
    });
  }

  async function revokeAllSessions(actor: Actor, userId: string): Promise<number> {
    return runAs(context, actor, async (tx, resolved) => {
      const audited = { action: 'auth.logout_all', target: { type: 'user', id: userId } } as const;
      requireWrite(resolved, audited);
      if (resolved.id !== userId && !isAdmin(resolved)) {
        deny(resolved, "only admins may end another user's sessions", audited);
      }
      const user = await tx
        .selectFrom('users')
        .select(['id', 'username'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (user === undefined) throw new CofferError('not_found', `user ${userId} not found`);
      const ended = await deleteSessionsOf(tx, userId);
      await audit.append(
        tx,
        auditEntry(
          resolved,
          'auth.logout_all',
          'success',
          { type: 'user', id: user.id, name: user.username },
          {
            sessionsRevoked: ended,
          },
        ),
      );
      return ended;
    });
  }

  async function purgeExpiredSessions(): Promise<number> {
    const now = isoNow(context.clock);
    const result = await database.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', addMs(now, -idleMs))]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  return { createSession, authenticateSession, revokeSession, revokeAllSessions, purgeExpiredSessions };
}

function addressOf(context: AuthContext): { address?: string } {
  return context.address === undefined ? {} : { address: context.address };
}
