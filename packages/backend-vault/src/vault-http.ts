import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/** A request to Vault's HTTP API, relative to `/v1/`. */
export interface VaultRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** The path after `/v1/`, segments already escaped. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Sent as X-Vault-Token; login requests send none. */
  token?: string | undefined;
}

/** What Vault answered: any status; the body parsed when it is JSON. */
export interface VaultResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined for an empty or non-JSON one. */
  body: unknown;
  /** Whether the body was JSON (a non-JSON 4xx comes from a proxy, not from Vault). */
  json: boolean;
}

/** A request that got no answer in time. */
export class VaultRequestTimeout extends Error {
  override readonly name = 'VaultRequestTimeout';
}

export interface VaultHttpOptions {
  address: string;
  namespace?: string | undefined;
  caCertFile?: string | undefined;
  tlsServerName?: string | undefined;
  timeoutMs: number;
}

/**
 * Vault's HTTP API over node:http(s), with one keep-alive agent per instance so TLS settings
 * (`caCertFile`, `tlsServerName`) apply to this instance alone. Every request carries
 * `X-Vault-Request: true` (Vault Agent and proxies require it), the namespace when one is set,
 * and the newest `X-Vault-Index` state seen, so a read after a write is served by a node that
 * has the write (Vault Enterprise answers 412 until it has, which the caller retries).
 */
export class VaultHttp {
  readonly #base: URL;
  readonly #namespace: string | undefined;
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;
  readonly #servername: string | undefined;
  #index: string | undefined;

  constructor(options: VaultHttpOptions) {
    this.#base = new URL(options.address);
    this.#namespace = options.namespace;
    this.#timeoutMs = options.timeoutMs;
    this.#servername = options.tlsServerName;
    if (this.#base.protocol === 'https:') {
      this.#agent = new https.Agent({
        keepAlive: true,
        maxSockets: 32,
        ...(options.caCertFile === undefined ? {} : { ca: readFileSync(options.caCertFile) }),
        ...(options.tlsServerName === undefined ? {} : { servername: options.tlsServerName }),
      });
    } else {
      this.#agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    }
  }

  /** Sends one request; rejects only when no answer came (network, TLS, timeout). */
  send(request: VaultRequest): Promise<VaultResponse> {
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const query = request.query === undefined ? '' : `?${new URLSearchParams(request.query).toString()}`;
    const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
    const headers: Record<string, string> = { 'x-vault-request': 'true', accept: 'application/json' };
    if (request.token !== undefined) headers['x-vault-token'] = request.token;
    if (this.#namespace !== undefined) headers['x-vault-namespace'] = this.#namespace;
    if (this.#index !== undefined) headers['x-vault-index'] = this.#index;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    const secure = this.#base.protocol === 'https:';
    const options: https.RequestOptions = {
      method: request.method,
      hostname: this.#base.hostname.replace(/^\[|\]$/g, ''),
      port: this.#base.port === '' ? (secure ? 443 : 80) : Number(this.#base.port),
      path: `${prefix}/v1/${request.path}${query}`,
      headers,
      agent: this.#agent,
      ...(secure && this.#servername !== undefined ? { servername: this.#servername } : {}),
    };
    return new Promise<VaultResponse>((resolve, reject) => {
      const req = (secure ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const index = res.headers['x-vault-index'];
          if (typeof index === 'string' && index !== '') this.#index = index;
          let parsed: unknown;
          let json = false;
          if (text.trimStart().startsWith('{')) {
            try {
              parsed = JSON.parse(text);
              json = true;
            } catch {
              parsed = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, json });
        });
      });
      const timer = setTimeout(() => {
        req.destroy(new VaultRequestTimeout(`request timed out after ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** One escaped path of segments (`kv/prod`, `coffer/<id>`): each segment URL-encoded. */
export function escapePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}
