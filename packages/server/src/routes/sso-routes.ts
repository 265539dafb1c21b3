import { readFileSync } from 'node:fs';
import { CofferError, isCofferError, type Logger, passwordLoginPolicies } from '@coffer/core';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ssoClaimsOf } from '../auth/oidc-claims.js';
import { createOidcClient, type OidcClient, OidcFailure } from '../auth/oidc-client.js';
import {
  bindingCookieName,
  cliRedirectWith,
  loginPageWith,
  loopbackRedirect,
  newBinding,
  newState,
  safeNextPath,
  secretsOf,
} from '../auth/oidc-flow.js';
import {
  type ResolvedSsoSettings,
  resolveSsoSettings,
  type SsoSettings,
  ssoSettingsSchema,
} from '../auth/oidc-settings.js';
import { setSessionCookies } from '../auth/session-cookies.js';
import type { CofferApp, RouteContext } from '../plugin/route-context.js';
import { errorResponses, noQuery } from '../schemas/common-schemas.js';
import { tokenInfoSchema, userSchema } from '../schemas/identity-schemas.js';

/**
 * Single sign-on for the routes: the `server.sso` settings (validated again here, so an app
 * mounting the plugin gets the same checks), or undefined for none.
 */
export type SsoRouteOptions = z.input<typeof ssoSettingsSchema>;

const tags = ['auth'];

/** How long a started sign-in may take, and a CLI's code may wait to be redeemed. */
const signInSeconds = 600;

const ssoInfoSchema = z
  .object({
    enabled: z.boolean().describe('Whether single sign-on is configured'),
    name: z.string().nullable().describe('What the login page calls the provider ("Sign in with <name>")'),
    startPath: z
      .string()
      .nullable()
      .describe('Where a browser goes to sign in (`?next=<page>` returns there afterwards)'),
    passwordLogin: z
      .enum(passwordLoginPolicies as ['all', 'admins', 'none'])
      .describe('Who may still log in with a password: `all`, `admins` or `none`'),
  })
  .meta({ id: 'SsoInfo' });

const startQuery = z.strictObject({
  next: z.string().max(2000).optional().describe('The page of the web UI to return to'),
  cliRedirect: z
    .string()
    .max(512)
    .optional()
    .describe('`coffer login --sso`: its loopback address, `http://127.0.0.1:<port>/...`'),
  cliChallenge: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a PKCE S256 challenge (43 characters of base64url)')
    .optional(),
  cliState: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{8,256}$/, 'must be 8 to 256 characters of A-Z a-z 0-9 . _ ~ -')
    .optional(),
});

const tokenBody = z.strictObject({
  code: z.string().min(1).max(128).describe('The code the CLI received on its loopback address'),
  codeVerifier: z.string().min(43).max(128).describe('The PKCE verifier whose challenge started the sign-in'),
  tokenName: z.string().max(100).optional().describe('Default `coffer-cli (single sign-on)`'),
  scope: z.enum(['read-only', 'read-write']).optional().describe('Default `read-write`'),
});

/**
 * Single sign-on with OpenID Connect (authorization code flow with PKCE), for the web UI and
 * for `coffer login --sso`:
 * - `GET /auth/sso`: whether it is configured and who may still log in with a password;
 * - `GET /auth/sso/start`: a browser is sent to the provider (state, nonce and PKCE made here);
 * - `GET /auth/sso/callback`: the provider sends it back; the code is exchanged and the ID token
 *   validated, core finds or creates the user and syncs their groups, and the browser gets a new
 *   session (web) or the CLI a one-time code on its loopback address;
 * - `POST /auth/sso/token`: the CLI redeems that code with its own PKCE verifier for an API token.
 * The two browser routes are left out of the OpenAPI document (they answer with redirects, not
 * JSON); docs/api.md and docs/sso.md describe them.
 */
export function ssoRoutes(
  app: CofferApp,
  { coffer, cookies }: RouteContext,
  options?: SsoRouteOptions,
): void {
  const logger = app.log as unknown as Logger;
  const settings = options === undefined ? undefined : resolveSsoSettings(parseSettings(options), app.prefix);
  const client = settings === undefined ? undefined : createOidcClient(settings, logger);
  if (client !== undefined) void client.warmUp().catch(() => {});
  const startPath = `${app.prefix}/auth/sso/start`;
  const callbackCookiePath = settings === undefined ? '/' : new URL(settings.redirectUri).pathname;
  const secure = (request: FastifyRequest) =>
    cookies.secure === 'auto' ? request.protocol === 'https' : cookies.secure;

  function configured(): { settings: ResolvedSsoSettings; client: OidcClient } {
    if (settings === undefined || client === undefined) {
      throw new CofferError('not_found', 'single sign-on is not configured on this server');
    }
    return { settings, client };
  }

  app.get(
    '/auth/sso',
    {
      config: { cofferPublic: true },
      schema: {
        tags,
        summary: 'Single sign-on: whether it is on',
        security: [],
        description:
          'Public. Whether single sign-on is configured, what to call the provider, where a browser starts signing in, and who may still log in with a password.',
        querystring: noQuery,
        response: { 200: ssoInfoSchema, ...errorResponses },
      },
    },
    async () => ({
      enabled: settings !== undefined,
      name: settings?.name ?? null,
      startPath: settings === undefined ? null : startPath,
      passwordLogin: settings?.passwordLogin ?? 'all',
    }),
  );

  app.get(
    '/auth/sso/start',
    { config: { cofferPublic: true }, schema: { hide: true, querystring: startQuery } },
    async (request, reply) => {
      const sso = configured();
      const query = request.query;
      const cliParts = [query.cliRedirect, query.cliChallenge, query.cliState].filter((p) => p !== undefined);
      if (cliParts.length !== 0 && cliParts.length !== 3) {
        throw CofferError.validation([
          { path: 'cliRedirect', message: 'cliRedirect, cliChallenge and cliState go together' },
        ]);
      }
      const cliRedirect = loopbackRedirect(query.cliRedirect);
      if (query.cliRedirect !== undefined && cliRedirect === undefined) {
        throw CofferError.validation([
          { path: 'cliRedirect', message: 'must be http://127.0.0.1:<port>/... (or [::1], localhost)' },
        ]);
      }
      const cli =
        cliRedirect === undefined ? undefined : { challenge: query.cliChallenge!, state: query.cliState! };
      const next = safeNextPath(query.next);
      const failed = (reason: string) =>
        reply.redirect(
          cli === undefined
            ? loginPageWith(reason, next)
            : cliRedirectWith(cliRedirect!.href, { error: reason, state: cli.state }),
          303,
        );

      const state = newState();
      const binding = newBinding();
      const { nonce, challenge } = secretsOf(binding);
      let location: URL;
      try {
        location = await sso.client.authorizationUrl({ state, nonce, codeChallenge: challenge });
      } catch (err) {
        if (err instanceof OidcFailure) return failed(err.reason);
        throw err;
      }
      await coffer.identity.saveSsoRequest({
        state,
        binding,
        returnTo: cliRedirect?.href ?? next,
        cli,
        ttlSeconds: signInSeconds,
      });
      reply.setCookie(bindingCookieName(state), binding, {
        path: callbackCookiePath,
        httpOnly: true,
        // Lax: the provider sends the browser back with a top-level GET from its own site.
        sameSite: 'lax',
        secure: secure(request),
        maxAge: signInSeconds,
      });
      return reply.redirect(location.href, 303);
    },
  );

  app.get(
    '/auth/sso/callback',
    {
      config: { cofferPublic: true },
      schema: {
        hide: true,
        // Providers add parameters of their own (session_state, iss, ...): all are passed on.
        querystring: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
      },
    },
    async (request, reply) => {
      const sso = configured();
      const parameters = new URLSearchParams();
      for (const [name, value] of Object.entries(request.query)) {
        for (const v of Array.isArray(value) ? value : [value]) parameters.append(name, v);
      }
      const state = parameters.get('state') ?? '';
      const cookieName = bindingCookieName(state);
      const binding = request.cookies?.[cookieName];
      const started =
        state === '' || binding === undefined
          ? undefined
          : await coffer.identity.takeSsoRequest(state, binding);
      if (binding !== undefined) reply.clearCookie(cookieName, { path: callbackCookiePath });
      // Unknown, used, expired, or started in another browser: nothing to finish.
      if (started === undefined || binding === undefined)
        return reply.redirect(loginPageWith('expired', '/'), 303);

      const cli = started.cli;
      const address = request.ip;
      const fail = (reason: string) =>
        reply.redirect(
          cli === null
            ? loginPageWith(reason, started.returnTo)
            : cliRedirectWith(started.returnTo, { error: reason, state: cli.state }),
          303,
        );
      try {
        const { verifier, nonce } = secretsOf(binding);
        const signIn = await sso.client.finish(parameters, { state, nonce, verifier });
        const { user } = await coffer.identity.loginWithSso(
          ssoClaimsOf(signIn, sso.settings),
          sso.settings.policy,
          {
            source: cli === null ? 'web' : 'cli',
            address,
          },
        );
        if (cli !== null) {
          const code = await coffer.identity.createSsoHandoff(user.id, cli.challenge);
          return reply.redirect(cliRedirectWith(started.returnTo, { code, state: cli.state }), 303);
        }
        // A new session, whatever session the browser held before (no session fixation).
        const previous = request.cookies?.[cookies.sessionName];
        if (previous !== undefined && previous !== '') {
          await coffer.identity.revokeSession(previous, { source: 'web', address }).catch(() => false);
        }
        const session = await coffer.identity.createSession(user.id, { address });
        setSessionCookies(cookies, request, reply, session);
        return reply.redirect(started.returnTo, 303);
      } catch (err) {
        return fail(reasonOf(err, request));
      }
    },
  );

  app.post(
    '/auth/sso/token',
    {
      config: { cofferPublic: true },
      schema: {
        tags,
        summary: 'Single sign-on: an API token for the CLI',
        security: [],
        description:
          'Public. `coffer login --sso` redeems the one-time code its loopback address received, with the PKCE verifier of the challenge it started the sign-in with, for a new API token of the user who signed in. A code works once and for a minute; a wrong verifier uses it up.',
        body: tokenBody,
        querystring: noQuery,
        response: {
          201: z
            .object({ token: z.string(), info: tokenInfoSchema, user: userSchema })
            .meta({ id: 'SsoCreatedToken' }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      configured();
      const { code, codeVerifier, tokenName, scope } = request.body;
      const redeemed = await coffer.identity.redeemSsoHandoff(
        code,
        codeVerifier,
        {
          name:
            tokenName === undefined || tokenName.trim() === '' ? 'coffer-cli (single sign-on)' : tokenName,
          scope: scope ?? 'read-write',
        },
        { source: request.headers['x-coffer-client'] === 'cli' ? 'cli' : 'api', address: request.ip },
      );
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(redeemed);
    },
  );

  /** Why a sign-in failed, in the words the login page and the CLI know. */
  function reasonOf(err: unknown, request: FastifyRequest): string {
    if (err instanceof OidcFailure) return err.reason;
    const refusal = isCofferError(err) ? err.details.reason : undefined;
    if (typeof refusal === 'string') return refusal;
    request.log.error({ err }, 'single sign-on failed');
    return 'failed';
  }
}

function parseSettings(options: SsoRouteOptions): SsoSettings {
  const parsed = ssoSettingsSchema.safeParse(options);
  if (parsed.success) {
    const file = parsed.data.clientSecretFile;
    if (file === undefined) return parsed.data;
    // An app mounting the plugin may name the file itself (the standalone server read it already).
    const clientSecret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    return { ...parsed.data, clientSecret, clientSecretFile: undefined };
  }
  const issues = parsed.error.issues.map((i) => ({ path: ['sso', ...i.path].join('.'), message: i.message }));
  throw new CofferError(
    'invalid_config',
    `invalid single sign-on settings: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    {
      details: { issues },
    },
  );
}
