import { hash, randomBytes } from 'node:crypto';

/** Every API token starts with this, so secret scanners (and people) can recognise one. */
export const tokenMarker = 'cfr_';

/** `cfr_` plus 32 random bytes in base64url (43 characters, no padding). */
const tokenPattern = /^cfr_[A-Za-z0-9_-]{43}$/;
const sessionIdPattern = /^[A-Za-z0-9_-]{43}$/;

/** Characters of the token kept for display: the marker plus 8 random characters (48 bits). */
const displayPrefixLength = tokenMarker.length + 8;

/**
 * A new API token. 256 random bits make guessing hopeless, which is why a fast unsalted
 * SHA-256 is enough to store it (a password needs argon2 because people pick guessable ones).
 *
 * @example
 * const token = newApiToken(); // 'cfr_3q2-...'
 */
export function newApiToken(): string {
  return tokenMarker + randomBytes(32).toString('base64url');
}

/** Whether a string has the shape of an API token; anything else is rejected without a lookup. */
export function looksLikeApiToken(value: string): boolean {
  return tokenPattern.test(value);
}

/** The part of a token shown in token lists. */
export function tokenDisplayPrefix(token: string): string {
  return token.slice(0, displayPrefixLength);
}

/** A new session id for the client's cookie (256 random bits). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function looksLikeSessionId(value: string): boolean {
  return sessionIdPattern.test(value);
}

/**
 * What the database stores for a token or session id: its SHA-256 in hex. A copy of the
 * database therefore holds nothing that authenticates.
 *
 * @example
 * await tx.selectFrom('api_tokens').where('token_hash', '=', credentialHash(token));
 */
export function credentialHash(credential: string): string {
  // One-shot `hash` (UTF-8, like `update`): a Hash object costs ~0.6 µs more, on every request.
  return hash('sha256', credential, 'hex');
}
