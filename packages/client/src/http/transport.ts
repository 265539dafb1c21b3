import { CofferApiError, type ErrorIssue } from '../errors/api-error.js';
import { apiPrefix, type Operations } from '../generated/openapi.js';
import { CookieJar, documentCookie } from './cookie-jar.js';
import {
  backoffDelay,
  isRetryableStatus,
  mayRetry,
  type RetryPolicy,
  retryAfterMs,
  sleep,
} from './retry-policy.js';

/** An operation of the API, named `METHOD /path` as in docs/api.md: `'GET /secrets/{ref}'`. */
export type OperationName = keyof Operations;

/** Query parameters as the client takes them: booleans where the API reads `true`/`false`. */
export type QueryInput<Q> = { [K in keyof Q]: 'true' extends Q[K] ? boolean | Q[K] : Q[K] };

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request (and any wait between retries); the promise rejects with its reason. */
  signal?: AbortSignal;
}

/** The parameters of one operation: `path`, `query` and `body` where it has them. */
export type RequestInput<N extends OperationName> = CallOptions & {
  /** Extra request headers (`If-Match`, `If-None-Match`, ...). */
  headers?: Record<string, string>;
} & ([Operations[N]['path']] extends [never] ? { path?: never } : { path: Operations[N]['path'] }) &
  ([Operations[N]['query']] extends [never]
    ? { query?: never }
    : { query?: QueryInput<Operations[N]['query']> }) &
  ([Operations[N]['body']] extends [never] ? { body?: never } : { body?: Operations[N]['body'] });

/** What a successful operation answers (undefined for `204 No Content`). */
export type ResponseOf<N extends OperationName> = Operations[N]['response'];

export interface TransportConfig {
  baseUrl: string;
  token: string | undefined;
  fetch: typeof fetch | undefined;
  retry: RetryPolicy;
  clientName: string | undefined;
  timeoutMs: number | undefined;
  csrfCookieName: string;
}

type LooseInput = CallOptions & {
  /** A long-lived streamed answer (Server-Sent Events): no per-request timeout applies. */
  stream?: boolean;
  headers?: Record<string, string>;
  path?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
};

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Sends the API's requests: URL and query building, credentials (a bearer token, or the
 * session cookie with its CSRF token), retries with backoff, and problem documents turned into
 * {@link CofferApiError}s. The token lives in a private field and never reaches an error.
 */
export class Transport {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #retry: RetryPolicy;
  readonly #clientName: string | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #csrfCookieName: string;
  readonly #jar = new CookieJar();
  #csrf: string | undefined;

  constructor(config: TransportConfig) {
    this.#base = apiBaseOf(config.baseUrl);
    this.#token = config.token;
    const injected = config.fetch;
    this.#fetch =
      injected === undefined
        ? (input, init) => globalThis.fetch(input, init)
        : (input, init) => injected(input, init);
    this.#retry = config.retry;
    this.#clientName = config.clientName;
    this.#timeoutMs = config.timeoutMs;
    this.#csrfCookieName = config.csrfCookieName;
  }

  /** The API's base URL: `http://127.0.0.1:8470/api/v1` (or `/api/v1` in a browser). */
  get apiUrl(): string {
    return this.#base;
  }

  /** Remembers the CSRF token of a cookie session (from the login answer). */
  startSession(csrfToken: string): void {
    this.#csrf = csrfToken;
  }

  /** Forgets the session: its CSRF token and, outside browsers, its cookies. */
  endSession(): void {
    this.#csrf = undefined;
    this.#jar.clear();
  }

  /** Sends one operation and answers its parsed body (undefined when it has none). */
  async call<N extends OperationName>(name: N, input: RequestInput<N>): Promise<ResponseOf<N>> {
    const { response, method, path } = await this.#exchange(name, input as LooseInput);
    return (await parseBody(response, method, path)) as ResponseOf<N>;
  }

  /**
   * Sends one operation and answers the raw response when it is a success (or `304`), for
   * streamed bodies and conditional reads; a failure is thrown as a {@link CofferApiError}.
   */
  async send<N extends OperationName>(name: N, input: RequestInput<N>): Promise<Response> {
    return (await this.#exchange(name, input as LooseInput)).response;
  }

  /** {@link send} for a stream that stays open (Server-Sent Events): no timeout, `text/event-stream` accepted. */
  async stream<N extends OperationName>(name: N, input: RequestInput<N>): Promise<Response> {
    const loose = input as LooseInput;
    return (
      await this.#exchange(name, {
        ...loose,
        stream: true,
        headers: { accept: 'text/event-stream, application/problem+json', ...loose.headers },
      })
    ).response;
  }

  async #exchange(
    name: string,
    input: LooseInput,
  ): Promise<{ response: Response; method: string; path: string }> {
    const { method, path, url } = this.#target(name, input);
    const headers = this.#headers(method, input);
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);
    const conditional = headers['if-match'] !== undefined && headers['if-match'].trim() !== '*';
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#retry.attempts;
      let response: Response;
      const signal = input.stream ? input.signal : withTimeout(input.signal, this.#timeoutMs);
      try {
        response = await this.#fetch(url, {
          method,
          headers,
          credentials: 'same-origin',
          ...(body === undefined ? {} : { body }),
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (err) {
        if (input.signal?.aborted) throw input.signal.reason;
        if (last || !mayRetry(method, conditional, 'network')) throw networkError(err, method, path, attempt);
        await this.#wait(attempt, backoffDelay(this.#retry, attempt), method, path, undefined, input.signal);
        continue;
      }
      this.#jar.store(response.headers);
      if (response.ok || response.status === 304) return { response, method, path };
      if (isRetryableStatus(response.status) && !last && mayRetry(method, conditional, 'status')) {
        const after = retryAfterMs(response.headers.get('retry-after'));
        const delay = after ?? backoffDelay(this.#retry, attempt);
        if (delay <= this.#retry.maxDelayMs) {
          // Not awaited: a cancel may wait for other readers of the body (a tee), never for us.
          void response.body?.cancel().catch(() => {});
          await this.#wait(attempt, delay, method, path, response.status, input.signal);
          continue;
        }
      }
      throw await errorOf(response, method, path);
    }
  }

  async #wait(
    attempt: number,
    delayMs: number,
    method: string,
    path: string,
    status: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.#retry.onRetry?.({ attempt, delayMs, method, path, status });
    await sleep(delayMs, signal);
  }

  #target(name: string, input: LooseInput): { method: string; path: string; url: string } {
    const space = name.indexOf(' ');
    const method = name.slice(0, space);
    const path = name.slice(space + 1).replace(/\{([^}]+)\}/g, (_, param: string) => {
      const value = input.path?.[param];
      if (typeof value !== 'string' || value === '') {
        throw new TypeError(`${name}: the path parameter "${param}" must be a non-empty string`);
      }
      return encodeURIComponent(value);
    });
    return { method, path, url: `${this.#base}${path}${queryString(input.query)}` };
  }

  #headers(method: string, input: LooseInput): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    if (this.#clientName !== undefined) headers['x-coffer-client'] = this.#clientName;
    if (this.#token !== undefined) {
      headers.authorization = `Bearer ${this.#token}`;
    } else {
      const cookie = this.#jar.header();
      if (cookie !== undefined) headers.cookie = cookie;
      if (!safeMethods.has(method)) {
        const csrf =
          this.#csrf ?? documentCookie(this.#csrfCookieName) ?? this.#jar.get(this.#csrfCookieName);
        if (csrf !== undefined) headers['x-csrf-token'] = csrf;
      }
    }
    for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
    return headers;
  }
}

/** `http://host:8470` → `http://host:8470/api/v1`; a base that already ends in `/api/v1` is kept. */
function apiBaseOf(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith(apiPrefix) ? trimmed : `${trimmed}${apiPrefix}`;
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The caller's signal combined with a per-attempt timeout. */
function withTimeout(
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): AbortSignal | undefined {
  if (timeoutMs === undefined) return signal;
  const timeout = AbortSignal.timeout(timeoutMs);
  if (signal === undefined) return timeout;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal, timeout]);
  const controller = new AbortController();
  for (const s of [signal, timeout]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function networkError(err: unknown, method: string, path: string, attempts: number): CofferApiError {
  const reason = describeNetworkFailure(err);
  const tries = attempts === 1 ? '' : ` (${attempts} attempts)`;
  return new CofferApiError({
    status: 0,
    code: 'network',
    message: `${method} ${path}: no answer from the Coffer server${tries}: ${reason}`,
    method,
    path,
    cause: err,
  });
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause. */
function describeNetworkFailure(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
  }
  return parts.length === 0 ? String(err) : parts.join(': ');
}

/** Reads a success's body: JSON when it says so, text otherwise, undefined when empty. */
export async function parseBody(response: Response, method: string, path: string): Promise<unknown> {
  if (response.status === 204 || response.status === 304) return undefined;
  const text = await response.text();
  if (text === '') return undefined;
  if (!/[/+]json\b/.test(response.headers.get('content-type') ?? '')) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CofferApiError({
      status: response.status,
      code: 'unexpected_response',
      message: `${method} ${path}: the answer is not valid JSON`,
      method,
      path,
      cause: err,
    });
  }
}

/** The error of a failed answer: the problem document, or `unexpected_response`. */
async function errorOf(response: Response, method: string, path: string): Promise<CofferApiError> {
  const text = await response.text().catch(() => '');
  let problem: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { code?: unknown }).code === 'string'
    ) {
      problem = parsed as Record<string, unknown>;
    }
  } catch {
    problem = undefined;
  }
  if (problem === undefined) {
    return new CofferApiError({
      status: response.status,
      code: 'unexpected_response',
      message: `${method} ${path} answered ${response.status} ${response.statusText}`.trim(),
      method,
      path,
    });
  }
  const details = { ...((problem.details as Record<string, unknown> | undefined) ?? {}) };
  const after = retryAfterMs(response.headers.get('retry-after'));
  if (after !== undefined && details.retryAfterSeconds === undefined)
    details.retryAfterSeconds = after / 1000;
  return new CofferApiError({
    status: response.status,
    code: problem.code as CofferApiError['code'],
    message:
      typeof problem.detail === 'string' ? problem.detail : `${method} ${path} answered ${response.status}`,
    ...(Array.isArray(problem.issues) ? { issues: problem.issues as ErrorIssue[] } : {}),
    ...(Object.keys(details).length === 0 ? {} : { details }),
    method,
    path,
  });
}
