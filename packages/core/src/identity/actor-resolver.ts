import type { Kysely } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import type { CofferTables } from '../storage/schema.js';
import type { Actor, ResolvedActor, Role, TokenScope } from './actor.js';

/**
 * What other services need from identity: turning an Actor into who it is right now.
 *
 * @example
 * const audit = createAuditService({ database, audit: auditLog, identity });
 */
export interface ActorResolver {
  /**
   * Looks the actor up in the database. Throws `unauthenticated` for a missing or disabled
   * user and for a revoked or expired token (or a token whose owner is disabled), and
   * `not_found` for an unknown group.
   *
   * @example
   * const me = await identity.resolveActor(asToken(tokenId, { source: 'api' }));
   * me.scope; // 'read-only'
   */
  resolveActor(actor: Actor): Promise<ResolvedActor>;
}

/**
 * Resolves an actor with `db`, which may be a transaction: services resolve inside the
 * transaction of the operation, so the decision and the change see the same state.
 */
export async function resolveActorIn(
  db: Kysely<CofferTables>,
  actor: Actor,
  now: string,
): Promise<ResolvedActor> {
  return (await resolveActorUntil(db, actor, now)).resolved;
}

/**
 * {@link resolveActorIn}, also saying until when the answer holds by itself (a token's expiry),
 * for caches of it.
 */
export async function resolveActorUntil(
  db: Kysely<CofferTables>,
  actor: Actor,
  now: string,
): Promise<{ resolved: ResolvedActor; validUntil: string | null }> {
  const context = {
    source: actor.source ?? 'library',
    ...(actor.address === undefined ? {} : { address: actor.address }),
  };
  const { principal } = actor;
  switch (principal.type) {
    case 'user': {
      const user = await db
        .selectFrom('users')
        .select(['id', 'username', 'type', 'role', 'disabled'])
        .where('id', '=', principal.id)
        .executeTakeFirst();
      if (user === undefined || user.disabled !== 0) {
        throw new CofferError('unauthenticated', 'the acting user is unknown or disabled');
      }
      const resolved: ResolvedActor = {
        type: user.type === 'service_account' ? 'service_account' : 'user',
        id: user.id,
        name: user.username,
        role: user.role as Role,
        groupIds: await groupIdsOf(db, user.id),
        scope: 'read-write',
        ...context,
      };
      return { resolved, validUntil: null };
    }
    case 'token': {
      const row = await db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .select([
          'api_tokens.id as token_id',
          'api_tokens.scope',
          'api_tokens.expires_at',
          'api_tokens.revoked_at',
          'users.id as user_id',
          'users.username',
          'users.type',
          'users.role',
          'users.disabled',
        ])
        .where('api_tokens.id', '=', principal.id)
        .executeTakeFirst();
      if (
        row === undefined ||
        row.revoked_at !== null ||
        (row.expires_at !== null && row.expires_at <= now) ||
        row.disabled !== 0
      ) {
        throw new CofferError('unauthenticated', 'the token is unknown, revoked or expired');
      }
      const resolved: ResolvedActor = {
        type: row.type === 'service_account' ? 'service_account' : 'user',
        id: row.user_id,
        name: row.username,
        role: row.role as Role,
        groupIds: await groupIdsOf(db, row.user_id),
        scope: row.scope as TokenScope,
        tokenId: row.token_id,
        ...context,
      };
      return { resolved, validUntil: row.expires_at };
    }
    case 'group': {
      const group = await db
        .selectFrom('groups')
        .select(['id', 'name'])
        .where('id', '=', principal.id)
        .executeTakeFirst();
      if (group === undefined) throw new CofferError('not_found', `group ${principal.id} not found`);
      // A group acts only for server-side consumers, which may `use` but never change.
      const resolved: ResolvedActor = {
        type: 'group',
        id: group.id,
        name: group.name,
        role: null,
        groupIds: [group.id],
        scope: 'read-only',
        ...context,
      };
      return { resolved, validUntil: null };
    }
  }
}

async function groupIdsOf(db: Kysely<CofferTables>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('group_members')
    .select('group_id')
    .where('user_id', '=', userId)
    .execute();
  return rows.map((r) => r.group_id).sort();
}
