import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally, type RunningServer } from '@coffer/core/doubles';
import type { FaultPlan } from './fault-plan.js';
import { GoogleApiError, quotaDetails, retryInfo } from './google-error.js';
import { MinuteQuotas } from './quota-throttle.js';

/** One REST method a double serves, as the API's discovery document names it. */
export interface GoogleRoute<Quota extends string = string> {
  /** The RPC name (`AddSecretVersion`, `Encrypt`), used for faults and counts. */
  rpc: string;
  /** The discovery method id (`cloudkms.projects.locations.keyRings.cryptoKeys.encrypt`). */
  methodId: string;
  httpMethod: string;
  /** The discovery `flatPath`. */
  flatPath: string;
  /** The IAM permission the method needs. */
  permission: string;
  /** Which per-minute quota the request counts against. */
  quota: Quota;
}

/** A request the service's routes matched: the route, and the project its path names. */
export interface RouteMatch<Route extends GoogleRoute> {
  route: Route;
  /** The project id or number of the path. */
  project: string;
}

/** A principal of the double: the subject token it exchanges for an access token, and its permissions. */
export interface DoublePrincipal {
  /** What the credential source file holds (the external identity's token). */
  subjectToken: string;
  /** `undefined` means every permission. */
  permissions?: ReadonlySet<string>;
}

/** One answer the double sent, for the check against the discovery document. */
export interface RecordedAnswer<Route extends GoogleRoute = GoogleRoute> {
  route: Route | undefined;
  status: number;
  body: unknown;
}

/** What a route's handler is given besides the match. */
export interface GoogleRequest {
  /** The JSON body (`{}` when there is none). */
  input: Record<string, unknown>;
  query: URLSearchParams;
  /** `$alt=json;enum-encoding=int`: enums as numbers (what google-gax asks for). */
  intEnums: boolean;
}

export interface GoogleRestServerOptions<Route extends GoogleRoute, Match extends RouteMatch<Route>> {
  /** The API's service name (`secretmanager.googleapis.com`), named in quota refusals. */
  service: string;
  /** The project the double is: paths naming another project are refused. */
  project: { readonly projectId: string; readonly projectNumber: string };
  principals: readonly DoublePrincipal[];
  faults: FaultPlan;
  /** Requests per minute of each quota; `false` turns quotas off. */
  quotas: Readonly<Record<Route['quota'], number>> | false;
  /** Access tokens issued so far; pass the same map to a restarted server so tokens stay valid. */
  tokens?: Map<string, DoublePrincipal>;
  /** Called with every answer to a route (tests check them against the discovery document). */
  record?: (answer: RecordedAnswer<Route>) => void;
  /** The route a method and path stand for, with what the service reads from the path. */
  match(httpMethod: string, path: string): Match | undefined;
  /** The PERMISSION_DENIED message for a path on another project, or a principal without the route's permission. */
  denied(match: Match, why: 'project' | 'permission'): string;
  /** Serves a request that passed every check; throws GoogleApiError to refuse it. */
  serve(match: Match, request: GoogleRequest): unknown;
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

/** The JSON object of a request body; `{}` for none. */
function jsonInput(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    // google-gax sends an empty body message (`cryptoKeyVersion: {}`) as the JSON string ""
    if (parsed === '') return {};
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new GoogleApiError('INVALID_ARGUMENT', 'Invalid JSON payload received.');
  }
}

/**
 * An HTTP server speaking a Google API's REST v1 the way Google's front end does (JSON over
 * HTTP/1.1, bearer tokens, google.rpc.Status errors, IAM permissions, per-minute quotas, faults
 * injected by RPC), and the STS token exchange (`POST /v1/token`) that external-account
 * credentials use to get their tokens. The service gives its routes and serves what passes.
 *
 * @example
 * const running = await startGoogleRestServer({
 *   service: 'cloudkms.googleapis.com', project: store, principals, faults, quotas: false,
 *   match: matchRoute, denied: (m) => `Permission '${m.route.permission}' denied.`,
 *   serve: (m, request) => store.serve(m, request),
 * });
 */
export async function startGoogleRestServer<Route extends GoogleRoute, Match extends RouteMatch<Route>>(
  options: GoogleRestServerOptions<Route, Match>,
): Promise<RunningServer> {
  const quotas = options.quotas === false ? undefined : new MinuteQuotas(options.quotas);
  const tokens = options.tokens ?? new Map<string, DoublePrincipal>();
  const { project, service } = options;

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
    const matched = options.match(req.method ?? 'GET', url.pathname);
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
          fault.retryDelaySeconds === undefined ? [] : [retryInfo(fault.retryDelaySeconds)],
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
      const { route } = matched;
      if (matched.project !== project.projectId && matched.project !== project.projectNumber) {
        throw new GoogleApiError('PERMISSION_DENIED', options.denied(matched, 'project'));
      }
      if (principal.permissions !== undefined && !principal.permissions.has(route.permission)) {
        throw new GoogleApiError('PERMISSION_DENIED', options.denied(matched, 'permission'));
      }
      const wait = quotas?.admit(route.quota) ?? 0;
      if (wait > 0) {
        const metric = `${service}/${route.quota}_requests`;
        throw new GoogleApiError(
          'RESOURCE_EXHAUSTED',
          `Quota exceeded for quota metric '${metric}' and limit per minute of service '${service}'.`,
          quotaDetails(service, metric, wait),
        );
      }
      const out = options.serve(matched, {
        input: jsonInput(body),
        query: url.searchParams,
        intEnums: /enum-encoding=int/.test(url.searchParams.get('$alt') ?? ''),
      });
      answer(200, out);
    } catch (err) {
      const error =
        err instanceof GoogleApiError ? err : new GoogleApiError('INTERNAL', 'Internal error encountered.');
      answer(error.httpStatus, error.toJSON());
    }
  };

  return listenLocally(
    createServer((req, res) => {
      handle(req, res).catch(() => res.destroy());
    }),
    options.host,
    options.port,
  );
}
