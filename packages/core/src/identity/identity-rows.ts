import type { GroupRow, UserRow } from '../storage/schema.js';
import type { ResolvedActor, Role, TokenScope } from './actor.js';
import type { Group, TokenInfo, TokenState, User, UserType } from './identity-types.js';

/** A user row as `viewer` may see it: email and last login only for admins and the user. */
export function userOf(row: UserRow, viewer: ResolvedActor | 'self'): User {
  const user: User = {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    type: row.type as UserType,
    role: row.role as Role,
    disabled: row.disabled !== 0,
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (viewer === 'self' || viewer.id === row.id || (viewer.type !== 'group' && viewer.role === 'admin')) {
    user.email = row.email;
    user.lastLoginAt = row.last_login_at;
  }
  return user;
}

export function groupOf(row: GroupRow, memberCount: number): Group {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtin: row.builtin !== 0,
    memberCount,
    createdAt: row.created_at,
  };
}

export interface TokenInfoRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scope: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export function tokenInfoOf(row: TokenInfoRow, now: string): TokenInfo {
  let state: TokenState = 'active';
  if (row.revoked_at !== null) state = 'revoked';
  else if (row.expires_at !== null && row.expires_at <= now) state = 'expired';
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope as TokenScope,
    state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** The columns of `api_tokens` that may leave the service (never `token_hash`). */
export const tokenInfoColumns = [
  'id',
  'user_id',
  'name',
  'prefix',
  'scope',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
] as const;
