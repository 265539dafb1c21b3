import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GoogleApiError, quotaDetails } from './google-error.js';
import type { AnswerOptions, CloudKmsStore } from './kms-store.js';

/** One REST method the double serves, as Cloud KMS's discovery document names it. */
export interface DoubleRoute {
  /** The RPC name (`Encrypt`), used for faults and counts. */
  rpc: string;
  /** The discovery method id (`cloudkms.projects.locations.keyRings.cryptoKeys.encrypt`). */
  methodId: string;
  httpMethod: 'GET' | 'POST' | 'PATCH';
  /** The discovery `flatPath`. */
  flatPath: string;
  /** The IAM permission the method needs. */
  permission: string;
  /** Which quota the request counts against. */
  quota: 'crypto' | 'read' | 'write';
}

const ring = 'v1/projects/{projectsId}/locations/{locationsId}/keyRings';
const key = `${ring}/{keyRingsId}/cryptoKeys/{cryptoKeysId}`;
const method = 'cloudkms.projects.locations.keyRings';

/** Every route the double serves. */
export const doubleRoutes: readonly DoubleRoute[] = Object.freeze([
  {
    rpc: 'CreateKeyRing',
    methodId: `${method}.create`,
    httpMethod: 'POST',
    flatPath: ring,
    permission: 'cloudkms.keyRings.create',
    quota: 'write',
  },
  {
    rpc: 'GetKeyRing',
    methodId: `${method}.get`,
    httpMethod: 'GET',
    flatPath: `${ring}/{keyRingsId}`,
    permission: 'cloudkms.keyRings.get',
    quota: 'read',
  },
  {
    rpc: 'CreateCryptoKey',
    methodId: `${method}.cryptoKeys.create`,
    httpMethod: 'POST',
    flatPath: `${ring}/{keyRingsId}/cryptoKeys`,
    permission: 'cloudkms.cryptoKeys.create',
    quota: 'write',
  },
  {
    rpc: 'GetCryptoKey',
    methodId: `${method}.cryptoKeys.get`,
    httpMethod: 'GET',
    flatPath: key,
    permission: 'cloudkms.cryptoKeys.get',
    quota: 'read',
  },
  {
    rpc: 'Encrypt',
    methodId: `${method}.cryptoKeys.encrypt`,
    httpMethod: 'POST',
    flatPath: `${key}:encrypt`,
    permission: 'cloudkms.cryptoKeyVersions.useToEncrypt',
    quota: 'crypto',
  },
  {
    rpc: 'Decrypt',
    methodId: `${method}.cryptoKeys.decrypt`,
    httpMethod: 'POST',
    flatPath: `${key}:decrypt`,
    permission: 'cloudkms.cryptoKeyVersions.useToDecrypt',
    quota: 'crypto',
  },
  {
    rpc: 'UpdateCryptoKeyPrimaryVersion',
    methodId: `${method}.cryptoKeys.updatePrimaryVersion`,
    httpMethod: 'POST',
    flatPath: `${key}:updatePrimaryVersion`,
    permission: 'cloudkms.cryptoKeys.update',
    quota: 'write',
  },
  {
    rpc: 'CreateCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.create`,
    httpMethod: 'POST',
    flatPath: `${key}/cryptoKeyVersions`,
    permission: 'cloudkms.cryptoKeyVersions.create',
    quota: 'write',
  },
  {
    rpc: 'ListCryptoKeyVersions',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.list`,
    httpMethod: 'GET',
    flatPath: `${key}/cryptoKeyVersions`,
    permission: 'cloudkms.cryptoKeyVersions.list',
    quota: 'read',
  },
  {
    rpc: 'GetCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.get`,
    httpMethod: 'GET',
    flatPath: `${key}/cryptoKeyVersions/{cryptoKeyVersionsId}`,
    permission: 'cloudkms.cryptoKeyVersions.get',
    quota: 'read',
  },
  {
    rpc: 'UpdateCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.patch`,
    httpMethod: 'PATCH',
    flatPath: `${key}/cryptoKeyVersions/{cryptoKeyVersionsId}`,
    permission: 'cloudkms.cryptoKeyVersions.update',
    quota: 'write',
  },
  {
    rpc: 'DestroyCryptoKeyVersion',
    methodId: `${method}.cryptoKeys.cryptoKeyVersions.destroy`,
    httpMethod: 'POST',
    flatPath: `${key}/cryptoKeyVersions/{cryptoKeyVersionsId}:destroy`,
    permission: 'cloudkms.cryptoKeyVersions.destroy',
    quota: 'write',
  },
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

  /** The next `count` requests (of `rpc`, e.g. `Decrypt`, or of any) meet `action`. */
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

/** Request quotas per minute per project, after Cloud KMS's quota page. */
export interface QuotaLimits {
  cryptoPerMinute: number;
  readPerMinute: number;
  writePerMinute: number;
}

/** Cloud KMS's default quotas: 60,000 cryptographic requests, 300 reads and 60 writes a minute. */
export const cloudKmsQuotas: Readonly<QuotaLimits> = Object.freeze({
  cryptoPerMinute: 60_000,
  readPerMinute: 300,
  writePerMinute: 60,
});

const quotaMetrics: Readonly<Record<DoubleRoute['quota'], string>> = {
  crypto: 'cloudkms.googleapis.com/crypto_requests',
  read: 'cloudkms.googleapis.com/read_requests',
  write: 'cloudkms.googleapis.com/write_requests',
};

/** Token buckets per quota, each holding a minute's worth, refilled continuously. */
class QuotaThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly limits: QuotaLimits) {}

  /** 0 when the request fits (and is counted), else seconds until it would. */
  admit(quota: DoubleRoute['quota']): number {
    const perMinute =
      quota === 'crypto'
        ? this.limits.cryptoPerMinute
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

/** A principal of the double: the subject token it exchanges for an access token, and its permissions. */
export interface DoublePrincipal {
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

export interface CloudKmsServerOptions {
  store: CloudKmsStore;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Quotas to enforce; `false` turns them off. */
  quotas: QuotaLimits | false;
  record?: (answer: RecordedAnswer) => void;
  /** Access tokens issued so far; pass the same map to a restarted server so tokens stay valid. */
  tokens?: Map<string, DoublePrincipal>;
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
  /** The resource name the path names (`projects/p/locations/l/keyRings/r/cryptoKeys/k`). */
  name: string;
  project: string;
}

const pathPattern =
  /^\/v1\/(projects\/([^/:]+)\/locations\/[^/:]+\/keyRings(?:\/[^/:]+(?:\/cryptoKeys(?:\/[^/:]+(?:\/cryptoKeyVersions(?:\/[^/:]+)?)?)?)?)?)(?::([A-Za-z]+))?$/;

/** The route a method and path stand for, with the resource name the path names. */
export function matchRoute(httpMethod: string, path: string): Matched | undefined {
  const m = pathPattern.exec(path);
  if (m === null) return undefined;
  const [, name, project, verb] = m;
  const segments = name!.split('/');
  const placeholders = [
    '{projectsId}',
    '{locationsId}',
    '{keyRingsId}',
    '{cryptoKeysId}',
    '{cryptoKeyVersionsId}',
  ];
  const template = segments.map((s, i) => (i % 2 === 0 ? s : placeholders[(i - 1) / 2])).join('/');
  const flatPath = `v1/${template}${verb === undefined ? '' : `:${verb}`}`;
  const route = doubleRoutes.find((r) => r.flatPath === flatPath && r.httpMethod === httpMethod);
  if (route === undefined) return undefined;
  return { route, name: segments.map(decodeURIComponent).join('/'), project: decodeURIComponent(project!) };
}

/**
 * An HTTP server speaking Cloud KMS's REST v1 (JSON over HTTP/1.1) with bearer tokens, and the STS
 * token exchange (`POST /v1/token`) that external-account credentials use to get them.
 */
export async function startCloudKmsServer(
  options: CloudKmsServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const throttle = options.quotas === false ? undefined : new QuotaThrottle(options.quotas);
  const tokens = options.tokens ?? new Map<string, DoublePrincipal>();
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
      const { route, name } = matched;
      if (matched.project !== store.projectId && matched.project !== store.projectNumber) {
        throw new GoogleApiError(
          'PERMISSION_DENIED',
          `Permission '${route.permission}' denied on resource '${name}' (or it may not exist).`,
        );
      }
      if (principal.permissions !== undefined && !principal.permissions.has(route.permission)) {
        throw new GoogleApiError(
          'PERMISSION_DENIED',
          `Permission '${route.permission}' denied on resource '${name}' (or it may not exist).`,
        );
      }
      if (throttle !== undefined) {
        const wait = throttle.admit(route.quota);
        if (wait > 0) {
          const metric = quotaMetrics[route.quota];
          throw new GoogleApiError(
            'RESOURCE_EXHAUSTED',
            `Quota exceeded for quota metric '${metric}' and limit per minute of service 'cloudkms.googleapis.com'.`,
            quotaDetails(metric, wait),
          );
        }
      }
      let input: Record<string, unknown> = {};
      if (body.length > 0) {
        try {
          const parsed: unknown = JSON.parse(body.toString('utf8'));
          // google-gax sends an empty body message (`cryptoKeyVersion: {}`) as the JSON string ""
          if (parsed !== '') {
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
              throw new Error('not an object');
            input = parsed as Record<string, unknown>;
          }
        } catch {
          throw new GoogleApiError('INVALID_ARGUMENT', 'Invalid JSON payload received.');
        }
      }
      const as: AnswerOptions = { intEnums: /enum-encoding=int/.test(url.searchParams.get('$alt') ?? '') };
      const q = url.searchParams;
      let out: unknown;
      switch (route.rpc) {
        case 'CreateKeyRing':
          out = store.createKeyRing(name.replace(/\/keyRings$/, ''), q.get('keyRingId') ?? undefined);
          break;
        case 'GetKeyRing':
          out = store.getKeyRing(name);
          break;
        case 'CreateCryptoKey':
          out = store.createCryptoKey(
            name.replace(/\/cryptoKeys$/, ''),
            q.get('cryptoKeyId') ?? undefined,
            input,
            q.get('skipInitialVersionCreation') === 'true',
            as,
          );
          break;
        case 'GetCryptoKey':
          out = store.getCryptoKey(name, as);
          break;
        case 'Encrypt':
          out = store.encrypt(name, input, as);
          break;
        case 'Decrypt':
          out = store.decrypt(name, input, as);
          break;
        case 'UpdateCryptoKeyPrimaryVersion':
          out = store.updatePrimaryVersion(name, input, as);
          break;
        case 'CreateCryptoKeyVersion':
          out = store.createVersion(name.replace(/\/cryptoKeyVersions$/, ''), as);
          break;
        case 'ListCryptoKeyVersions':
          out = store.listVersions(name.replace(/\/cryptoKeyVersions$/, ''), q, as);
          break;
        case 'GetCryptoKeyVersion':
          out = store.getVersion(name, as);
          break;
        case 'UpdateCryptoKeyVersion':
          out = store.patchVersion(name, q.get('updateMask') ?? undefined, input, as);
          break;
        case 'DestroyCryptoKeyVersion':
          out = store.destroyVersion(name, as);
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
