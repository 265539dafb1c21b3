import { type Actor, type AttemptThrottle, type Coffer, CofferError } from '@coffer/core';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CofferAuth } from '../auth/authenticator.js';
import type { CookiePolicy } from '../auth/session-cookies.js';
import type { ConnectionTesterRegistry } from '../connection-tests/connection-tester.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as; null until Coffer's authentication hook ran (and on public routes). */
    cofferAuth: CofferAuth | null;
  }
  interface FastifyContextConfig {
    /** Routes that need no authentication (login, the OpenAPI document, the docs page). */
    cofferPublic?: boolean;
  }
}

/** The Fastify instance Coffer's routes are declared on: zod schemas for validation and OpenAPI. */
export type CofferApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  RawReplyDefaultExpression<RawServerDefault>,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What route handlers need besides the request. */
export interface RouteContext {
  coffer: Coffer;
  cookies: CookiePolicy;
  /** Failed logins per username and address, counted in the database for every server. */
  throttle: AttemptThrottle;
  testers: ConnectionTesterRegistry;
  connectionTestTimeoutMs: number;
}

/** The actor of an authenticated request. */
export function actorOf(request: FastifyRequest): Actor {
  const auth = request.cofferAuth;
  if (auth === null) throw new CofferError('unauthenticated', 'this route needs authentication');
  return auth.actor;
}
