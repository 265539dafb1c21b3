import { readFile } from 'node:fs/promises';
import type { Logger } from '@coffer/core';
import type { VaultAuthConfig } from './vault-config.js';
import { classifyVaultAnswer, type VaultFailure, VaultStatusError } from './vault-errors.js';
import { escapePath, type VaultHttp, type VaultResponse } from './vault-http.js';

/** What a login or token lookup tells about a token's life. */
interface Lease {
  /** Seconds the token lives from now; 0 for tokens that never expire (root). */
  ttl: number;
  renewable: boolean;
}

/** What to do after Vault refused a token with 403. */
export type DeniedVerdict = 'retry' | 'permission_denied' | 'unauthenticated';

/** Renew (or log in again) when this share of a token's life has passed. */
const renewAt = 2 / 3;

function authOf(body: unknown): { token: string; lease: Lease } | undefined {
  const auth = (body as { auth?: unknown } | undefined)?.auth as
    | { client_token?: unknown; lease_duration?: unknown; renewable?: unknown }
    | undefined;
  if (typeof auth?.client_token !== 'string' || auth.client_token === '') return undefined;
  const ttl = typeof auth.lease_duration === 'number' ? auth.lease_duration : 0;
  return { token: auth.client_token, lease: { ttl, renewable: auth.renewable === true } };
}

function unauthenticated(vendorCode: string): VaultStatusError {
  const failure: VaultFailure = { kind: 'unauthenticated', vendorCode, retry: false };
  return new VaultStatusError(401, failure);
}

/**
 * The token an instance sends, and how it stays valid. With `token` auth it comes from
 * `VAULT_TOKEN` (or `tokenEnv`) or `tokenFile`, is looked up once to learn its TTL, renewed at two
 * thirds of its life when renewable, and read again from its file when Vault refuses it. With
 * `approle` auth the instance logs in with role_id and secret_id, renews the same way, and logs in
 * again when renewal stops extending the token (its max TTL) or Vault refuses it. Tokens never
 * reach a log line or an error.
 */
export class VaultSession {
  readonly #http: VaultHttp;
  readonly #auth: VaultAuthConfig;
  readonly #env: NodeJS.ProcessEnv;
  readonly #logger: Logger;
  readonly #backend: string;
  #token: string | undefined;
  #pending: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    http: VaultHttp,
    auth: VaultAuthConfig,
    env: NodeJS.ProcessEnv,
    logger: Logger,
    backend: string,
  ) {
    this.#http = http;
    this.#auth = auth;
    this.#env = env;
    this.#logger = logger;
    this.#backend = backend;
  }

  /** The current token, logging in (or loading it) first when there is none. */
  async token(): Promise<string> {
    if (this.#token !== undefined) return this.#token;
    this.#pending ??= this.#establish().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /**
   * Decides what a 403 means. Vault answers 403 both for a token without the policy and for a
   * token it does not know (expired, revoked): a lookup of the token itself tells them apart
   * (every token's `default` policy allows `auth/token/lookup-self`). An invalid token is
   * replaced (login again, or the token file read again) and the call retried once.
   */
  async denied(used: string): Promise<DeniedVerdict> {
    if (this.#token !== undefined && this.#token !== used) return 'retry';
    let res: VaultResponse;
    try {
      res = await this.#http.send({ method: 'GET', path: 'auth/token/lookup-self', token: used });
    } catch {
      return 'permission_denied';
    }
    if (res.status === 200) return 'permission_denied';
    if (res.status !== 403) return 'permission_denied';
    // the token itself is no longer valid
    if (this.#token === used) this.#forget();
    if (this.#auth.method === 'approle') {
      await this.token();
      return 'retry';
    }
    const fresh = await this.#loadToken().catch(() => undefined);
    if (fresh !== undefined && fresh !== used) {
      this.#token = undefined;
      await this.token();
      return 'retry';
    }
    return 'unauthenticated';
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #forget(): void {
    this.#token = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #establish(): Promise<string> {
    if (this.#auth.method === 'approle') {
      const { token, lease } = await this.#login();
      this.#token = token;
      this.#schedule(lease);
      return token;
    }
    const token = await this.#loadToken();
    this.#token = token;
    // learn the token's life so it can be renewed; a token that may not look itself up still works
    try {
      const res = await this.#http.send({ method: 'GET', path: 'auth/token/lookup-self', token });
      const data = (res.body as { data?: { ttl?: unknown; renewable?: unknown } } | undefined)?.data;
      if (res.status === 200 && typeof data?.ttl === 'number') {
        this.#schedule({ ttl: data.ttl, renewable: data.renewable === true });
      }
    } catch {
      // the request that needs the token will meet the same problem and report it
    }
    return token;
  }

  async #loadToken(): Promise<string> {
    if (this.#auth.method !== 'token') throw new Error('not token auth');
    let token: string | undefined;
    if (this.#auth.tokenFile !== undefined) {
      try {
        token = (await readFile(this.#auth.tokenFile, 'utf8')).trim();
      } catch (err) {
        throw unauthenticated(`token_file_${(err as { code?: string }).code ?? 'unreadable'}`);
      }
    } else {
      token = this.#env[this.#auth.tokenEnv]?.trim();
    }
    if (token === undefined || token === '') throw unauthenticated('no_token');
    return token;
  }

  async #login(): Promise<{ token: string; lease: Lease }> {
    if (this.#auth.method !== 'approle') throw new Error('not approle auth');
    let secretId: string | undefined;
    if (this.#auth.secretIdFile !== undefined) {
      try {
        secretId = (await readFile(this.#auth.secretIdFile, 'utf8')).trim();
      } catch (err) {
        throw unauthenticated(`secret_id_file_${(err as { code?: string }).code ?? 'unreadable'}`);
      }
    } else {
      secretId = this.#env[this.#auth.secretIdEnv]?.trim();
    }
    if (secretId === undefined || secretId === '') throw unauthenticated('no_secret_id');
    const res = await this.#http.send({
      method: 'POST',
      path: `auth/${escapePath(this.#auth.mountPath)}/login`,
      body: { role_id: this.#auth.roleId, secret_id: secretId },
    });
    if (res.status === 200) {
      const auth = authOf(res.body);
      if (auth !== undefined) {
        this.#logger.debug(
          { backend: this.#backend, ttl: auth.lease.ttl },
          'logged in to Vault with AppRole',
        );
        return auth;
      }
      throw unauthenticated('login_without_token');
    }
    const failure = classifyVaultAnswer(res);
    // 400 "invalid role or secret ID", 403: the credentials themselves
    if (res.status === 400 || res.status === 403 || res.status === 401)
      throw unauthenticated('login_refused');
    throw new VaultStatusError(res.status, failure);
  }

  #schedule(lease: Lease): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || lease.ttl <= 0) return;
    if (!lease.renewable && this.#auth.method !== 'approle') return;
    const delayMs = Math.max(200, Math.floor(lease.ttl * 1000 * renewAt));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refresh(lease).catch(() => {});
    }, delayMs);
    this.#timer.unref();
  }

  /** Renews the token; logs in again (AppRole) when it cannot be renewed or stopped growing. */
  async #refresh(previous: Lease): Promise<void> {
    const token = this.#token;
    if (token === undefined || this.#closed) return;
    if (previous.renewable) {
      try {
        const res = await this.#http.send({
          method: 'POST',
          path: 'auth/token/renew-self',
          token,
          body: { increment: `${previous.ttl}s` },
        });
        const auth = res.status === 200 ? authOf(res.body) : undefined;
        if (auth !== undefined && this.#token === token) {
          // a renewal cut short by the token's max TTL: the end is near, log in again before it
          if (this.#auth.method !== 'approle' || auth.lease.ttl >= previous.ttl) {
            this.#logger.debug({ backend: this.#backend, ttl: auth.lease.ttl }, 'renewed the Vault token');
            this.#schedule({ ttl: auth.lease.ttl, renewable: auth.lease.renewable });
            return;
          }
          if (auth.lease.ttl > 0) {
            this.#schedule({ ttl: auth.lease.ttl, renewable: false });
            return;
          }
        }
      } catch {
        // fall through: log in again (AppRole) or let the next request find out
      }
    }
    if (this.#auth.method !== 'approle' || this.#token !== token || this.#closed) {
      this.#logger.warn({ backend: this.#backend }, 'could not renew the Vault token');
      return;
    }
    try {
      const { token: fresh, lease } = await this.#login();
      if (this.#closed) return;
      this.#token = fresh;
      this.#schedule(lease);
    } catch (err) {
      this.#logger.warn(
        {
          backend: this.#backend,
          vendorCode: err instanceof VaultStatusError ? err.failure.vendorCode : undefined,
        },
        'could not log in to Vault again; the next request will try',
      );
      if (this.#token === token) this.#forget();
    }
  }
}
