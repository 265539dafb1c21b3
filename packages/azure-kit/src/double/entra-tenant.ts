import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, send } from './http-io.js';

/** The resource Key Vault's challenge names; clients ask Entra ID for `<resource>/.default`. */
export const keyVaultResource = 'https://vault.azure.net';

/** An application registered in the double's Entra ID tenant, and what it may do. */
export interface DoublePrincipal {
  clientId: string;
  clientSecret: string;
  /** Data actions granted on the vault. */
  dataActions: ReadonlySet<string>;
}

/** An access token the tenant issued. */
export interface IssuedToken {
  principal: DoublePrincipal;
  expiresAt: number;
}

const tokenLifetimeSeconds = 3_599;

/**
 * An application of the double's tenant with these data actions, a fresh client id and secret.
 *
 * @example
 * const reader = doublePrincipal(new Set(['Microsoft.KeyVault/vaults/secrets/getSecret/action']));
 */
export function doublePrincipal(dataActions: ReadonlySet<string>): DoublePrincipal {
  return {
    clientId: randomUUID(),
    clientSecret: `double~${randomBytes(24).toString('base64url')}`,
    dataActions,
  };
}

/**
 * The part of Microsoft Entra ID's v2.0 endpoints a confidential client needs, for one tenant:
 * the OpenID configuration and the client-credentials token endpoint, which issues tokens for
 * `https://vault.azure.net/.default` to the tenant's applications; and the bearer challenge Key
 * Vault answers a request without a valid token with.
 *
 * @example
 * const tenant = new EntraTenant(randomUUID(), [officer, reader]);
 * if (await tenant.serve(req, res, url.pathname, baseUrl)) return;
 */
export class EntraTenant {
  constructor(
    readonly tenantId: string,
    readonly principals: readonly DoublePrincipal[],
    /** Tokens issued so far; share one map between restarts of a server so tokens stay valid. */
    readonly tokens: Map<string, IssuedToken> = new Map(),
  ) {}

  /** The `WWW-Authenticate` header of Key Vault's 401 challenge, for a server at `baseUrl`. */
  challenge(baseUrl: string): Record<string, string> {
    return {
      'www-authenticate': `Bearer authorization="${baseUrl}/${this.tenantId}", resource="${keyVaultResource}"`,
    };
  }

  /** The token an `Authorization` header carries, when the tenant issued it and it has not expired. */
  issued(authorization: string): IssuedToken | undefined {
    const token = authorization.startsWith('Bearer ')
      ? this.tokens.get(authorization.slice('Bearer '.length))
      : undefined;
    return token === undefined || token.expiresAt <= Date.now() ? undefined : token;
  }

  /** Answers a request for the tenant's endpoints under `baseUrl`; false when `path` is not one. */
  async serve(req: IncomingMessage, res: ServerResponse, path: string, baseUrl: string): Promise<boolean> {
    const config = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (config !== null && req.method === 'GET') {
      const tenant = decodeURIComponent(config[1]!);
      if (tenant !== this.tenantId)
        this.#error(res, baseUrl, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      else send(res, 200, openIdConfiguration(baseUrl, tenant));
      return true;
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token !== null && req.method === 'POST') {
      await this.#issue(req, res, decodeURIComponent(token[1]!), baseUrl);
      return true;
    }
    return false;
  }

  async #issue(req: IncomingMessage, res: ServerResponse, tenant: string, baseUrl: string): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const refuse = (status: number, error: string, code: number, description: string) =>
      this.#error(res, baseUrl, status, error, code, description);
    if (tenant !== this.tenantId)
      return refuse(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') {
      return refuse(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    const clientId = form.get('client_id') ?? '';
    const principal = this.principals.find((p) => p.clientId === clientId);
    if (principal === undefined) {
      return refuse(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.get('client_secret') !== principal.clientSecret) {
      return refuse(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    if (!(form.get('scope') ?? '').split(' ').includes(`${keyVaultResource}/.default`)) {
      return refuse(
        400,
        'invalid_scope',
        1002012,
        'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
      );
    }
    const accessToken = `eyJ0eXAiOiJKV1QiLCJkb3VibGUiOnRydWV9.${randomBytes(32).toString('base64url')}`;
    this.tokens.set(accessToken, { principal, expiresAt: Date.now() + tokenLifetimeSeconds * 1000 });
    send(res, 200, {
      token_type: 'Bearer',
      expires_in: tokenLifetimeSeconds,
      ext_expires_in: tokenLifetimeSeconds,
      access_token: accessToken,
    });
  }

  /** An Entra ID error answer: the OAuth error and an `AADSTS` code with its description. */
  #error(
    res: ServerResponse,
    baseUrl: string,
    status: number,
    error: string,
    code: number,
    description: string,
  ): void {
    const traceId = randomUUID();
    send(res, status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      correlation_id: randomUUID(),
      error_uri: `${baseUrl}/error?code=${code}`,
    });
  }
}

function openIdConfiguration(url: string, tenant: string): Record<string, unknown> {
  return {
    token_endpoint: `${url}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${url}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${url}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${url}/oidc/userinfo`,
    authorization_endpoint: `${url}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${url}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${url}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}
