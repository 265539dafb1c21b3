import type { LoginInput, LoginResult, Me } from '../api-types.js';
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
  };
}
