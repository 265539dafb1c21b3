import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GoogleApiError, quotaDetails } from './google-error.js';
import type { AnswerOptions, SecretManagerStore } from './sm-store.js';

/** One REST method the double serves, as the discovery document names it. */
export interface DoubleRoute {
  /** The RPC name (`AddSecretVersion`), used for faults and counts. */
  rpc: string;
  /** The discovery method id (`secretmanager.projects.secrets.addVersion`). */
  methodId: string;
  httpMethod: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The discovery `flatPath`. */
  flatPath: string;
  /** The IAM permission the method needs. */
  permission: string;
  /** Which quota the request counts against. */
  quota: 'access' | 'read' | 'write';
}

const global = (
  rpc: string,
  id: string,
  httpMethod: DoubleRoute['httpMethod'],
  path: string,
  permission: string,
  quota: DoubleRoute['quota'],
): DoubleRoute[] => [
  {
    rpc,
    methodId: `secretmanager.projects.${id}`,
    httpMethod,
    flatPath: `v1/projects/{projectsId}/${path}`,
    permission,
    quota,
  },
  {
    rpc,
    methodId: `secretmanager.projects.locations.${id}`,
    httpMethod,
    flatPath: `v1/projects/{projectsId}/locations/{locationsId}/${path}`,
    permission,
    quota,
  },
];

/** Every route the double serves, global and regional. */
export const doubleRoutes: readonly DoubleRoute[] = Object.freeze([
  ...global('ListSecrets', 'secrets.list', 'GET', 'secrets', 'secretmanager.secrets.list', 'read'),
  ...global('CreateSecret', 'secrets.create', 'POST', 'secrets', 'secretmanager.secrets.create', 'write'),
  ...global('GetSecret', 'secrets.get', 'GET', 'secrets/{secretsId}', 'secretmanager.secrets.get', 'read'),
  ...global(
    'UpdateSecret',
    'secrets.patch',
    'PATCH',
    'secrets/{secretsId}',
    'secretmanager.secrets.update',
    'write',
  ),
  ...global(
    'DeleteSecret',
    'secrets.delete',
    'DELETE',
    'secrets/{secretsId}',
    'secretmanager.secrets.delete',
    'write',
  ),
  ...global(
    'AddSecretVersion',
    'secrets.addVersion',
    'POST',
    'secrets/{secretsId}:addVersion',
    'secretmanager.versions.add',
    'write',
  ),
  ...global(
    'ListSecretVersions',
    'secrets.versions.list',
    'GET',
    'secrets/{secretsId}/versions',
    'secretmanager.versions.list',
    'read',
  ),
  ...global(
    'GetSecretVersion',
    'secrets.versions.get',
    'GET',
    'secrets/{secretsId}/versions/{versionsId}',
    'secretmanager.versions.get',
    'read',
  ),
  ...global(
    'AccessSecretVersion',
    'secrets.versions.access',
    'GET',
    'secrets/{secretsId}/versions/{versionsId}:access',
    'secretmanager.versions.access',
    'access',
  ),
  ...global(
    'DestroySecretVersion',
    'secrets.versions.destroy',
    'POST',
    'secrets/{secretsId}/versions/{versionsId}:destroy',
    'secretmanager.versions.destroy',
    'write',
  ),
  ...global(
    'DisableSecretVersion',
    'secrets.versions.disable',
    'POST',
    'secrets/{secretsId}/versions/{versionsId}:disable',
    'secretmanager.versions.disable',
    'write',
  ),
  ...global(
    'EnableSecretVersion',
    'secrets.versions.enable',
    'POST',
    'secrets/{secretsId}/versions/{versionsId}:enable',
    'secretmanager.versions.enable',
    'write',
  ),
]);

/** What an injected fault does to a request. */
export type FaultAction =
  /** Answer with this canonical error (e.g. `UNAVAILABLE`, `RESOURCE_EXHAUSTED`). */
  | { kind: 'error'; status: string; retryDelaySeconds?: number }
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' };

interface PendingFault {
  action: FaultAction;
  remaining: number;
  rpc: string | undefined;
}

/** Fault injection and request counts of a running double. */
export class FaultPlan {
  readonly #pending: PendingFault[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` requests (of `rpc`, or of any) meet `action`. */
  inject(action: FaultAction, options: { count?: number; rpc?: string } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, rpc: options.rpc });
  }

  clear(): void {
    this.#pending.length = 0;
  }

  /** Requests seen (refused ones too), of `rpc` or in all. */
  requestCount(rpc?: string): number {
    if (rpc !== undefined) return this.#counts.get(rpc) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  take(rpc: string): FaultAction | undefined {
    this.#counts.set(rpc, (this.#counts.get(rpc) ?? 0) + 1);
    const at = this.#pending.findIndex((f) => f.rpc === undefined || f.rpc === rpc);
    if (at === -1) return undefined;
    const fault = this.#pending[at]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.#pending.splice(at, 1);
    return fault.action;
  }
}

/** Request quotas per minute per project, after Secret Manager's quota page. */
export interface QuotaLimits {
  accessPerMinute: number;
  readPerMinute: number;
  writePerMinute: number;
}

export const secretManagerQuotas: Readonly<QuotaLimits> = Object.freeze({
  accessPerMinute: 90_000,
  readPerMinute: 600,
  writePerMinute: 600,
});

/** Token buckets per quota, each holding a minute's worth, refilled continuously. */
class QuotaThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly limits: QuotaLimits) {}

  /** 0 when the request fits (and is counted), else seconds until it would. */
  admit(quota: DoubleRoute['quota']): number {
    const perMinute =
      quota === 'access'
        ? this.limits.accessPerMinute
        : quota === 'read'
          ? this.limits.readPerMinute
          : this.limits.writePerMinute;
    const t = performance.now();
    const bucket = this.#buckets.get(quota) ?? { tokens: perMinute, at: t };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((t - bucket.at) / 60_000) * perMinute);
    bucket.at = t;
    this.#buckets.set(quota, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / perMinute));
  }
}

/** A principal of the double: the token it exchanges its subject token for, and its permissions. */
export interface DoublePrincipal {
  /** What the credential source file holds (the external identity's token). */
  subjectToken: string;
  /** `undefined` means every permission. */
  permissions?: ReadonlySet<string>;
}

/** One answer the double sent, for the discovery check. */
export interface RecordedAnswer {
  route: DoubleRoute | undefined;
  status: number;
  body: unknown;
}

export interface SecretManagerServerOptions {
  store: SecretManagerStore;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Quotas to enforce; `false` turns them off. */
  quotas: QuotaLimits | false;
  /** Called with every answer (tests check them against the discovery document). */
  record?: (answer: RecordedAnswer) => void;
  host?: string;
  port?: number;
}

const maxBodyBytes = 1024 * 1024;
const tokenType = 'urn:ietf:params:oauth:token-type:access_token';

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes)
      throw new GoogleApiError('INVALID_ARGUMENT', 'Request payload size exceeds the limit.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface Matched {
  route: DoubleRoute;
  project: string;
  location: string;
  secret?: string;
  version?: string;
}

const pathPattern =
  /^\/v1\/projects\/([^/:]+)(?:\/locations\/([^/:]+))?\/secrets(?:\/([^/:]+)(?:\/versions(?:\/([^/:]+))?)?)?(?::([A-Za-z]+))?$/;

/** The route a method and path stand for, with the path's variables. */
export function matchRoute(method: string, path: string): Matched | undefined {
  const m = pathPattern.exec(path);
  if (m === null) return undefined;
  const [, project, location, secret, version, verb] = m;
  const regional = location !== undefined;
  let shape: string;
  if (secret === undefined) shape = verb === undefined ? 'secrets' : '';
  else if (version === undefined) {
    const versions = path.includes(`/secrets/${secret}/versions`);
    if (versions) shape = verb === undefined ? 'secrets/{secretsId}/versions' : '';
    else shape = verb === undefined ? 'secrets/{secretsId}' : `secrets/{secretsId}:${verb}`;
  } else
    shape =
      verb === undefined
        ? 'secrets/{secretsId}/versions/{versionsId}'
        : `secrets/{secretsId}/versions/{versionsId}:${verb}`;
  const flatPath = regional
    ? `v1/projects/{projectsId}/locations/{locationsId}/${shape}`
    : `v1/projects/{projectsId}/${shape}`;
  const route = doubleRoutes.find((r) => r.flatPath === flatPath && r.httpMethod === method);
  if (route === undefined) return undefined;
  return {
    route,
    project: decodeURIComponent(project!),
    location: location === undefined ? 'global' : decodeURIComponent(location),
    ...(secret === undefined ? {} : { secret: decodeURIComponent(secret) }),
    ...(version === undefined ? {} : { version: decodeURIComponent(version) }),
  };
}

/**
 * An HTTP server speaking Secret Manager's REST v1 (JSON over HTTP/1.1) with bearer tokens, and
 * the STS token exchange (`POST /v1/token`) that external-account credentials use to get them.
 */
export async function startSecretManagerServer(
  options: SecretManagerServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const throttle = options.quotas === false ? undefined : new QuotaThrottle(options.quotas);
  const tokens = new Map<string, DoublePrincipal>();
  const { store } = options;

  const exchange = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const refuse = (error: string, description: string) =>
      send(res, 400, { error, error_description: description });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') {
      return refuse('unsupported_grant_type', 'Invalid grant_type.');
    }
    const principal = options.principals.find((p) => p.subjectToken === form.get('subject_token'));
    if (principal === undefined) return refuse('invalid_grant', 'The subject token is invalid or expired.');
    const accessToken = `ya29.double-${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, principal);
    send(res, 200, {
      access_token: accessToken,
      issued_token_type: tokenType,
      token_type: 'Bearer',
      expires_in: 3600,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://double');
    if (req.method === 'POST' && url.pathname === '/v1/token') return exchange(req, res);
    const matched = matchRoute(req.method ?? 'GET', url.pathname);
    const fault = options.faults.take(matched?.route.rpc ?? '(unknown)');
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (res.destroyed) return;
    const answer = (status: number, body: unknown) => {
      options.record?.({ route: matched?.route, status, body });
      send(res, status, body);
    };
    try {
      const body = await readBody(req);
      if (fault?.kind === 'error') {
        throw new GoogleApiError(
          fault.status,
          'Injected failure.',
          fault.retryDelaySeconds === undefined
            ? []
            : [
                {
                  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
                  retryDelay: `${fault.retryDelaySeconds}s`,
                },
              ],
        );
      }
      const auth = String(req.headers.authorization ?? '');
      const principal = auth.startsWith('Bearer ') ? tokens.get(auth.slice('Bearer '.length)) : undefined;
      if (principal === undefined) {
        throw new GoogleApiError(
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        );
      }
      if (matched === undefined)
        throw new GoogleApiError('NOT_FOUND', `The requested URL ${url.pathname} was not found.`);
      const { route, location } = matched;
      if (matched.project !== store.projectId && matched.project !== store.projectNumber) {
        throw new GoogleApiError(
          'PERMISSION_DENIED',
          `Permission denied on resource project ${matched.project}.`,
        );
      }
      if (principal.permissions !== undefined && !principal.permissions.has(route.permission)) {
        throw new GoogleApiError(
          'PERMISSION_DENIED',
          `Permission '${route.permission}' denied for resource (or it may not exist).`,
        );
      }
      if (throttle !== undefined) {
        const wait = throttle.admit(route.quota);
        if (wait > 0) {
          const metric = `secretmanager.googleapis.com/${route.quota}_requests`;
          throw new GoogleApiError(
            'RESOURCE_EXHAUSTED',
            `Quota exceeded for quota metric '${metric}' and limit per minute of service 'secretmanager.googleapis.com'.`,
            quotaDetails(metric, wait),
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
          throw new GoogleApiError('INVALID_ARGUMENT', 'Invalid JSON payload received.');
        }
      }
      const answerOptions: AnswerOptions = {
        intEnums: /enum-encoding=int/.test(url.searchParams.get('$alt') ?? ''),
      };
      const secret = matched.secret ?? '';
      const version = matched.version ?? '';
      const q = url.searchParams;
      let out: unknown;
      switch (route.rpc) {
        case 'ListSecrets':
          out = store.listSecrets(location, q);
          break;
        case 'CreateSecret':
          out = store.createSecret(location, q.get('secretId') ?? undefined, input);
          break;
        case 'GetSecret':
          out = store.getSecret(location, secret);
          break;
        case 'UpdateSecret':
          out = store.updateSecret(location, secret, q.get('updateMask') ?? undefined, input);
          break;
        case 'DeleteSecret':
          out = store.deleteSecret(location, secret, q.get('etag') ?? undefined);
          break;
        case 'AddSecretVersion':
          out = store.addVersion(location, secret, input, answerOptions);
          break;
        case 'ListSecretVersions':
          out = store.listVersions(location, secret, q, answerOptions);
          break;
        case 'GetSecretVersion':
          out = store.getVersion(location, secret, version, answerOptions);
          break;
        case 'AccessSecretVersion':
          out = store.accessVersion(location, secret, version);
          break;
        case 'DestroySecretVersion':
          out = store.changeVersion(location, secret, version, 'DESTROYED', input, answerOptions);
          break;
        case 'DisableSecretVersion':
          out = store.changeVersion(location, secret, version, 'DISABLED', input, answerOptions);
          break;
        case 'EnableSecretVersion':
          out = store.changeVersion(location, secret, version, 'ENABLED', input, answerOptions);
          break;
        default:
          throw new GoogleApiError('UNIMPLEMENTED', 'Method not implemented.');
      }
      answer(200, out);
    } catch (err) {
      const error =
        err instanceof GoogleApiError ? err : new GoogleApiError('INTERNAL', 'Internal error encountered.');
      answer(error.httpStatus, error.toJSON());
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
