import { type Actor, type AuditSource, type Coffer, CofferError } from '@coffer/core';
import type { FastifyRequest } from 'fastify';
import type { CookiePolicy } from './session-cookies.js';

/** How a request proved who it is. */
export interface CofferAuth {
  actor: Actor;
  /** `session`: the browser cookie; `token`: a bearer API token; `host`: the embedding app's hook. */
  via: 'session' | 'token' | 'host';
  /** Set for cookie sessions (CSRF tokens derive from it). */
  sessionId?: string;
}

/**
 * An embedding application's own authentication: maps a request to the Coffer actor it acts
 * as (e.g. `asUser(idOfTheLoggedInUser)`), or undefined to fall back to Coffer's bearer tokens
 * and sessions. The application is then responsible for CSRF protection of its own
 * credentials.
 *
 * @example
 * app.register(cofferPlugin, { prefix: '/coffer', coffer, authenticate: async (req) => req.user ? asUser(req.user.cofferId) : undefined });
 */
export type HostAuthenticate = (request: FastifyRequest) => Actor | undefined | Promise<Actor | undefined>;

const bearerPattern = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]{1,512})[ \t]*$/i;

/** Which source an API request records in the audit log (`X-Coffer-Client: cli` marks the CLI). */
function apiSource(request: FastifyRequest): AuditSource {
  return request.headers['x-coffer-client'] === 'cli' ? 'cli' : 'api';
}

/**
 * Authenticates a request: the host's hook first (when given), then `Authorization: Bearer`,
 * then the session cookie. A presented but wrong credential is `unauthenticated` at once; it
 * never falls through to another one.
 */
export function createAuthenticator(options: {
  coffer: Coffer;
  cookies: CookiePolicy;
  host?: HostAuthenticate | undefined;
  builtin: boolean;
}): (request: FastifyRequest) => Promise<CofferAuth> {
  const { coffer, cookies, host, builtin } = options;
  return async (request) => {
    const address = request.ip;
    if (host !== undefined) {
      const actor = await host(request);
      if (actor !== undefined) {
        return { actor: { source: 'api', ...actor, address: actor.address ?? address }, via: 'host' };
      }
    }
    if (builtin) {
      const authorization = request.headers.authorization;
      if (authorization !== undefined) {
        const match = bearerPattern.exec(authorization);
        if (match === null) {
          throw new CofferError('unauthenticated', 'send an API token as "Authorization: Bearer <token>"');
        }
        const actor = await coffer.identity.authenticateToken(match[1]!, {
          source: apiSource(request),
          address,
        });
        return { actor, via: 'token' };
      }
      const sessionId = request.cookies?.[cookies.sessionName];
      if (sessionId !== undefined && sessionId !== '') {
        const actor = await coffer.identity.authenticateSession(sessionId, { source: 'web', address });
        return { actor, via: 'session', sessionId };
      }
    }
    throw new CofferError(
      'unauthenticated',
      'log in, or send an API token as "Authorization: Bearer <token>"',
    );
  };
}
