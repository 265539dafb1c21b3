import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfTokenFor } from './csrf.js';

/** Names and flags of the cookies a browser session uses. */
export interface CookiePolicy {
  /** The HttpOnly session cookie. */
  sessionName: string;
  /** The readable cookie carrying the CSRF token, for the web UI to echo in `X-CSRF-Token`. */
  csrfName: string;
  /** `auto`: Secure when the request came over TLS (or a trusted proxy says it did). */
  secure: 'auto' | boolean;
  path: string;
}

export const defaultCookiePolicy: CookiePolicy = Object.freeze({
  sessionName: 'coffer_session',
  csrfName: 'coffer_csrf',
  secure: 'auto',
  path: '/',
});

function isSecure(policy: CookiePolicy, request: FastifyRequest): boolean {
  return policy.secure === 'auto' ? request.protocol === 'https' : policy.secure;
}

/** Sets the session cookie and its CSRF companion, both ending when the session does. */
export function setSessionCookies(
  policy: CookiePolicy,
  request: FastifyRequest,
  reply: FastifyReply,
  session: { sessionId: string; expiresAt: string },
): string {
  const csrfToken = csrfTokenFor(session.sessionId);
  const common = {
    path: policy.path,
    sameSite: 'strict',
    secure: isSecure(policy, request),
    expires: new Date(session.expiresAt),
  } as const;
  reply.setCookie(policy.sessionName, session.sessionId, { ...common, httpOnly: true });
  reply.setCookie(policy.csrfName, csrfToken, { ...common, httpOnly: false });
  return csrfToken;
}

/** Removes both cookies (logout, or a session the server no longer knows). */
export function clearSessionCookies(
  policy: CookiePolicy,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const common = { path: policy.path, sameSite: 'strict', secure: isSecure(policy, request) } as const;
  reply.clearCookie(policy.sessionName, { ...common, httpOnly: true });
  reply.clearCookie(policy.csrfName, { ...common, httpOnly: false });
}
