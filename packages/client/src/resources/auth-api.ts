import type { LoginInput, LoginResult, Me, SsoCreatedToken, SsoInfo, SsoTokenInput } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { callOptions } from './resource-support.js';

/** Cookie sessions (the web UI, or a script with a password) and who the caller is. */
export interface AuthApi {
  /**
   * `POST /auth/login`: starts a cookie session. From then on the client sends the session's
   * CSRF token as `X-CSRF-Token` on every request that is not GET/HEAD. In a browser the
   * browser keeps the cookies; elsewhere (Node) the client keeps them, in memory.
   */
  login(input: LoginInput, options?: CallOptions): Promise<LoginResult>;
  /** `POST /auth/logout`: ends the session at once, everywhere, and forgets it here. */
  logout(options?: CallOptions): Promise<void>;
  /** `GET /auth/me`: the caller, how it authenticated, and its token's id and scope. */
  me(options?: CallOptions): Promise<Me>;
  /**
   * `GET /auth/sso` (public): whether single sign-on is configured, what to call the provider,
   * the path a browser starts signing in at (`startPath`), and who may still use a password.
   *
   * @example
   * const { enabled, name, startPath } = await client.auth.sso();
   * if (enabled) location.assign(`${startPath}?next=${encodeURIComponent('/secrets')}`);
   */
  sso(options?: CallOptions): Promise<SsoInfo>;
  /**
   * `POST /auth/sso/token` (public): redeems the one-time code a loopback sign-in received
   * (`coffer login --sso`) with the PKCE verifier it started with, for a new API token.
   *
   * @example
   * const { token, user } = await client.auth.ssoToken({ code, codeVerifier, tokenName: 'laptop' });
   */
  ssoToken(input: SsoTokenInput, options?: CallOptions): Promise<SsoCreatedToken>;
}

export function authApi(transport: Transport): AuthApi {
  return {
    login: async (input, options) => {
      const result = await transport.call('POST /auth/login', { body: input, ...callOptions(options) });
      transport.startSession(result.csrfToken);
      return result;
    },
    logout: async (options) => {
      await transport.call('POST /auth/logout', callOptions(options));
      transport.endSession();
    },
    me: (options) => transport.call('GET /auth/me', callOptions(options)),
    sso: (options) => transport.call('GET /auth/sso', callOptions(options)),
    ssoToken: (input, options) =>
      transport.call('POST /auth/sso/token', { body: input, ...callOptions(options) }),
  };
}
