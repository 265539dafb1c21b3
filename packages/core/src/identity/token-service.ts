import { randomUUID } from 'node:crypto';
import { CofferError } from '../errors/coffer-error.js';
import { isoNow } from '../shared/clock.js';
import { decodeCursor, encodeCursor, type Page, pageLimit } from '../shared/page.js';
import type { ApiTokenRow } from '../storage/schema.js';
import { type Actor, asToken } from './actor.js';
import { credentialHash, looksLikeApiToken, newApiToken, tokenDisplayPrefix } from './credential-codec.js';
import {
  addMs,
  auditEntry,
  deny,
  type IdentityContext,
  isAdmin,
  parseInput,
  readAs,
  requirePerson,
  requireWrite,
  runAs,
  touchIntervalMs,
} from './identity-context.js';
import { tokenInfoColumns, tokenInfoOf } from './identity-rows.js';
import { createTokenSchema } from './identity-schemas.js';
import type {
  AuthContext,
  CreatedToken,
  CreateTokenInput,
  ListTokensRequest,
  TokenInfo,
} from './identity-types.js';
import { tokensOfUser } from './token-store.js';

/**
 * API tokens: how the CLI, the SDK and service accounts authenticate. A token is shown once
 * at creation; the database keeps its SHA-256 and a short display prefix.
 *
 * @example
 * const { token } = await identity.createToken(admin, { userId: botId, name: 'deploy', scope: 'read-only' });
 * const actor = await identity.authenticateToken(token, { source: 'api' });
 */
export interface TokenService {
  /**
   * Users create tokens for themselves, admins for anyone (service accounts included).
   * Service accounts cannot create tokens, nor can read-only tokens.
   *
   * @example
   * const { token, info } = await identity.createToken(asUser(me), { name: 'laptop', scope: 'read-write' });
   */
  createToken(actor: Actor, input: CreateTokenInput): Promise<CreatedToken>;
  /**
   * The caller's tokens (or, for admins, `userId`'s), newest first; active ones unless
   * `includeInactive`.
   *
   * @example
   * const { items } = await identity.listTokens(asUser(me));
   */
  listTokens(actor: Actor, request?: ListTokensRequest): Promise<Page<TokenInfo>>;
  /**
   * The owner or an admin; effective on the very next request. Revoking a revoked token
   * changes nothing.
   *
   * @example
   * await identity.revokeToken(asUser(me), info.id);
   */
  revokeToken(actor: Actor, tokenId: string): Promise<TokenInfo>;
  /**
   * The actor for a presented token. Unknown, revoked and expired tokens and tokens of
   * disabled users all get the same `unauthenticated` error.
   *
   * @example
   * const actor = await identity.authenticateToken(bearer, { source: 'api', address: req.ip });
   */
  authenticateToken(token: string, context?: AuthContext): Promise<Actor>;
}

const tokenInvalid = () => new CofferError('unauthenticated', 'the token is unknown, revoked or expired');

/** The internal factory behind {@link TokenService}. */
export function createTokenService(context: IdentityContext): TokenService {
  const { database, audit, logger } = context;

  async function createToken(actor: Actor, input: CreateTokenInput): Promise<CreatedToken> {
    const parsed = parseInput(createTokenSchema, input);
    return runAs(context, actor, async (tx, resolved, now) => {
      const userId = parsed.userId ?? resolved.id;
      const audited = {
        action: 'token.create',
        target: { type: 'token', name: parsed.name },
        details: { userId },
      } as const;
      requireWrite(resolved, audited);
      // A bot minting its own tokens would make a leaked token self-renewing.
      if (resolved.type === 'service_account')
        deny(resolved, 'service accounts cannot create tokens', audited);
      if (userId !== resolved.id && !isAdmin(resolved)) {
        deny(resolved, 'only admins may create tokens for someone else', audited);
      }
      const owner = await tx
        .selectFrom('users')
        .select(['id', 'username', 'disabled'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (owner === undefined) throw new CofferError('not_found', `user ${userId} not found`);
      if (owner.disabled !== 0) throw new CofferError('conflict', `user ${owner.username} is disabled`);
      if (parsed.expiresAt !== null && parsed.expiresAt <= now) {
        throw CofferError.validation([{ path: 'expiresAt', message: 'must be in the future' }]);
      }
      const token = newApiToken();
      const row: ApiTokenRow = {
        id: randomUUID(),
        user_id: userId,
        name: parsed.name,
        token_hash: credentialHash(token),
        prefix: tokenDisplayPrefix(token),
        scope: parsed.scope,
        created_at: now,
        expires_at: parsed.expiresAt,
        revoked_at: null,
        last_used_at: null,
      };
      await tx.insertInto('api_tokens').values(row).execute();
      await audit.append(
        tx,
        auditEntry(
          resolved,
          'token.create',
          'success',
          { type: 'token', id: row.id, name: row.name },
          {
            userId,
            username: owner.username,
            scope: row.scope,
            expiresAt: row.expires_at,
            prefix: row.prefix,
          },
        ),
      );
      return { token, info: tokenInfoOf(row, now) };
    });
  }

  async function listTokens(actor: Actor, request: ListTokensRequest = {}): Promise<Page<TokenInfo>> {
    return readAs(context, actor, async (resolved, now) => {
      requirePerson(resolved);
      const userId = request.userId ?? resolved.id;
      if (userId !== resolved.id && !isAdmin(resolved))
        deny(resolved, "only admins may list another user's tokens");
      const limit = pageLimit(request);
      const after =
        request.cursor === undefined || request.cursor === null
          ? undefined
          : (decodeCursor(request.cursor, ['string', 'string']) as [string, string]);
      const rows = await tokensOfUser(database.db, {
        userId,
        includeInactive: request.includeInactive === true,
        now,
        ...(after === undefined ? {} : { after }),
        limit: limit + 1,
        features: database.features,
      });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map((row) => tokenInfoOf(row, now)),
        nextCursor:
          rows.length > limit && last !== undefined ? encodeCursor([last.created_at, last.id]) : null,
      };
    });
  }

  async function revokeToken(actor: Actor, tokenId: string): Promise<TokenInfo> {
    return runAs(context, actor, async (tx, resolved, now) => {
      const audited = { action: 'token.revoke', target: { type: 'token', id: tokenId } } as const;
      // A token may always revoke itself (a read-only one too): giving up access is no change
      // that read-only guards against, and `coffer logout` relies on it.
      if (resolved.tokenId !== tokenId) requireWrite(resolved, audited);
      const row = await tx
        .selectFrom('api_tokens')
        .select(tokenInfoColumns)
        .where('id', '=', tokenId)
        .$if(database.features.forUpdate, (q) => q.forUpdate())
        .executeTakeFirst();
      if (row === undefined) throw new CofferError('not_found', `token ${tokenId} not found`);
      if (row.user_id !== resolved.id && !isAdmin(resolved)) {
        deny(resolved, "only admins may revoke another user's token", audited);
      }
      if (row.revoked_at !== null) return tokenInfoOf(row, now);
      await tx.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', tokenId).execute();
      await audit.append(
        tx,
        auditEntry(
          resolved,
          'token.revoke',
          'success',
          { type: 'token', id: row.id, name: row.name },
          {
            userId: row.user_id,
            prefix: row.prefix,
          },
        ),
      );
      return tokenInfoOf({ ...row, revoked_at: now }, now);
    });
  }

  async function authenticateToken(token: string, authContext: AuthContext = {}): Promise<Actor> {
    if (typeof token !== 'string' || !looksLikeApiToken(token)) throw tokenInvalid();
    const actorOf = (id: string) =>
      asToken(id, {
        source: authContext.source ?? 'api',
        ...(authContext.address === undefined ? {} : { address: authContext.address }),
      });
    const hash = credentialHash(token);
    const { tokens } = context.caches;
    const nowMs = context.clock().getTime();
    const cached = tokens.enabled ? tokens.get(hash, nowMs) : undefined;
    if (cached !== undefined && nowMs - cached.touchedMs < touchIntervalMs) return actorOf(cached.id);
    const generation = tokens.generation;
    const row = await database.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select([
        'api_tokens.id',
        'api_tokens.name',
        'api_tokens.expires_at',
        'api_tokens.revoked_at',
        'api_tokens.last_used_at',
        'users.disabled',
      ])
      .where('api_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    const now = isoNow(context.clock);
    const reason =
      row === undefined
        ? 'unknown_token'
        : row.revoked_at !== null
          ? 'revoked'
          : row.expires_at !== null && row.expires_at <= now
            ? 'expired'
            : row.disabled !== 0
              ? 'disabled'
              : undefined;
    if (reason !== undefined || row === undefined) {
      // A known token that no longer works (revoked, expired, its owner disabled) is a failed
      // login like a wrong password, recorded with the token's id, never its text. Unknown
      // tokens are not recorded: random guesses would cost an audit write each, unthrottled;
      // they show as 401s in /metrics and in the debug log.
      if (row !== undefined) {
        await audit.appendStandalone({
          action: 'auth.login_failed',
          outcome: 'failure',
          actor: { type: 'anonymous' },
          source: authContext.source ?? 'api',
          ...(authContext.address === undefined ? {} : { address: authContext.address }),
          target: { type: 'token', id: row.id, name: row.name },
          details: { reason: reason ?? 'unknown_token', method: 'token' },
        });
      }
      logger.debug(
        { tokenId: row?.id ?? null, reason: reason ?? 'unknown_token' },
        'token authentication failed',
      );
      throw tokenInvalid();
    }
    const staleBefore = addMs(now, -touchIntervalMs);
    if (row.last_used_at === null || row.last_used_at < staleBefore) {
      // Conditional, so replicas racing on the same token write once between them.
      await database.db
        .updateTable('api_tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
        .execute();
    }
    // Served from memory until its last-used time is due again (or an identity change clears it).
    tokens.set(
      hash,
      { id: row.id, touchedMs: nowMs },
      nowMs,
      generation,
      row.expires_at === null ? undefined : Date.parse(row.expires_at),
    );
    return actorOf(row.id);
  }

  return { createToken, listTokens, revokeToken, authenticateToken };
}
