import type { Logger } from '@coffer/core';
import type * as Oidc from 'openid-client';
import { isLoopbackHttp, type ResolvedSsoSettings } from './oidc-settings.js';

/**
 * Why a sign-in could not be finished, as the login page and the CLI are told:
 * `unavailable` (the provider could not be reached or answered nonsense), `denied` (the person
 * said no, or the provider refused them), `failed` (the answer did not validate: state, nonce,
 * PKCE, the ID token's signature, issuer, audience or expiry, or a missing claim).
 */
export type OidcFailureReason = 'unavailable' | 'denied' | 'failed';

/** A sign-in the provider did not complete; `message` is for the log and never holds a token. */
export class OidcFailure extends Error {
  override readonly name = 'OidcFailure';
  constructor(
    readonly reason: OidcFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** What the provider vouched for: the validated ID token's claims, with UserInfo's added. */
export interface VerifiedSignIn {
  issuer: string;
  subject: string;
  claims: Readonly<Record<string, unknown>>;
}

/**
 * The OpenID Connect relying party: builds authorization requests and finishes them at the
 * callback. `openid-client` does the protocol (discovery, PKCE, the code exchange, and the ID
 * token's validation: signature against the provider's JWKS, issuer, audience, expiry, nonce).
 *
 * @example
 * const client = createOidcClient(settings, logger);
 * reply.redirect((await client.authorizationUrl({ state, nonce, codeChallenge })).href);
 */
export interface OidcClient {
  /** The provider's authorization endpoint with this sign-in's parameters. */
  authorizationUrl(input: { state: string; nonce: string; codeChallenge: string }): Promise<URL>;
  /**
   * Validates the callback's parameters and exchanges its code, with the state, nonce and PKCE
   * verifier the sign-in started with. The redirect URI sent is the configured one, whatever
   * host the request came to.
   */
  finish(
    callback: URLSearchParams,
    checks: { state: string; nonce: string; verifier: string },
  ): Promise<VerifiedSignIn>;
  /** Reads the provider's discovery document now (the server does at start, to warn early). */
  warmUp(): Promise<void>;
}

/** openid-client (and jose) loaded on the first sign-in: a server without SSO never needs them. */
let openidClient: Promise<typeof Oidc> | undefined;
const loadOpenidClient = () => {
  openidClient ??= import('openid-client');
  return openidClient;
};

/** Creates the relying party; the provider's metadata is read on first use and kept. */
export function createOidcClient(settings: ResolvedSsoSettings, logger: Logger): OidcClient {
  let configuration: Promise<Oidc.Configuration> | undefined;

  function configured(): Promise<Oidc.Configuration> {
    configuration ??= loadOpenidClient()
      .then((oidc) =>
        oidc.discovery(
          new URL(settings.issuer),
          settings.clientId,
          { redirect_uris: [settings.redirectUri], response_types: ['code'] },
          settings.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(settings.clientSecret),
          {
            timeout: 10,
            ...(isLoopbackHttp(settings.issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
          },
        ),
      )
      .catch((err: unknown) => {
        // Asked again at the next sign-in: the provider may be back by then.
        configuration = undefined;
        logger.warn(
          { error: describe(err), issuer: settings.issuer },
          'single sign-on: cannot read the provider configuration',
        );
        throw new OidcFailure('unavailable', `the identity provider at ${settings.issuer} cannot be reached`);
      });
    return configuration;
  }

  return {
    async authorizationUrl({ state, nonce, codeChallenge }) {
      const config = await configured();
      const oidc = await loadOpenidClient();
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        response_type: 'code',
        scope: settings.scopes.join(' '),
        state,
        nonce,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
    },

    async finish(callback, checks) {
      const config = await configured();
      const oidc = await loadOpenidClient();
      const providerError = callback.get('error');
      if (providerError !== null) {
        logger.info(
          { error: providerError.slice(0, 64) },
          'single sign-on: the provider answered with an error',
        );
        throw new OidcFailure(
          providerError === 'access_denied' || providerError === 'login_required' ? 'denied' : 'failed',
          `the identity provider answered ${providerError.slice(0, 64)}`,
        );
      }
      // The configured redirect URI with the callback's parameters: never the request's own host.
      const current = new URL(settings.redirectUri);
      for (const [name, value] of callback) current.searchParams.append(name, value);
      let tokens: Awaited<ReturnType<typeof Oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        logger.warn({ error: describe(err) }, 'single sign-on: the sign-in did not validate');
        throw new OidcFailure(
          isNetworkError(err) ? 'unavailable' : 'failed',
          'the identity provider’s answer did not validate',
        );
      }
      const idClaims = tokens.claims();
      if (idClaims === undefined) throw new OidcFailure('failed', 'the identity provider sent no ID token');
      let claims: Record<string, unknown> = { ...idClaims };
      const wanted = [settings.usernameClaim, settings.groupsClaim, 'name', 'email'].filter(
        (c): c is string => c !== undefined,
      );
      const userinfo = config.serverMetadata().userinfo_endpoint;
      if (wanted.some((c) => !(c in claims)) && userinfo !== undefined && tokens.access_token !== undefined) {
        try {
          // Providers put profile claims in UserInfo rather than the ID token; its `sub` must match.
          const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          claims = { ...info, ...claims };
        } catch (err) {
          logger.warn({ error: describe(err) }, 'single sign-on: UserInfo could not be read');
          throw new OidcFailure(
            isNetworkError(err) ? 'unavailable' : 'failed',
            'the identity provider’s UserInfo could not be read',
          );
        }
      }
      return { issuer: idClaims.iss, subject: idClaims.sub, claims };
    },

    async warmUp() {
      await configured();
    },
  };
}

/** An error as the log may hold it: its kind and code, never a response body or a token. */
function describe(err: unknown): Record<string, string> {
  const e = err as { name?: unknown; code?: unknown; error?: unknown; cause?: { code?: unknown } } | null;
  const out: Record<string, string> = { name: String(e?.name ?? typeof err) };
  if (typeof e?.code === 'string') out.code = e.code;
  // ResponseBodyError: the OAuth error code (`invalid_grant`), not its description.
  if (typeof e?.error === 'string') out.error = e.error.slice(0, 64);
  if (typeof e?.cause?.code === 'string') out.cause = e.cause.code;
  return out;
}

function isNetworkError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    (err instanceof TypeError && /fetch failed/i.test(String(e?.message)))
  );
}
