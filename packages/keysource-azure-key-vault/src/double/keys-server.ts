import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KeyVaultError, keyVaultResource } from '@coffer/backend-azure-key-vault/double';
import type { KeyVaultKeyStore } from './keys-store.js';

/**
 * The data-plane api-versions the double answers: those `@azure/keyvault-keys` (2025-07-01 by
 * default) and Debian's `azure-keyvault-keys` (7.0 to 7.4-preview.1) send. `rotate` needs 7.3.
 */
export const supportedApiVersions: ReadonlySet<string> = new Set([
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4-preview.1',
  '7.4',
  '7.5-preview.1',
  '7.5',
  '7.6-preview.2',
  '7.6',
  '2025-07-01',
]);

/** The key operations of the REST API the double serves. */
export type KeyOperationName =
  | 'CreateKey'
  | 'GetKey'
  | 'UpdateKey'
  | 'GetKeyVersions'
  | 'WrapKey'
  | 'UnwrapKey'
  | 'RotateKey';

/** One REST operation on keys, with the RBAC data action it needs. */
export interface KeyOperation {
  name: KeyOperationName;
  dataAction: string;
  /** Which throttling limit the operation counts against. */
  limit: 'create' | 'other';
  keyName: string;
  version: string;
}

const action = (verb: string) => `Microsoft.KeyVault/vaults/keys/${verb}`;

/** The data actions of the built-in role "Key Vault Crypto Officer" the double checks. */
export const cryptoOfficerActions: ReadonlySet<string> = new Set([
  action('read'),
  action('create/action'),
  action('update/action'),
  action('rotate/action'),
  action('wrap/action'),
  action('unwrap/action'),
]);

/** "Key Vault Crypto Service Encryption User": read key metadata, wrap and unwrap; nothing else. */
export const cryptoServiceEncryptionUserActions: ReadonlySet<string> = new Set([
  action('read'),
  action('wrap/action'),
  action('unwrap/action'),
]);

/** The operation a method and path stand for, or undefined. */
export function matchKeyOperation(method: string, path: string): KeyOperation | undefined {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  const [collection, name, third, fourth] = parts;
  if (collection !== 'keys' || name === undefined || name === '') return undefined;
  const n = parts.length;
  const op = (
    opName: KeyOperationName,
    verb: string,
    version = '',
    limit: KeyOperation['limit'] = 'other',
  ): KeyOperation => ({ name: opName, dataAction: action(verb), limit, keyName: name, version });
  if (n === 2) {
    if (method === 'GET') return op('GetKey', 'read');
    if (method === 'PATCH') return op('UpdateKey', 'update/action');
    return undefined;
  }
  if (n === 3) {
    if (third === 'create')
      return method === 'POST' ? op('CreateKey', 'create/action', '', 'create') : undefined;
    if (third === 'rotate')
      return method === 'POST' ? op('RotateKey', 'rotate/action', '', 'create') : undefined;
    if (third === 'versions') return method === 'GET' ? op('GetKeyVersions', 'read') : undefined;
    if (method === 'GET') return op('GetKey', 'read', third);
    if (method === 'PATCH') return op('UpdateKey', 'update/action', third);
    return undefined;
  }
  if (n === 4 && method === 'POST') {
    if (fourth === 'wrapkey') return op('WrapKey', 'wrap/action', third);
    if (fourth === 'unwrapkey') return op('UnwrapKey', 'unwrap/action', third);
  }
  return undefined;
}

/** What an injected fault does to an authenticated request. */
export type FaultAction =
  /** Answer with this status and Key Vault error code (e.g. 429 `Throttled`, 500 `InternalServerError`). */
  | { kind: 'error'; status: number; code: string; innerCode?: string; retryAfterSeconds?: number }
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' };

interface PendingFault {
  action: FaultAction;
  remaining: number;
  operation: string | undefined;
}

/** Fault injection and counts of authenticated requests per operation. */
export class FaultPlan {
  readonly #pending: PendingFault[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` authenticated requests (of `operation`, or of any) meet `action`. */
  inject(action: FaultAction, options: { count?: number; operation?: KeyOperationName } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, operation: options.operation });
  }

  clear(): void {
    this.#pending.length = 0;
  }

  /** Authenticated requests seen (refused ones too), of `operation` or in all. */
  requestCount(operation?: KeyOperationName): number {
    if (operation !== undefined) return this.#counts.get(operation) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  take(operation: string): FaultAction | undefined {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const at = this.#pending.findIndex((f) => f.operation === undefined || f.operation === operation);
    if (at === -1) return undefined;
    const fault = this.#pending[at]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.#pending.splice(at, 1);
    return fault.action;
  }
}

/**
 * Key Vault's documented service limits for software RSA 2,048-bit keys, per vault and region, in
 * 10-second windows: 20 key CREATE transactions (create and rotate), 2,000 of all other kinds.
 */
export interface ThrottleLimits {
  createPer10Seconds: number;
  otherPer10Seconds: number;
}

export const keyVaultKeyThrottleLimits: Readonly<ThrottleLimits> = Object.freeze({
  createPer10Seconds: 20,
  otherPer10Seconds: 2_000,
});

/** Token buckets holding ten seconds' worth each, refilled continuously. */
class Throttle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly limits: ThrottleLimits) {}

  /** 0 when the request fits (and is counted), else whole seconds until it would. */
  admit(limit: KeyOperation['limit']): number {
    const per10 = limit === 'create' ? this.limits.createPer10Seconds : this.limits.otherPer10Seconds;
    const t = performance.now();
    const bucket = this.#buckets.get(limit) ?? { tokens: per10, at: t };
    bucket.tokens = Math.min(per10, bucket.tokens + ((t - bucket.at) / 10_000) * per10);
    bucket.at = t;
    this.#buckets.set(limit, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 10) / per10));
  }
}

/** An application registered in the double's Entra ID tenant, and what it may do. */
export interface DoublePrincipal {
  clientId: string;
  clientSecret: string;
  /** Data actions granted on the vault. */
  dataActions: ReadonlySet<string>;
}

export interface IssuedToken {
  principal: DoublePrincipal;
  expiresAt: number;
}

export interface KeyVaultKeysServerOptions {
  store: KeyVaultKeyStore;
  tenantId: string;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Limits to enforce; `false` turns throttling off. */
  throttle: ThrottleLimits | false;
  certPem: string;
  keyPem: string;
  /** Called with the api-version of every vault request. */
  onApiVersion?: (apiVersion: string) => void;
  /** Tokens issued so far; pass the same map to a restarted server so tokens stay valid. */
  tokens?: Map<string, IssuedToken>;
  host?: string;
  port?: number;
}

const maxBodyBytes = 1024 * 1024;
const tokenLifetimeSeconds = 3_599;

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'cache-control': 'no-cache',
    'x-ms-request-id': randomUUID(),
    'x-ms-keyvault-region': 'local',
    'x-ms-keyvault-service-version': '1.9.0.0',
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes)
      throw new KeyVaultError(413, 'RequestTooLarge', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * An HTTPS server speaking Key Vault's keys REST API (the data plane of one vault, at the root of
 * the URL) and the part of Microsoft Entra ID's v2.0 endpoints a confidential client needs: the
 * OpenID configuration and the client-credentials token endpoint. A vault request without a
 * bearer token gets Key Vault's 401 challenge (`WWW-Authenticate: Bearer authorization=
 * "<authority>/<tenant>", resource="https://vault.azure.net"`), which the SDKs answer by asking
 * the token endpoint for `https://vault.azure.net/.default`; the double then accepts only tokens
 * it issued, and checks the principal's data actions.
 */
export async function startKeyVaultKeysServer(
  options: KeyVaultKeysServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const throttle = options.throttle === false ? undefined : new Throttle(options.throttle);
  const tokens = options.tokens ?? new Map<string, IssuedToken>();
  const { store, tenantId } = options;
  let url = '';

  const challenge = () => ({
    'www-authenticate': `Bearer authorization="${url}/${tenantId}", resource="${keyVaultResource}"`,
  });

  const entraError = (
    res: ServerResponse,
    status: number,
    error: string,
    code: number,
    description: string,
  ) => {
    const traceId = randomUUID();
    send(res, status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      correlation_id: randomUUID(),
      error_uri: `${url}/error?code=${code}`,
    });
  };

  const openIdConfiguration = (tenant: string) => ({
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
  });

  const issueToken = async (req: IncomingMessage, res: ServerResponse, tenant: string) => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    if (tenant !== tenantId)
      return entraError(res, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') {
      return entraError(
        res,
        400,
        'unsupported_grant_type',
        70003,
        'The app requested an unsupported grant type.',
      );
    }
    const clientId = form.get('client_id') ?? '';
    const principal = options.principals.find((p) => p.clientId === clientId);
    if (principal === undefined) {
      return entraError(
        res,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.get('client_secret') !== principal.clientSecret) {
      return entraError(
        res,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    if (!(form.get('scope') ?? '').split(' ').includes(`${keyVaultResource}/.default`)) {
      return entraError(
        res,
        400,
        'invalid_scope',
        1002012,
        'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
      );
    }
    const accessToken = `eyJ0eXAiOiJKV1QiLCJkb3VibGUiOnRydWV9.${randomBytes(32).toString('base64url')}`;
    tokens.set(accessToken, { principal, expiresAt: Date.now() + tokenLifetimeSeconds * 1000 });
    send(res, 200, {
      token_type: 'Bearer',
      expires_in: tokenLifetimeSeconds,
      ext_expires_in: tokenLifetimeSeconds,
      access_token: accessToken,
    });
  };

  const entra = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const config = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (config !== null && req.method === 'GET') {
      const tenant = decodeURIComponent(config[1]!);
      if (tenant !== tenantId) entraError(res, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      else send(res, 200, openIdConfiguration(tenant));
      return true;
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token !== null && req.method === 'POST') {
      await issueToken(req, res, decodeURIComponent(token[1]!));
      return true;
    }
    return false;
  };

  const vault = async (req: IncomingMessage, res: ServerResponse, requestUrl: URL) => {
    const auth = String(req.headers.authorization ?? '');
    const issued = auth.startsWith('Bearer ') ? tokens.get(auth.slice('Bearer '.length)) : undefined;
    if (issued === undefined || issued.expiresAt <= Date.now()) {
      // drain what a client may have sent along
      await readBody(req).catch(() => Buffer.alloc(0));
      throw new KeyVaultError(
        401,
        'Unauthorized',
        auth.startsWith('Bearer ')
          ? '[BearerReadAccessTokenFailed] Error validating token: S2S12005.'
          : 'AKV10000: Request is missing a Bearer or PoP token.',
        undefined,
        challenge(),
      );
    }
    const operation = matchKeyOperation(req.method ?? 'GET', requestUrl.pathname);
    const fault = options.faults.take(operation?.name ?? '(unknown)');
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const body = await readBody(req);
    if (fault?.kind === 'error') {
      throw new KeyVaultError(
        fault.status,
        fault.code,
        'Injected failure.',
        fault.innerCode,
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      );
    }
    const apiVersion = requestUrl.searchParams.get('api-version');
    if (apiVersion === null || apiVersion === '') {
      throw new KeyVaultError(
        400,
        'BadParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    if (!supportedApiVersions.has(apiVersion)) {
      throw new KeyVaultError(
        400,
        'BadParameter',
        `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (2025-07-01).`,
      );
    }
    options.onApiVersion?.(apiVersion);
    if (operation === undefined)
      throw new KeyVaultError(404, 'NotFound', 'The requested resource was not found.');
    if (operation.name === 'RotateKey' && /^(?:2016-10-01|7\.[0-2])$/.test(apiVersion)) {
      throw new KeyVaultError(
        400,
        'BadParameter',
        `The operation rotate is not supported by api-version ${apiVersion}.`,
      );
    }
    if (!issued.principal.dataActions.has(operation.dataAction)) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${issued.principal.clientId}\r\nAction: '${operation.dataAction}'\r\nResource: '/keys/${operation.keyName}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null\r\nVault: coffer-double;location=local\r\n`,
        'ForbiddenByRbac',
      );
    }
    if (throttle !== undefined) {
      const wait = throttle.admit(operation.limit);
      if (wait > 0) {
        throw new KeyVaultError(
          429,
          'Throttled',
          `Request was not processed because too many requests were received. Reason: ${operation.limit === 'create' ? 'VaultRequestTypeLimitReached' : 'VaultOperationLimitReached'}`,
          undefined,
          { 'retry-after': String(wait) },
        );
      }
    }
    let input: Record<string, unknown> = {};
    if (body.length > 0) {
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not an object');
        input = parsed as Record<string, unknown>;
      } catch {
        throw new KeyVaultError(400, 'BadParameter', 'The request body is not valid JSON.');
      }
    }
    const { keyName, version } = operation;
    switch (operation.name) {
      case 'CreateKey':
        return send(res, 200, await store.createKey(keyName, input));
      case 'RotateKey':
        return send(res, 200, await store.rotateKey(keyName));
      case 'GetKey':
        return send(res, 200, store.getKey(keyName, version));
      case 'UpdateKey':
        return send(res, 200, store.updateKey(keyName, version, input));
      case 'GetKeyVersions':
        return send(res, 200, store.listVersions(keyName, requestUrl.searchParams, apiVersion));
      case 'WrapKey':
        return send(res, 200, store.wrap(keyName, version, input, false));
      case 'UnwrapKey':
        return send(res, 200, store.wrap(keyName, version, input, true));
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestUrl = new URL(req.url ?? '/', 'https://double');
    try {
      if (await entra(req, res, requestUrl.pathname)) return;
      await vault(req, res, requestUrl);
    } catch (err) {
      const error =
        err instanceof KeyVaultError
          ? err
          : new KeyVaultError(500, 'InternalServerError', 'An unexpected error occurred.');
      send(res, error.status, error.toJSON(), error.headers);
    }
  };

  const server = createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  url = `https://${address.address}:${address.port}`;
  store.vaultUrl = url;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
