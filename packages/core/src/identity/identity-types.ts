import type { PageRequest } from '../shared/page.js';
import type { Actor, Role, TokenScope } from './actor.js';

/** `user` is a person; `service_account` is a bot that authenticates only with API tokens. */
export type UserType = 'user' | 'service_account';

/**
 * A user or service account as callers see it. `email` and `lastLoginAt` are present only
 * for admins and for the user themself: everyone may look people up (the share dialog needs
 * it), but contact details and activity are private.
 *
 * @example
 * const user = await identity.getUser(actor, id);
 * if (user.email !== undefined) sendMail(user.email);
 */
export interface User {
  id: string;
  username: string;
  displayName: string;
  type: UserType;
  role: Role;
  disabled: boolean;
  /** Absent when the caller may not see it; null when the user has none. */
  email?: string | null;
  /** Absent when the caller may not see it. */
  lastLoginAt?: string | null;
  /** Whether the user can log in with a password (never true for service accounts). */
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * @example
 * await identity.createUser(admin, { username: 'ada', displayName: 'Ada', email: 'ada@example.com', password });
 * await identity.createUser(admin, { username: 'ci-bot', type: 'service_account' });
 */
export interface CreateUserInput {
  username: string;
  /** Defaults to the username. */
  displayName?: string;
  email?: string | null;
  /** Defaults to `member`. */
  role?: Role;
  /** Defaults to `user`. Service accounts have no password. */
  type?: UserType;
  /** 12 to 1024 characters; without one, the user cannot log in until a password is set. */
  password?: string;
}

/**
 * Admins may change every field; users may change their own display name and email.
 *
 * @example
 * await identity.updateUser(admin, id, { role: 'admin' });
 */
export interface UpdateUserInput {
  displayName?: string;
  email?: string | null;
  role?: Role;
  disabled?: boolean;
}

/**
 * @example
 * await identity.listUsers(actor, { query: 'ad', limit: 20 });
 */
export interface ListUsersRequest extends PageRequest {
  /** A prefix of the username or display name (case-insensitive). */
  query?: string;
  /** Defaults to true; the share dialog passes false. */
  includeDisabled?: boolean;
}

/**
 * An admin resets anyone else's password without the current one; a user changing their
 * own password must give the current one.
 *
 * @example
 * await identity.setPassword(asUser(me), me, { currentPassword, newPassword });
 */
export interface SetPasswordInput {
  newPassword: string;
  currentPassword?: string;
}

/** Where an authentication attempt came from, for the audit log. */
export type AuthContext = Omit<Actor, 'principal'>;

/**
 * @example
 * const { user, actor } = await identity.login('ada', password, { source: 'web', address });
 */
export interface LoginResult {
  user: User;
  actor: Actor;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  /** Builtin groups (`system`) exist from bootstrap and cannot be renamed or deleted. */
  builtin: boolean;
  memberCount: number;
  createdAt: string;
}

export interface GroupMember {
  userId: string;
  username: string;
  displayName: string;
  type: UserType;
  disabled: boolean;
  addedAt: string;
}

/**
 * @example
 * const { members } = await identity.getGroup(actor, groupId);
 */
export interface GroupWithMembers extends Group {
  members: GroupMember[];
}

/**
 * @example
 * await identity.createGroup(admin, { name: 'platform', description: 'Platform team' });
 */
export interface CreateGroupInput {
  name: string;
  description?: string;
}

export interface UpdateGroupInput {
  name?: string;
  description?: string;
}

export interface ListGroupsRequest extends PageRequest {
  /** A prefix of the group name (case-insensitive). */
  query?: string;
}

/**
 * @example
 * const { token } = await identity.createToken(actor, { name: 'laptop', scope: 'read-only' });
 */
export interface CreateTokenInput {
  /** Whose token; defaults to the caller. Only admins create tokens for someone else. */
  userId?: string;
  name: string;
  scope: TokenScope;
  /** When the token stops working; none means it works until revoked. */
  expiresAt?: string | Date | null;
}

export type TokenState = 'active' | 'expired' | 'revoked';

/** What is known about a token after it was created. The token itself is never stored. */
export interface TokenInfo {
  id: string;
  userId: string;
  name: string;
  /** The token's first characters (`cfr_` and 8 more), so a user can tell tokens apart. */
  prefix: string;
  scope: TokenScope;
  state: TokenState;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Updated at most once a minute. */
  lastUsedAt: string | null;
}

/**
 * `token` is shown once: only its SHA-256 is stored, so it cannot be shown again.
 *
 * @example
 * const { token, info } = await identity.createToken(actor, { name: 'ci', scope: 'read-write' });
 */
export interface CreatedToken {
  token: string;
  info: TokenInfo;
}

/**
 * @example
 * await identity.listTokens(admin, { userId: botId, includeInactive: true });
 */
export interface ListTokensRequest extends PageRequest {
  /** Whose tokens; defaults to the caller. Only admins list someone else's. */
  userId?: string;
  /** Include revoked and expired tokens; defaults to false. */
  includeInactive?: boolean;
}

/**
 * @example
 * await identity.createSession(user.id, { ttlSeconds: 8 * 3600, address: req.ip });
 */
export interface CreateSessionOptions {
  /** Absolute lifetime; defaults to the service's `sessions.ttlSeconds`. */
  ttlSeconds?: number;
  address?: string;
}

/** `sessionId` goes into the client's cookie; only its SHA-256 is stored. */
export interface CreatedSession {
  sessionId: string;
  expiresAt: string;
}

/**
 * @example
 * const result = await identity.bootstrap();
 * if (result.created) console.log(`admin password: ${result.password}`);
 */
export type BootstrapResult =
  | {
      created: true;
      username: string;
      /** The admin password: the one given, or the generated one. Show it once; it is not stored. */
      password: string;
    }
  | { created: false };

export interface BootstrapOptions {
  /** The first admin's password; generated when absent. */
  adminPassword?: string;
}
