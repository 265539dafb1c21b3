import { createHash, timingSafeEqual } from 'node:crypto';

/** The header a browser sends the CSRF token in. */
export const csrfHeader = 'x-csrf-token';

/**
 * The CSRF token of a session: derived from the session id, which only the HttpOnly cookie
 * holds, so a page on another site can neither read nor compute it. Every server process
 * sharing the database derives the same token, with nothing stored.
 *
 * @example
 * reply.setCookie('coffer_csrf', csrfTokenFor(sessionId));
 */
export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`coffer-csrf\0${sessionId}`).digest('base64url');
}

/** Whether a presented token belongs to the session, compared in constant time. */
export function csrfMatches(sessionId: string, presented: string | string[] | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Methods that change nothing and so need no CSRF token. */
export const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
