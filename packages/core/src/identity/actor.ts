/**
 * Who performs an operation. Every core operation takes an Actor first; core resolves it
 * against the database on every call, so a disabled user, a revoked token or a removed
 * group membership takes effect on the very next operation.
 *
 * @example
 * await coffer.secrets.get(asUser(userId), secretId);
 * await coffer.secrets.use(asGroup(systemGroupId), smtpId, { purpose: 'mail' });
 */
export type PrincipalRef =
  /** A user (or service account) acting directly: a web session or the embedding application. */
  | { type: 'user'; id: string }
  /** A user or service account authenticated by one of its API tokens; the token's scope applies. */
  | { type: 'token'; id: string }
  /** Server-side code acting for a group (e.g. `system` sending mail): may only `use`. */
  | { type: 'group'; id: string };

/** Where a request came from, recorded in the audit log. */
export type AuditSource = 'library' | 'api' | 'cli' | 'web' | 'system';

export interface Actor {
  principal: PrincipalRef;
  /** Defaults to `library`. */
  source?: AuditSource;
  /** The client's network address, when the request came over the network. */
  address?: string;
}

export type Role = 'admin' | 'member';
export type TokenScope = 'read-only' | 'read-write';

/** An Actor after core looked it up: what access decisions are made from. */
export interface ResolvedActor {
  type: 'user' | 'service_account' | 'group';
  /** The user's, service account's or group's id. */
  id: string;
  /** Username or group name, for the audit log. */
  name: string;
  /** Null for a group actor. */
  role: Role | null;
  /** The groups whose shares apply: a user's memberships, or the group itself. */
  groupIds: readonly string[];
  scope: TokenScope;
  /** Set when authenticated by an API token. */
  tokenId?: string;
  source: AuditSource;
  address?: string;
}

/** The actor for operations a user performs directly. */
export function asUser(id: string, context: Omit<Actor, 'principal'> = {}): Actor {
  return { principal: { type: 'user', id }, ...context };
}

/** The actor for server-side code consuming secrets shared with a group (only `use` is allowed). */
export function asGroup(id: string, context: Omit<Actor, 'principal'> = {}): Actor {
  return { principal: { type: 'group', id }, ...context };
}

/** The actor for a request authenticated with an API token (its scope applies). */
export function asToken(id: string, context: Omit<Actor, 'principal'> = {}): Actor {
  return { principal: { type: 'token', id }, ...context };
}
