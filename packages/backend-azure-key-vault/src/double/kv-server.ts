import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KeyVaultError } from './kv-error.js';
import type { KeyVaultStore } from './kv-store.js';

/** The resource Key Vault's challenge names; clients ask Entra ID for `<resource>/.default`. */
export const keyVaultResource = 'https://vault.azure.net';

/**
 * The data-plane api-versions the double answers: every version of the secrets API that
 * `@azure/keyvault-secrets` (2025-07-01 by default; 7.5, 7.6 on request) and Debian's
 * `azure-keyvault-secrets` (7.3 by default; 7.0 to 7.3, 2016-10-01) send.
 */
export const supportedApiVersions: ReadonlySet<string> = new Set([
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6-preview.1',
  '7.6-preview.2',
  '7.6',
  '2025-07-01',
]);

/** One REST operation of the secrets API, with the RBAC data action it needs. */
export interface VaultOperation {
  name:
    | 'SetSecret'
    | 'GetSecret'
    | 'UpdateSecret'
    | 'DeleteSecret'
    | 'GetSecrets'
    | 'GetSecretVersions'
    | 'GetDeletedSecrets'
    | 'GetDeletedSecret'
    | 'PurgeDeletedSecret'
    | 'RecoverDeletedSecret';
  dataAction: string;
  /** Which throttling limit the operation counts against. */
  limit: 'create' | 'other';
  secretName?: string;
  version?: string;
}

const action = (verb: string) => `Microsoft.KeyVault/vaults/secrets/${verb}`;

/** The data actions of the built-in role "Key Vault Secrets Officer" that the double checks. */
export const secretsOfficerActions: ReadonlySet<string> = new Set([
  action('getSecret/action'),
  action('setSecret/action'),
  action('update/action'),
  action('readMetadata/action'),
  action('delete'),
  action('recover/action'),
  action('purge/action'),
]);

/** "Key Vault Secrets User": read values and metadata, nothing else. */
export const secretsUserActions: ReadonlySet<string> = new Set([
  action('getSecret/action'),
  action('readMetadata/action'),
]);

/** The operation a method and path stand for, or undefined. */
export function matchOperation(method: string, path: string): VaultOperation | undefined {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  const [collection, name, third, fourth] = parts;
  const n = parts.length;
  if (collection === 'secrets') {
    if (n === 1) return method === 'GET' ? op('GetSecrets', 'readMetadata/action') : undefined;
    if (n === 2 || (n === 3 && third === '')) {
      const version = { secretName: name!, version: '' };
      if (method === 'PUT' && n === 2)
        return { ...op('SetSecret', 'setSecret/action', 'create'), ...version };
      if (method === 'GET') return { ...op('GetSecret', 'getSecret/action'), ...version };
      if (method === 'PATCH') return { ...op('UpdateSecret', 'update/action'), ...version };
      if (method === 'DELETE' && n === 2) return { ...op('DeleteSecret', 'delete'), secretName: name! };
      return undefined;
    }
    if (n === 3 && third === 'versions' && method === 'GET') {
      return { ...op('GetSecretVersions', 'readMetadata/action'), secretName: name! };
    }
    if (n === 3) {
      const version = { secretName: name!, version: third! };
      if (method === 'GET') return { ...op('GetSecret', 'getSecret/action'), ...version };
      if (method === 'PATCH') return { ...op('UpdateSecret', 'update/action'), ...version };
    }
    return undefined;
  }
  if (collection === 'deletedsecrets') {
    if (n === 1) return method === 'GET' ? op('GetDeletedSecrets', 'readMetadata/action') : undefined;
    if (n === 2 && method === 'GET')
      return { ...op('GetDeletedSecret', 'readMetadata/action'), secretName: name! };
    if (n === 2 && method === 'DELETE') {
      return { ...op('PurgeDeletedSecret', 'purge/action'), secretName: name! };
    }
    if (n === 3 && third === 'recover' && method === 'POST' && fourth === undefined) {
      return { ...op('RecoverDeletedSecret', 'recover/action'), secretName: name! };
    }
  }
  return undefined;
}

function op(
  name: VaultOperation['name'],
  verb: string,
  limit: VaultOperation['limit'] = 'other',
): VaultOperation {
  return { name, dataAction: action(verb), limit };
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
  inject(action: FaultAction, options: { count?: number; operation?: VaultOperation['name'] } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, operation: options.operation });
  }

  clear(): void {
    this.#pending.length = 0;
  }

  /** Authenticated requests seen (refused ones too), of `operation` or in all. */
  requestCount(operation?: string): number {
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
 * Key Vault's documented service limits for secrets, per vault and region, in 10-second
 * windows: 300 secret CREATE transactions (a set), 4,000 of all other transactions.
 */
export interface ThrottleLimits {
  createPer10Seconds: number;
  otherPer10Seconds: number;
}

export const keyVaultThrottleLimits: Readonly<ThrottleLimits> = Object.freeze({
  createPer10Seconds: 300,
  otherPer10Seconds: 4_000,
});

/** Token buckets holding ten seconds' worth each, refilled continuously. */
class Throttle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly limits: ThrottleLimits) {}

  /** 0 when the request fits (and is counted), else whole seconds until it would. */
  admit(limit: VaultOperation['limit']): number {
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

export interface KeyVaultServerOptions {
  store: KeyVaultStore;
  tenantId: string;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Limits to enforce; `false` turns throttling off. */
  throttle: ThrottleLimits | false;
  certPem: string;
  keyPem: string;
  /** Called with the api-version of every vault request. */
  onApiVersion?: (apiVersion: string) => void;
  host?: string;
  port?: number;
}

const maxBodyBytes = 1024 * 1024;
const tokenLifetimeSeconds = 3_599;

function headersFor(length: number | undefined, extra: Record<string, string> = {}) {
  return {
    'cache-control': 'no-cache',
    'x-ms-request-id': randomUUID(),
    'x-ms-keyvault-region': 'local',
    'x-ms-keyvault-service-version': '1.9.0.0',
    ...(length === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': String(length ?? 0),
    ...extra,
  };
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, headersFor(undefined, extra));
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, headersFor(Buffer.byteLength(text), extra));
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

interface IssuedToken {
  principal: DoublePrincipal;
  expiresAt: number;
}

/**
 * An HTTPS server speaking Key Vault's secrets REST API (the data plane of one vault, at the
 * root of the URL) and the part of Microsoft Entra ID's v2.0 endpoints a confidential client
 * needs: the OpenID configuration and the client-credentials token endpoint. A vault request
 * without a bearer token gets Key Vault's 401 challenge (`WWW-Authenticate: Bearer
 * authorization="<authority>/<tenant>", resource="https://vault.azure.net"`), which the SDKs
 * answer by asking the token endpoint for `https://vault.azure.net/.default`; the double then
 * accepts only tokens it issued for that scope, and checks the principal's data actions.
 */
export async function startKeyVaultServer(
  options: KeyVaultServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const throttle = options.throttle === false ? undefined : new Throttle(options.throttle);
  const tokens = new Map<string, IssuedToken>();
  const { store, tenantId } = options;
  let url = '';

  const challenge = () => ({
    'www-authenticate': `Bearer authorization="${url}/${tenantId}", resource="${keyVaultResource}"`,
  });

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

  const issueToken = async (req: IncomingMessage, res: ServerResponse, tenant: string) => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    if (tenant !== tenantId) {
      return entraError(res, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    }
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
    const scopes = (form.get('scope') ?? '').split(' ');
    if (!scopes.includes(`${keyVaultResource}/.default`)) {
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
    if (!auth.startsWith('Bearer ')) {
      // drain what a client may have sent along
      await readBody(req).catch(() => Buffer.alloc(0));
      throw new KeyVaultError(
        401,
        'Unauthorized',
        'AKV10000: Request is missing a Bearer or PoP token.',
        undefined,
        challenge(),
      );
    }
    const issued = tokens.get(auth.slice('Bearer '.length));
    if (issued === undefined || issued.expiresAt <= Date.now()) {
      await readBody(req).catch(() => Buffer.alloc(0));
      throw new KeyVaultError(
        401,
        'Unauthorized',
        '[BearerReadAccessTokenFailed] Error validating token: S2S12005.',
        undefined,
        challenge(),
      );
    }
    const operation = matchOperation(req.method ?? 'GET', requestUrl.pathname);
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
    if (!issued.principal.dataActions.has(operation.dataAction)) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${issued.principal.clientId}\r\nAction: '${operation.dataAction}'\r\nResource: '/secrets/${operation.secretName ?? ''}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null\r\nVault: coffer-double;location=local\r\n`,
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
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          input = parsed as Record<string, unknown>;
        } else throw new Error('not an object');
      } catch {
        throw new KeyVaultError(400, 'BadParameter', 'The request body is not valid JSON.');
      }
    }
    const name = operation.secretName ?? '';
    const version = operation.version ?? '';
    const q = requestUrl.searchParams;
    switch (operation.name) {
      case 'SetSecret':
        return send(res, 200, store.setSecret(name, input));
      case 'GetSecret':
        return send(res, 200, store.getSecret(name, version));
      case 'UpdateSecret':
        return send(res, 200, store.updateSecret(name, version, input));
      case 'DeleteSecret':
        return send(res, 200, store.deleteSecret(name));
      case 'GetSecrets':
        return send(res, 200, store.listSecrets(q, apiVersion));
      case 'GetSecretVersions':
        return send(res, 200, store.listVersions(name, q, apiVersion));
      case 'GetDeletedSecrets':
        return send(res, 200, store.listDeletedSecrets(q, apiVersion));
      case 'GetDeletedSecret':
        return send(res, 200, store.getDeletedSecret(name));
      case 'PurgeDeletedSecret':
        store.purgeDeletedSecret(name);
        return send(res, 204, undefined);
      case 'RecoverDeletedSecret':
        return send(res, 200, store.recoverDeletedSecret(name));
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
