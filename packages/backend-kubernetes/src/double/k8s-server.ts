import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { FaultPlan as AnyFaultPlan, listenLocally } from '@coffer/core/doubles';
import {
  apiGroups,
  apiVersions,
  coreV1Resources,
  doubleVersion,
  type IncludeObject,
  secretTable,
} from './discovery.js';
import {
  badRequest,
  deleted,
  forbidden,
  forbiddenPath,
  KubeStatusError,
  methodNotAllowed,
  requestEntityTooLarge,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
} from './k8s-status.js';
import { coreV1OpenApi, openApiIndex } from './openapi.js';
import { deleteOptionsFromProtobuf, secretFromProtobuf } from './protobuf.js';
import { type SecretStore, type StoredSecret, secretJson } from './secret-store.js';

/** The API server's limit on a request body (`MaxRequestBodyBytes`): 3 MiB. */
export const maxRequestBodyBytes = 3 * 1024 * 1024;

/** The verbs of the authorizer, as RBAC rules name them. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** What an injected fault does to a request. */
export type FaultAction =
  /** Answer with a Status of this code and reason (`{ code: 500, reason: 'InternalError' }`). */
  | { kind: 'status'; code: number; reason: string; retryAfterSeconds?: number }
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' }
  /** Another writer changes the Secret just before this request is served (a new resourceVersion). */
  | { kind: 'touch' }
  /** Another client deletes the Secret just before this request is served. */
  | { kind: 'remove' };

/** Fault injection and request counts of a running double, by verb and Secret name. */
export class FaultPlan extends AnyFaultPlan<FaultAction, Verb> {
  /** The next `count` requests (of `verb`, on Secret `name`, or any) meet `action`; `operation` is another name for `verb`. */
  override inject(
    action: FaultAction,
    options: { count?: number; verb?: Verb; operation?: Verb; name?: string } = {},
  ): void {
    super.inject(action, { ...options, operation: options.verb ?? options.operation });
  }
}

/** A bearer token the double knows, the user it stands for and what RBAC lets it do with Secrets. */
export interface DoublePrincipal {
  token: string;
  /** The username in RBAC messages (`system:serviceaccount:coffer:coffer`). */
  user: string;
  /** Verbs allowed on secrets; `undefined` means all of them. */
  verbs?: ReadonlySet<Verb>;
}

/** API Priority and Fairness, modelled as a token bucket per user. */
export interface ThrottleLimits {
  perSecond: number;
  burst: number;
}

export const defaultThrottle: Readonly<ThrottleLimits> = Object.freeze({ perSecond: 100, burst: 200 });

class UserThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly limits: ThrottleLimits) {}

  /** 0 when the request may go (and is counted), else whole seconds to wait. */
  admit(user: string): number {
    const t = performance.now();
    const { perSecond, burst } = this.limits;
    const bucket = this.#buckets.get(user) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    this.#buckets.set(user, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }
}

export interface KubernetesServerOptions {
  store: SecretStore;
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Limits to enforce with 429; `false` turns throttling off. */
  throttle: ThrottleLimits | false;
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. */
  tls?: { key: string; cert: string };
  host?: string;
  port?: number;
}

const anonymous = 'system:anonymous';
const publicPaths = new Set(['/version', '/version/', '/healthz', '/livez', '/readyz']);

interface Route {
  verb: Verb;
  kind: 'namespaces' | 'secrets';
  namespace?: string;
  name?: string;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxRequestBodyBytes) {
    req.resume();
    throw requestEntityTooLarge(maxRequestBodyBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxRequestBodyBytes) {
      req.resume();
      throw requestEntityTooLarge(maxRequestBodyBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest(
      "couldn't get version/kind; json parse error: invalid character looking for beginning of value",
    );
  }
}

/** The resource route of a path and method, or undefined for discovery and unknown paths. */
function routeOf(method: string, path: string, watch: boolean): Route | undefined {
  const parts = path.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
  const rest = parts.slice(2);
  if (rest[0] !== 'namespaces') return undefined;
  if (rest.length === 1)
    return method === 'GET' ? { verb: watch ? 'watch' : 'list', kind: 'namespaces' } : undefined;
  const namespace = rest[1]!;
  if (rest.length === 2) {
    return method === 'GET' ? { verb: 'get', kind: 'namespaces', name: namespace } : undefined;
  }
  if (rest[2] !== 'secrets' || rest.length > 4) return undefined;
  if (rest.length === 3) {
    if (method === 'GET') return { verb: watch ? 'watch' : 'list', kind: 'secrets', namespace };
    if (method === 'POST') return { verb: 'create', kind: 'secrets', namespace };
    return undefined;
  }
  const name = rest[3]!;
  const verbs: Record<string, Verb> = { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  const verb = verbs[method];
  return verb === undefined ? undefined : { verb, kind: 'secrets', namespace, name };
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

const protobufType = 'application/vnd.kubernetes.protobuf';

const secretFields = new Set(['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable']);
const metadataFields = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

/** Fields of a Secret (or a merge patch of one) that the Secret type does not have. */
function unknownFields(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('$')) continue;
    if (!secretFields.has(key)) out.push(key);
    else if (key === 'metadata' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const m of Object.keys(value))
        if (!m.startsWith('$') && !metadataFields.has(m)) out.push(`metadata.${m}`);
    }
  }
  return out;
}

/**
 * Server-side field validation (`fieldValidation`): `Strict` refuses unknown fields (400),
 * `Warn` (the default) answers with Warning headers, `Ignore` drops them silently.
 */
function checkFields(body: unknown, mode: string | null, res: ServerResponse): void {
  const unknown = unknownFields(body);
  if (unknown.length === 0 || mode === 'Ignore') return;
  if (mode === 'Strict') {
    throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  res.setHeader(
    'warning',
    unknown.map((f) => `299 - "unknown field \\"${f}\\""`),
  );
}

/** A create or update body: JSON, or the protobuf encoding kubectl's typed client sends. */
function objectBody(req: IncomingMessage, body: Buffer): unknown {
  const type = mediaType(req.headers['content-type']);
  if (type === protobufType) return secretFromProtobuf(body);
  if (type !== 'application/json' && type !== '') throw unsupportedMediaType();
  return parseJson(body);
}

function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

function includeObjectOf(value: string | null): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

/**
 * An HTTP(S) server speaking the Kubernetes REST API for Secrets: discovery (`/api`, `/api/v1`,
 * `/apis`, `/version`), namespaces (get, list) and Secrets (list with selectors and pagination,
 * watch, create, get, update, patch, delete), bearer-token authentication and RBAC-style
 * authorization, API Priority and Fairness throttling, and the API server's Status errors.
 */
export async function startKubernetesServer(
  options: KubernetesServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const { store } = options;
  const throttle = options.throttle === false ? undefined : new UserThrottle(options.throttle);
  const byToken = new Map(options.principals.map((p) => [p.token, p]));
  const streams = new Set<ServerResponse>();
  let serverAddress = '127.0.0.1';

  const serveWatch = (
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    q: URLSearchParams,
    table: boolean,
  ) => {
    const now = () => new Date();
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
      'transfer-encoding': 'chunked',
    });
    res.flushHeaders();
    streams.add(res);
    const unsubscribe = store.watch(
      namespace,
      { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') },
      (type, secret) => {
        const object = table
          ? secretTable(
              [secret],
              secret.metadata.resourceVersion,
              includeObjectOf(q.get('includeObject')),
              now(),
            )
          : secretJson(secret);
        res.write(`${JSON.stringify({ type, object })}\n`);
      },
    );
    const seconds = Number(q.get('timeoutSeconds') ?? 1800);
    const timer = setTimeout(() => res.end(), Math.max(1, Math.min(seconds, 3600)) * 1000);
    timer.unref();
    const stop = () => {
      clearTimeout(timer);
      unsubscribe();
      streams.delete(res);
    };
    res.on('close', stop);
    req.on('close', stop);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    const route = routeOf(method, url.pathname, watch);
    const fault = options.faults.take(
      route?.verb ?? 'other',
      route?.kind === 'secrets' ? route.name : undefined,
    );
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') {
      // held before it is served (queued by API Priority and Fairness, slow admission): a client
      // that goes away meanwhile cancels the request, and the API server never carries it out
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, fault.ms);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (res.destroyed || res.writableEnded || req.socket.destroyed) return;
    try {
      // authentication: a token the double does not know is 401; no token is the anonymous user
      const auth = String(req.headers.authorization ?? '');
      let principal: DoublePrincipal | undefined;
      if (auth !== '') {
        principal = auth.startsWith('Bearer ') ? byToken.get(auth.slice('Bearer '.length).trim()) : undefined;
        if (principal === undefined) throw unauthorized();
      }
      const user = principal?.user ?? anonymous;
      if (fault?.kind === 'status') {
        throw new KubeStatusError(
          fault.code,
          fault.reason,
          fault.reason === 'TooManyRequests'
            ? 'Too many requests, please try again later.'
            : `injected ${fault.reason}`,
          fault.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: fault.retryAfterSeconds },
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
        );
      }
      if (throttle !== undefined && !publicPaths.has(url.pathname)) {
        const wait = throttle.admit(user);
        if (wait > 0) throw tooManyRequests(wait);
      }
      if (route === undefined) {
        if (method !== 'GET') {
          if (url.pathname.startsWith('/api/v1/namespaces/')) throw methodNotAllowed();
          throw new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource', {});
        }
        if (publicPaths.has(url.pathname)) {
          if (url.pathname.startsWith('/version')) return send(res, 200, doubleVersion);
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('ok');
          return;
        }
        if (principal === undefined) throw forbiddenPath(user, 'get', url.pathname);
        switch (url.pathname.replace(/\/+$/, '')) {
          case '/api':
            return send(res, 200, apiVersions(serverAddress));
          case '/apis':
            return send(res, 200, apiGroups());
          case '/api/v1':
            return send(res, 200, coreV1Resources());
          case '/openapi/v3':
            return send(res, 200, openApiIndex());
          case '/openapi/v3/api/v1':
            return send(res, 200, coreV1OpenApi);
          default:
            // no /openapi/v2: kubectl reads /openapi/v3, which it prefers
            return send(res, 404, {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Failure',
              message: 'the server could not find the requested resource',
              reason: 'NotFound',
              details: {},
              code: 404,
            });
        }
      }
      // authorization, RBAC style
      if (route.kind === 'namespaces') {
        if (principal === undefined || principal.verbs !== undefined) {
          throw forbidden(user, route.verb, 'namespaces', undefined, route.name);
        }
      } else if (
        principal === undefined ||
        (principal.verbs !== undefined && !principal.verbs.has(route.verb))
      ) {
        throw forbidden(user, route.verb, 'secrets', route.namespace, route.name);
      }
      const body = method === 'GET' ? Buffer.alloc(0) : await readBody(req);
      let dryRun = q.get('dryRun') === 'All';
      const table = wantsTable(req.headers.accept);
      const now = new Date();
      if (route.kind === 'namespaces') {
        if (route.name !== undefined) return send(res, 200, store.namespaceJson(route.name));
        return send(res, 200, {
          kind: 'NamespaceList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(store.revision) },
          items: store.namespaceNames().map((n) => {
            const { kind: _k, apiVersion: _a, ...rest } = store.namespaceJson(n);
            return rest;
          }),
        });
      }
      const namespace = route.namespace!;
      const name = route.name;
      if (name !== undefined && fault?.kind === 'touch') {
        store.modifyBehindBack(namespace, name, {
          annotations: { 'coffer.dev/touched-by': 'another-writer' },
        });
      }
      if (name !== undefined && fault?.kind === 'remove') store.removeBehindBack(namespace, name);
      const reply = (status: number, secret: StoredSecret) =>
        send(
          res,
          status,
          table
            ? secretTable(
                [secret],
                secret.metadata.resourceVersion,
                includeObjectOf(q.get('includeObject')),
                now,
              )
            : secretJson(secret),
        );
      switch (route.verb) {
        case 'watch':
          return serveWatch(req, res, namespace, q, table);
        case 'list': {
          const limit = q.get('limit');
          const page = store.list(namespace, {
            labelSelector: q.get('labelSelector'),
            fieldSelector: q.get('fieldSelector'),
            ...(limit === null ? {} : { limit: Number(limit) }),
            continueToken: q.get('continue'),
          });
          if (table) {
            const { resourceVersion, ...listMeta } = page.metadata;
            return send(
              res,
              200,
              secretTable(
                page.items,
                resourceVersion,
                includeObjectOf(q.get('includeObject')),
                now,
                listMeta,
              ),
            );
          }
          return send(res, 200, {
            kind: 'SecretList',
            apiVersion: 'v1',
            metadata: page.metadata,
            items: page.items.map((s) => secretJson(s, false)),
          });
        }
        case 'get':
          return reply(200, store.get(namespace, name!));
        case 'create': {
          const input = objectBody(req, body);
          checkFields(input, q.get('fieldValidation'), res);
          return reply(201, store.create(namespace, input, dryRun));
        }
        case 'update': {
          const input = objectBody(req, body);
          checkFields(input, q.get('fieldValidation'), res);
          return reply(200, store.update(namespace, name!, input, dryRun));
        }
        case 'patch': {
          const type = mediaType(req.headers['content-type']);
          const input = parseJson(body);
          if (type !== 'application/json-patch+json') checkFields(input, q.get('fieldValidation'), res);
          return reply(200, store.patch(namespace, name!, type, input, dryRun));
        }
        case 'delete': {
          const input = (
            body.length > 0 && mediaType(req.headers['content-type']) === protobufType
              ? deleteOptionsFromProtobuf(body)
              : (parseJson(body) ?? {})
          ) as { preconditions?: { uid?: unknown; resourceVersion?: unknown }; dryRun?: unknown };
          const pre = input.preconditions ?? {};
          if (Array.isArray(input.dryRun) && input.dryRun.includes('All')) dryRun = true;
          const out = store.delete(
            namespace,
            name!,
            {
              ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
              ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
            },
            dryRun,
          );
          if (!out.gone) return reply(200, out.secret);
          return send(res, 200, deleted('secrets', name!, out.secret.metadata.uid));
        }
      }
    } catch (err) {
      const error =
        err instanceof KubeStatusError
          ? err
          : new KubeStatusError(
              500,
              'InternalError',
              'Internal error occurred: unexpected error in the double',
              {},
            );
      send(res, error.code, error.toJSON(), error.headers);
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server =
    options.tls === undefined
      ? createHttpServer(listener)
      : (createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) as unknown as Server);
  const running = await listenLocally(server, options.host, options.port);
  const address = server.address() as AddressInfo;
  serverAddress = `${address.address}:${address.port}`;
  return {
    ...running,
    close: () => {
      for (const stream of streams) stream.end();
      return running.close();
    },
  };
}
