import { CofferError, isCofferError } from '@coffer/core';
import { z } from 'zod';
import { csrfHeader, csrfMatches } from '../auth/csrf.js';
import { clearSessionCookies, setSessionCookies } from '../auth/session-cookies.js';
import { HttpProblem } from '../http/problem.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { emptyBody, errorResponses, noContent, noQuery } from '../schemas/common-schemas.js';
import { loginBody, userSchema } from '../schemas/identity-schemas.js';

const tags = ['auth'];

const loginResponse = z.object({
  user: userSchema,
  csrfToken: z.string().describe('Send it as `X-CSRF-Token` on every non-GET request made with the cookie'),
  expiresAt: z.string(),
});

/**
 * Login (a session cookie plus its CSRF token), logout, and who the caller is. Login is rate
 * limited per username and per address with a growing lockout, and a failure says only
 * "invalid username or password", whatever went wrong.
 */
export function authRoutes(app: CofferApp, { coffer, cookies, throttle }: RouteContext): void {
  app.post(
    '/auth/login',
    {
      config: { cofferPublic: true },
      schema: {
        tags,
        summary: 'Log in with username and password',
        security: [],
        description:
          'Sets the HttpOnly session cookie and a readable CSRF cookie; the CSRF token is also in the answer. Repeated failures lock the username and the address out for a growing time (429 with Retry-After).',
        body: loginBody,
        querystring: noQuery,
        response: { 200: loginResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const address = request.ip;
      const wait = await throttle.begin(username, address);
      if (wait > 0) {
        throw new CofferError('rate_limited', `too many failed logins; try again in ${wait} s`, {
          details: { retryAfterSeconds: wait },
        });
      }
      let user: Awaited<ReturnType<typeof coffer.identity.login>>['user'];
      try {
        ({ user } = await coffer.identity.login(username, password, { source: 'web', address }));
      } catch (err) {
        await throttle.end(username, address, isCofferError(err, 'unauthenticated') ? 'failure' : 'error');
        throw err;
      }
      await throttle.end(username, address, 'success');
      const session = await coffer.identity.createSession(user.id, { address });
      const csrfToken = setSessionCookies(cookies, request, reply, session);
      return { user, csrfToken, expiresAt: session.expiresAt };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { cofferPublic: true },
      schema: {
        tags,
        summary: 'Log out',
        security: [],
        description:
          'Ends the cookie session at once, on every server process, and clears the cookies. Idempotent. API tokens are revoked with `DELETE /tokens/{id}` instead.',
        body: emptyBody,
        querystring: noQuery,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const sessionId = request.cookies?.[cookies.sessionName];
      if (sessionId !== undefined && sessionId !== '' && request.headers.authorization === undefined) {
        if (!csrfMatches(sessionId, request.headers[csrfHeader])) {
          throw new HttpProblem(403, 'forbidden', 'missing or wrong X-CSRF-Token header');
        }
        await coffer.identity.revokeSession(sessionId, { source: 'web', address: request.ip });
        clearSessionCookies(cookies, request, reply);
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags,
        summary: 'Who the caller is',
        querystring: noQuery,
        response: {
          200: z.object({
            user: userSchema,
            authenticatedBy: z.enum(['session', 'token', 'host']),
            token: z.object({ id: z.string(), scope: z.enum(['read-only', 'read-write']) }).optional(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const resolved = await coffer.identity.resolveActor(actor);
      const user = await coffer.identity.getUser(actor, resolved.id);
      return {
        user,
        authenticatedBy: request.cofferAuth!.via,
        ...(resolved.tokenId === undefined ? {} : { token: { id: resolved.tokenId, scope: resolved.scope } }),
      };
    },
  );
}
