/** The `fetch` of a google-auth-library client, as far as Coffer wraps it. */
export type AuthFetch = (
  url: unknown,
  init?: { signal?: AbortSignal | null } & Record<string, unknown>,
) => Promise<unknown>;

/**
 * The error a request gets when it took longer than its time limit; {@link classifyGoogleError}
 * reads it as a `timeout`.
 */
export class GoogleRequestTimeout extends Error {
  override readonly name = 'GoogleRequestTimeout';
}

/**
 * Puts a time limit on every HTTP request a Google Cloud client sends. In REST mode google-gax
 * ignores call deadlines, so the limit goes on the request itself: the credential chain's
 * `fetch`, which sends every API call (it adds the bearer token) with the client's abort signal.
 *
 * @example
 * const client = new KeyManagementServiceClient({ fallback: 'rest' });
 * limitRequestTime(client.auth as unknown as { fetch: AuthFetch }, 5_000);
 */
export function limitRequestTime(auth: { fetch: AuthFetch }, timeoutMs: number): void {
  const send = auth.fetch.bind(auth);
  auth.fetch = async (url, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await send(url, { ...init, signal });
    } catch (err) {
      if (timeout.aborted) throw new GoogleRequestTimeout(`request timed out after ${timeoutMs} ms`);
      throw err;
    }
  };
}

/** Where a google-gax client sends its requests: the options it takes for that. */
export interface GaxEndpoint {
  apiEndpoint: string;
  port: number;
  protocol: 'http' | 'https';
}

/**
 * The client options that point a google-gax client at an `endpoint` URL (a private endpoint,
 * a proxy, the local double): host, port (the scheme's when the URL names none) and protocol.
 *
 * @example
 * gaxEndpoint('http://127.0.0.1:8085'); // { apiEndpoint: '127.0.0.1', port: 8085, protocol: 'http' }
 */
export function gaxEndpoint(endpoint: string): GaxEndpoint {
  const url = new URL(endpoint);
  const https = url.protocol === 'https:';
  return {
    apiEndpoint: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
    protocol: https ? 'https' : 'http',
  };
}
