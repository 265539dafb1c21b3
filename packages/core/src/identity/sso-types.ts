import type { TokenScope } from './actor.js';
import type { CreatedToken, LoginResult, User } from './identity-types.js';

/**
 * Who may log in with a password: everyone, admins only, or nobody. With single sign-on,
 * `admins` keeps a way in when the identity provider is down (the break-glass, see docs/sso.md);
 * API tokens keep working whatever this says.
 */
export type PasswordLoginPolicy = 'all' | 'admins' | 'none';

/** The password-login policies, in order of how much they allow. */
export const passwordLoginPolicies: readonly PasswordLoginPolicy[] = ['all', 'admins', 'none'];

/**
 * What an identity provider vouched for, after the caller (the server) validated its ID token:
 * signature, issuer, audience, expiry, nonce. Core trusts these as given.
 *
 * @example
 * { issuer: 'https://id.example.com', subject: '248289761001', username: 'Ada', groups: ['eng'] }
 */
export interface SsoClaims {
  /** The provider's issuer identifier (`iss`), at most 255 characters. */
  issuer: string;
  /** The provider's stable id of the account (`sub`), at most 255 characters. */
  subject: string;
  /** The username claim as the provider sent it; {@link ssoUsername} makes a Coffer username of it. */
  username: string;
  /** Shown in Coffer (the `name` claim); the username when absent. */
  displayName?: string | undefined;
  /** A verified email address only; never used to find or link an account. */
  email?: string | null | undefined;
  /**
   * The provider's groups of the account. `undefined` leaves group memberships alone (no groups
   * claim configured); an array, even an empty one, keeps the managed groups in step with it.
   */
  groups?: readonly string[] | undefined;
}

/**
 * How sign-ins become Coffer users and group memberships (the `server.sso` settings).
 *
 * @example
 * { autoCreateUsers: true, linkExistingUsers: false, groupMapping: { 'eng-staff': ['engineering'] }, matchExistingGroups: false }
 */
export interface SsoPolicy {
  /** The first sign-in of an unknown account creates a member (else it is refused). */
  autoCreateUsers: boolean;
  /**
   * The first sign-in may take over an existing, not yet linked user of the same username even
   * if it has a password. Off by default: a provider that lets people pick their username would
   * hand them any local account. Users created without a password (prepared for single sign-on
   * by an admin) are linked either way.
   */
  linkExistingUsers: boolean;
  /** A provider group → the Coffer groups (by name) it stands for. */
  groupMapping: Readonly<Record<string, readonly string[]>>;
  /**
   * A provider group without a mapping joins the Coffer group of the same name (lowercased), and
   * every group is kept in step with the provider (not only the mapped ones).
   */
  matchExistingGroups: boolean;
}

/** Why a sign-in was refused (`details.reason` of the error and of the `auth.login_failed` record). */
export type SsoRefusal =
  | 'invalid_claims'
  | 'username_taken'
  | 'not_provisioned'
  | 'disabled'
  | 'password_login_off';

/**
 * @example
 * const { user, created, groupsAdded } = await identity.loginWithSso(claims, policy, { source: 'web' });
 */
export interface SsoLoginResult extends LoginResult {
  /** This sign-in created the user. */
  created: boolean;
  /** This sign-in linked the provider's account to a user that existed already. */
  linked: boolean;
  /** Names of the groups joined and left to match the provider's groups. */
  groupsAdded: string[];
  groupsRemoved: string[];
}

/**
 * A sign-in being started: `state` goes to the provider and comes back, `binding` stays in the
 * browser's cookie (the PKCE verifier and nonce derive from it). Only hashes are stored.
 */
export interface SsoRequestInput {
  state: string;
  binding: string;
  /** A path of the web UI, or the CLI's loopback redirect for `coffer login --sso`. */
  returnTo: string;
  /** For the CLI: its PKCE challenge (S256) and its own state, handed back with the code. */
  cli?: { challenge: string; state: string } | undefined;
  /** How long the sign-in may take; default 600. */
  ttlSeconds?: number;
}

/** A started sign-in, taken back at the callback (once). */
export interface SsoRequest {
  returnTo: string;
  cli: { challenge: string; state: string } | null;
  createdAt: string;
}

/**
 * @example
 * const { token, user } = await identity.redeemSsoHandoff(code, verifier, { name: 'coffer-cli@laptop', scope: 'read-write' });
 */
export interface SsoHandoffRedeemInput {
  name: string;
  scope: TokenScope;
  expiresAt?: string | Date | null;
}

export interface RedeemedSsoHandoff extends CreatedToken {
  user: User;
}
