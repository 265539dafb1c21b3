import { request as httpRequest } from 'node:http';

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies and assert on their shapes
export type Json = any;

/** A response as the tests look at it. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON (including problem+json), else undefined. */
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is (for malformed bodies); wins over `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Leave out the client's credentials. */
  anonymous?: boolean;
}

/**
 * A small HTTP client for the API: bearer token or cookie session (with the CSRF header on
 * writes), JSON in and out, and a cookie jar.
 *
 * @example
 * const admin = await ApiClient.login(server.api, 'admin', password);
 * const { status, body } = await admin.get('/secrets');
 */
export class ApiClient {
  readonly base: string;
  token: string | undefined;
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;

  constructor(base: string, token?: string) {
    this.base = base;
    this.token = token;
  }

  static async login(base: string, username: string, password: string): Promise<ApiClient> {
    const client = new ApiClient(base);
    const response = await client.post<{ csrfToken: string }>('/auth/login', { username, password });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
    client.csrf = response.body.csrfToken;
    return client;
  }

  /** A client for the same server authenticated with a token instead. */
  withToken(token: string): ApiClient {
    return new ApiClient(this.base, token);
  }

  get<T = Json>(path: string, options: RequestOptions = {}) {
    return this.request<T>('GET', path, options);
  }
  post<T = Json>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...options, ...(body === undefined ? {} : { body }) });
  }
  patch<T = Json>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PATCH', path, { ...options, ...(body === undefined ? {} : { body }) });
  }
  put<T = Json>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PUT', path, { ...options, ...(body === undefined ? {} : { body }) });
  }
  delete<T = Json>(path: string, options: RequestOptions = {}) {
    return this.request<T>('DELETE', path, options);
  }

  async request<T = Json>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (!options.anonymous) Object.assign(headers, this.#credentials(method));
    Object.assign(headers, options.headers);
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    let parsed: unknown;
    if (/^application\/(problem\+)?json/.test(response.headers.get('content-type') ?? '') && text !== '') {
      parsed = JSON.parse(text);
    }
    return { status: response.status, headers: response.headers, text, body: parsed as T };
  }

  /**
   * Sends only the headers of a request that declares a `contentLength`-byte body and returns
   * the status the server answers with before any of the body arrives (a refusal on the
   * declared size). Writing a large body at a server that has already refused it races its
   * close (EPIPE), so the body is never sent.
   */
  async declareBody(
    method: string,
    path: string,
    contentLength: number,
    contentType: string,
  ): Promise<number> {
    const headers = {
      ...this.#credentials(method),
      'content-type': contentType,
      'content-length': String(contentLength),
    };
    return await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${this.base}${path}`, { method, headers }, (response) => {
        resolve(response.statusCode ?? 0);
        response.resume();
        req.destroy();
      });
      req.on('error', (err) => reject(err));
      req.flushHeaders();
    });
  }

  #credentials(method: string): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      if (this.csrf !== undefined && method !== 'GET' && method !== 'HEAD')
        headers['x-csrf-token'] = this.csrf;
    }
    return headers;
  }
}
