import { type Coffer, CofferError, createAttemptThrottle } from '@coffer/core';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { type CofferAuth, createAuthenticator, type HostAuthenticate } from '../auth/authenticator.js';
import { csrfHeader, csrfMatches, safeMethods } from '../auth/csrf.js';
import type { LoginThrottleSettings } from '../auth/login-throttle.js';
import { type CookiePolicy, clearSessionCookies, defaultCookiePolicy } from '../auth/session-cookies.js';
import { builtinConnectionTesters } from '../connection-tests/connection-test-registry.js';
import type { ConnectionTesterRegistry } from '../connection-tests/connection-tester.js';
import { isConditional } from '../http/etag.js';
import { HttpProblem, problemContentType, problemOf } from '../http/problem.js';
import { responseSerializerCompiler } from '../http/response-serializer.js';
import { zodValidatorCompiler } from '../http/zod-validation.js';
import { auditRoutes } from '../routes/audit-routes.js';
import { authRoutes } from '../routes/auth-routes.js';
import { backendRoutes } from '../routes/backend-routes.js';
import { eventRoutes } from '../routes/event-routes.js';
import { groupRoutes } from '../routes/group-routes.js';
import { keyringRoutes } from '../routes/keyring-routes.js';
import { kindRoutes } from '../routes/kind-routes.js';
import { reminderRoutes } from '../routes/reminder-routes.js';
import { secretRoutes } from '../routes/secret-routes.js';
import { type ShareLinkRouteOptions, shareLinkRoutes } from '../routes/share-link-routes.js';
import { shareRoutes } from '../routes/share-routes.js';
import { type SsoRouteOptions, ssoRoutes } from '../routes/sso-routes.js';
import { tokenRoutes } from '../routes/token-routes.js';
import { userRoutes } from '../routes/user-routes.js';
import { serverVersion } from '../version.js';
import type { CofferApp, RouteContext } from './route-context.js';

/**
 * Options of {@link cofferPlugin}.
 *
 * @example
 * { coffer, authenticate: async (req) => (req.user ? asUser(req.user.cofferId) : undefined) }
 */
export interface CofferPluginOptions {
  /** The engine the API serves. The plugin never closes it. */
  coffer: Coffer;
  /**
   * The embedding application's own authentication, tried first: map a request to a Coffer
   * actor, or return undefined to fall back to bearer tokens and sessions.
   */
  authenticate?: HostAuthenticate;
  /** Coffer's own bearer tokens, login and session cookies (default true). */
  builtinAuth?: boolean;
  cookies?: Partial<CookiePolicy>;
  login?: Partial<LoginThrottleSettings>;
  connectionTests?: { testers?: ConnectionTesterRegistry; timeoutMs?: number };
  /** The largest JSON body accepted, in bytes (default 2 MiB). */
  bodyLimit?: number;
  /** Serve the OpenAPI docs page at `<prefix>/docs` (default true). */
  docs?: boolean;
  /** Where share links point (the web UI's address) and how guesses at them are throttled. */
  shareLinks?: ShareLinkRouteOptions;
  /** Single sign-on with an OpenID Connect provider (docs/sso.md); none when absent. */
  sso?: SsoRouteOptions;
}

/** The CSP of the docs page: Swagger UI's bundled scripts and styles, nothing from elsewhere. */
const docsCsp =
  "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'";

/** The docs page's header logo: Coffer's name, drawn here so nothing is fetched. */
const docsLogo =
  '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40"><rect x="2" y="6" width="28" height="28" rx="6" fill="#f5b301"/><rect x="9" y="17" width="14" height="11" rx="2" fill="#1b1b1b"/><path d="M11 17v-3a5 5 0 0 1 10 0v3" fill="none" stroke="#1b1b1b" stroke-width="2.5"/><text x="40" y="28" font-family="sans-serif" font-size="22" font-weight="700" fill="#fff">Coffer</text></svg>';

/** The CSP of API answers: JSON renders nothing and embeds nowhere. */
const apiCsp = "default-src 'none'; frame-ancestors 'none'";

/**
 * Coffer's REST API as a Fastify plugin: register it under a prefix in any Fastify 5 app.
 * Everything is encapsulated (its validator, JSON-only body parser, error handler and
 * not-found handler apply to its routes only). The standalone server mounts it at `/api/v1`.
 *
 * @example
 * import Fastify from 'fastify';
 * import { createCoffer } from '@coffer/core';
 * import { cofferPlugin } from '@coffer/server';
 *
 * const coffer = await createCoffer({ dataDir: './data' });
 * const app = Fastify();
 * await app.register(cofferPlugin, { prefix: '/coffer/api/v1', coffer });
 */
export const cofferPlugin: FastifyPluginAsync<CofferPluginOptions> = async (fastify, options) => {
  const coffer = options.coffer;
  if (coffer === undefined) throw new CofferError('invalid_config', 'cofferPlugin needs the `coffer` option');
  const app = fastify.withTypeProvider<ZodTypeProvider>() as unknown as CofferApp;
  const cookies: CookiePolicy = { ...defaultCookiePolicy, ...options.cookies };
  const builtin = options.builtinAuth !== false;
  const context: RouteContext = {
    coffer,
    cookies,
    throttle: createAttemptThrottle(coffer.database, { scope: 'login', settings: options.login ?? {} }),
    testers: options.connectionTests?.testers ?? builtinConnectionTesters,
    connectionTestTimeoutMs: options.connectionTests?.timeoutMs ?? 10_000,
  };
  const authenticate = createAuthenticator({ coffer, cookies, host: options.authenticate, builtin });
  const docsPrefix = `${app.prefix}/docs`;

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  installJsonOnlyParser(app, options.bodyLimit ?? 2 * 1024 * 1024);
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);
  app.decorateRequest('cofferAuth', null);

  if (!app.hasDecorator('swagger')) {
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Coffer API',
          version: serverVersion,
          description:
            'The REST API of Coffer, a secrets manager. Errors are `application/problem+json` with a stable `code`. Authenticate with `Authorization: Bearer <token>` or a session cookie from `POST /auth/login` (then send `X-CSRF-Token` on every non-GET request).',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'An API token (`cfr_...`)' },
            session: { type: 'apiKey', in: 'cookie', name: cookies.sessionName },
          },
        },
        security: [{ bearer: [] }, { session: [] }],
      },
      transform: jsonSchemaTransform,
      transformObject: (document) => withoutUnusedSchemas(jsonSchemaTransformObject(document)),
    });
  }

  // NUL has no place in an id, a name or a filter, and PostgreSQL cannot even compare with it.
  app.addHook('onRequest', (request, _reply, done) => {
    if (/%00/i.test(request.url)) {
      done(
        new HttpProblem(400, 'validation', 'the URL must not contain a NUL character (%00)', [
          { path: 'url', message: 'must not contain %00' },
        ]),
      );
      return;
    }
    done();
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.is404 || request.routeOptions.config.cofferPublic === true) return;
    if (request.routeOptions.url?.startsWith(docsPrefix)) return;
    let auth: CofferAuth;
    try {
      auth = await authenticate(request);
    } catch (err) {
      // A session the server no longer knows: drop its cookies so the browser stops sending them.
      if (
        request.cookies?.[cookies.sessionName] !== undefined &&
        request.headers.authorization === undefined
      ) {
        clearSessionCookies(cookies, request, reply);
      }
      throw err;
    }
    if (auth.via === 'session' && !safeMethods.has(request.method)) {
      if (!csrfMatches(auth.sessionId!, request.headers[csrfHeader])) {
        throw new HttpProblem(403, 'forbidden', 'missing or wrong X-CSRF-Token header');
      }
    }
    request.cofferAuth = auth;
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    if (!request.routeOptions.url?.startsWith(docsPrefix)) {
      reply.header('content-security-policy', apiCsp);
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });

  app.setErrorHandler((err, request, reply) => sendProblem(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(new HttpProblem(404, 'not_found', `no route ${request.method} here`), request, reply),
  );

  authRoutes(app, context);
  ssoRoutes(app, context, options.sso);
  secretRoutes(app, context);
  shareRoutes(app, context);
  shareLinkRoutes(app, context, options.shareLinks);
  kindRoutes(app, context);
  userRoutes(app, context);
  groupRoutes(app, context);
  tokenRoutes(app, context);
  auditRoutes(app, context);
  keyringRoutes(app, context);
  backendRoutes(app, context);
  eventRoutes(app, context);
  reminderRoutes(app, context);

  // The document does not change once the routes are registered: build it on first use.
  let openApiText: string | undefined;
  app.get(
    '/openapi.json',
    { config: { cofferPublic: true }, schema: { hide: true } },
    async (_request, reply) => {
      openApiText ??= JSON.stringify(app.swagger());
      reply.header('cache-control', 'no-cache');
      return reply.type('application/json; charset=utf-8').send(openApiText);
    },
  );
  if (options.docs !== false) {
    await app.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      // Without it the page at `<prefix>/docs` (no trailing slash) points at `/docs/static/...`.
      indexPrefix: app.prefix,
      staticCSP: docsCsp,
      uiConfig: { validatorUrl: null, deepLinking: true },
      logo: { type: 'image/svg+xml', content: Buffer.from(docsLogo) },
    });
  }
};

/**
 * The zod transform registers every named schema twice (as request input and as response
 * output); only the ones the document refers to are kept.
 */
function withoutUnusedSchemas<T>(document: T): T {
  const doc = document as { components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas;
  if (schemas === undefined) return document;
  const { components, ...rest } = doc;
  const used = new Set<string>();
  const visit = (text: string) => {
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (name === undefined || used.has(name)) continue;
      used.add(name);
      visit(JSON.stringify(schemas[name] ?? null));
    }
  };
  visit(JSON.stringify(rest));
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...doc, components: { ...components, schemas: kept } } as T;
}

/** Bodies are JSON objects, nothing else: other media types get 415, other JSON 422. */
function installJsonOnlyParser(app: CofferApp, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    parseJson(request, body as string, (err, value) => {
      if (err !== null) {
        done(err, undefined);
        return;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        done(
          new HttpProblem(422, 'validation', 'the request body must be a JSON object', [
            { path: '(root)', message: 'must be a JSON object' },
          ]),
          undefined,
        );
        return;
      }
      done(null, value);
    });
  });
}

function sendProblem(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem, log } = problemOf(err, { conditional: isConditional(request) });
  if (log) request.log.error({ err }, 'request failed');
  else if (problem.status >= 500) request.log.warn({ code: problem.code }, problem.detail);
  if (problem.code === 'rate_limited' || problem.code === 'database_unavailable') {
    const seconds = Number(problem.details?.retryAfterSeconds);
    reply.header('retry-after', String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1));
  }
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="coffer"');
  return reply.code(problem.status).type(problemContentType).send(JSON.stringify(problem));
}
