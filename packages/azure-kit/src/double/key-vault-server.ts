import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { listenLocally, type RunningServer } from '@coffer/core/doubles';
import { type DoublePrincipal, EntraTenant, type IssuedToken } from './entra-tenant.js';
import type { FaultPlan } from './fault-plan.js';
import { readBody, send } from './http-io.js';
import { KeyVaultError } from './key-vault-error.js';
import { type ThrottleLimit, type ThrottleLimits, VaultThrottle } from './vault-throttle.js';

/** One REST operation of a Key Vault API, with the RBAC data action it needs. */
export interface VaultOperation {
  /** The operation's name in the REST reference (`SetSecret`, `UnwrapKey`), used for faults and counts. */
  name: string;
  /** The data action a principal needs (`Microsoft.KeyVault/vaults/keys/unwrap/action`). */
  dataAction: string;
  /** Which throttling limit the operation counts against. */
  limit: ThrottleLimit;
}

/** What an operation's handler is given besides the operation. */
export interface VaultRequest {
  /** The JSON body (`{}` when there is none). */
  input: Record<string, unknown>;
  query: URLSearchParams;
  apiVersion: string;
}

export interface KeyVaultServerOptions<Operation extends VaultOperation> {
  tenantId: string;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan<Operation['name']>;
  /** Limits to enforce; `false` turns throttling off. */
  throttle: ThrottleLimits | false;
  certPem: string;
  keyPem: string;
  /** The data-plane api-versions the double answers. */
  apiVersions: ReadonlySet<string>;
  /** Called with the api-version of every vault request. */
  onApiVersion?: (apiVersion: string) => void;
  /** Tokens issued so far; pass the same map to a restarted server so tokens stay valid. */
  tokens?: Map<string, IssuedToken>;
  /** The operation a method and path stand for, or undefined. */
  match(method: string, path: string): Operation | undefined;
  /** The resource a refusal names (`/keys/coffer`). */
  resourceOf(operation: Operation): string;
  /** A check of the service's own before the permission check (an operation an api-version lacks). */
  check?(operation: Operation, apiVersion: string): void;
  /** Serves an operation that passed every check: its answer, or undefined for 204 No Content. */
  serve(operation: Operation, request: VaultRequest): unknown;
  host?: string;
  port?: number;
}

/**
 * What one Key Vault API (secrets, keys) gives the server: its api-versions, its routes, its own
 * checks and the handler of its operations.
 */
export type KeyVaultApi<Operation extends VaultOperation> = Pick<
  KeyVaultServerOptions<Operation>,
  'apiVersions' | 'match' | 'resourceOf' | 'check' | 'serve'
>;

/** A double's HTTPS server, listening. */
export type RunningVault = RunningServer<Server>;

/**
 * An HTTPS server speaking a Key Vault data-plane API (one vault, at the root of the URL) and
 * the part of Microsoft Entra ID's v2.0 endpoints a confidential client needs (see
 * {@link EntraTenant}). A vault request without a bearer token gets Key Vault's 401 challenge
 * (`WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`),
 * which the SDKs answer by asking the token endpoint for `https://vault.azure.net/.default`; the
 * double then accepts only tokens it issued, checks the api-version, the principal's data
 * actions and Key Vault's throttling, injects faults by operation, and hands the rest to the
 * service's `serve`.
 *
 * @example
 * const running = await startKeyVaultServer({ ...keysApi(store), tenantId, principals, faults,
 *   throttle: false, certPem, keyPem });
 */
export async function startKeyVaultServer<Operation extends VaultOperation>(
  options: KeyVaultServerOptions<Operation>,
): Promise<RunningVault> {
  const throttle = options.throttle === false ? undefined : new VaultThrottle(options.throttle);
  const tenant = new EntraTenant(options.tenantId, options.principals, options.tokens);
  let url = '';

  const vault = async (req: IncomingMessage, res: ServerResponse, requestUrl: URL) => {
    const auth = String(req.headers.authorization ?? '');
    const issued = tenant.issued(auth);
    if (issued === undefined) {
      // drain what a client may have sent along
      await readBody(req).catch(() => Buffer.alloc(0));
      throw new KeyVaultError(
        401,
        'Unauthorized',
        auth.startsWith('Bearer ')
          ? '[BearerReadAccessTokenFailed] Error validating token: S2S12005.'
          : 'AKV10000: Request is missing a Bearer or PoP token.',
        undefined,
        tenant.challenge(url),
      );
    }
    const operation = options.match(req.method ?? 'GET', requestUrl.pathname);
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
    if (!options.apiVersions.has(apiVersion)) {
      throw new KeyVaultError(
        400,
        'BadParameter',
        `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (2025-07-01).`,
      );
    }
    options.onApiVersion?.(apiVersion);
    if (operation === undefined)
      throw new KeyVaultError(404, 'NotFound', 'The requested resource was not found.');
    options.check?.(operation, apiVersion);
    if (!issued.principal.dataActions.has(operation.dataAction)) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${issued.principal.clientId}\r\nAction: '${operation.dataAction}'\r\nResource: '${options.resourceOf(operation)}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null\r\nVault: coffer-double;location=local\r\n`,
        'ForbiddenByRbac',
      );
    }
    const wait = throttle?.admit(operation.limit) ?? 0;
    if (wait > 0) {
      throw new KeyVaultError(
        429,
        'Throttled',
        `Request was not processed because too many requests were received. Reason: ${operation.limit === 'create' ? 'VaultRequestTypeLimitReached' : 'VaultOperationLimitReached'}`,
        undefined,
        { 'retry-after': String(wait) },
      );
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
    const out = await options.serve(operation, { input, query: requestUrl.searchParams, apiVersion });
    send(res, out === undefined ? 204 : 200, out);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestUrl = new URL(req.url ?? '/', 'https://double');
    try {
      if (await tenant.serve(req, res, requestUrl.pathname, url)) return;
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
  const running = await listenLocally(server, options.host, options.port);
  url = running.url;
  return running;
}
