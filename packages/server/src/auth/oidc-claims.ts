import type { SsoClaims } from '@coffer/core';
import { OidcFailure, type VerifiedSignIn } from './oidc-client.js';
import type { ResolvedSsoSettings } from './oidc-settings.js';

/**
 * The claims core needs, read from a validated sign-in as the settings say: the username from
 * `usernameClaim`, the display name from `name`, the email only when the provider does not say
 * it is unverified (Coffer never links accounts by email, so it is only shown), and, when
 * `groupsClaim` is set, the groups (a missing claim means none: providers leave it out for
 * people without groups).
 *
 * @example
 * const claims = ssoClaimsOf(await client.finish(query, checks), settings);
 */
export function ssoClaimsOf(
  signIn: VerifiedSignIn,
  settings: Pick<ResolvedSsoSettings, 'usernameClaim' | 'groupsClaim'>,
): SsoClaims {
  const { claims } = signIn;
  const username = claims[settings.usernameClaim];
  if (typeof username !== 'string' || username.trim() === '') {
    throw new OidcFailure('failed', `the identity provider sent no ${settings.usernameClaim} claim`);
  }
  const name = claims.name;
  const email = claims.email;
  return {
    issuer: signIn.issuer,
    subject: signIn.subject,
    username,
    ...(typeof name === 'string' ? { displayName: name } : {}),
    ...(typeof email === 'string' && claims.email_verified !== false ? { email } : {}),
    ...(settings.groupsClaim === undefined ? {} : { groups: groupsOf(claims[settings.groupsClaim]) }),
  };
}

/** A groups claim as a list: an array of strings, or one string; anything else is no groups. */
function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (!Array.isArray(value)) return [];
  return value.filter((g): g is string => typeof g === 'string');
}
