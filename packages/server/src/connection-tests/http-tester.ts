import type { SecretValues } from '@coffer/core';
import {
  type ConnectionTestContext,
  type ConnectionTester,
  type ConnectionTestOutcome,
  describeError,
  stringField,
} from './connection-tester.js';

interface HttpProbe {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Checks a 2xx answer further (e.g. that a token endpoint returned a token). */
  accept?: (response: Response) => Promise<string | undefined>;
}

/**
 * Sends one request with the credentials and reads the status: 2xx means they work; 401/403
 * mean they were refused; redirects are not followed (they could carry the credentials
 * elsewhere) and count as failures. The response body is never put into the reason.
 */
async function probe(
  request: HttpProbe,
  { timeoutMs, signal }: ConnectionTestContext,
): Promise<ConnectionTestOutcome> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { ok: false, reason: 'the URL is not valid' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'the URL must start with http:// or https://' };
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method,
      headers: { 'user-agent': 'coffer-connection-test', ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { ok: false, reason: `no answer from ${url.host} within ${timeoutMs} ms` };
    }
    return { ok: false, reason: `could not reach ${url.host}: ${describeError(err)}` };
  }
  const status = response.status;
  const details = { status };
  try {
    if (status >= 200 && status < 300) {
      const problem = request.accept === undefined ? undefined : await request.accept(response);
      return problem === undefined ? { ok: true, details } : { ok: false, reason: problem, details };
    }
    if (status === 401 || status === 403 || status === 407) {
      return { ok: false, reason: `the server refused the credentials (HTTP ${status})`, details };
    }
    if (status >= 300 && status < 400) {
      return {
        ok: false,
        reason: `the server redirected (HTTP ${status}); redirects are not followed`,
        details,
      };
    }
    return { ok: false, reason: `the server answered HTTP ${status}`, details };
  } finally {
    await response.body?.cancel().catch(() => {});
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function required(values: SecretValues, field: string, what: string): string | ConnectionTestOutcome {
  return stringField(values, field) ?? { ok: false, reason: `the secret has no ${what} to test against` };
}

/** `api-token`: a GET of the base URL with the token in its header. */
export const apiTokenTester: ConnectionTester = {
  kind: 'api-token',
  async test(values, context) {
    const url = required(values, 'baseUrl', 'base URL');
    if (typeof url !== 'string') return url;
    const token = stringField(values, 'token') ?? '';
    const scheme = stringField(values, 'scheme');
    const header = stringField(values, 'headerName') ?? 'Authorization';
    return probe(
      { url, method: 'GET', headers: { [header]: scheme === undefined ? token : `${scheme} ${token}` } },
      context,
    );
  },
};

/** `basic-auth`: a GET of the URL with HTTP basic authentication. */
export const basicAuthTester: ConnectionTester = {
  kind: 'basic-auth',
  async test(values, context) {
    const url = required(values, 'url', 'URL');
    if (typeof url !== 'string') return url;
    const auth = basic(stringField(values, 'username') ?? '', stringField(values, 'password') ?? '');
    return probe({ url, method: 'GET', headers: { authorization: auth } }, context);
  },
};

/** `jira`: the Jira REST API's "who am I" with the account email and API token. */
export const jiraTester: ConnectionTester = {
  kind: 'jira',
  async test(values, context) {
    const base = required(values, 'baseUrl', 'site URL');
    if (typeof base !== 'string') return base;
    const auth = basic(stringField(values, 'email') ?? '', stringField(values, 'apiToken') ?? '');
    return probe(
      {
        url: `${base.replace(/\/+$/, '')}/rest/api/3/myself`,
        method: 'GET',
        headers: { authorization: auth, accept: 'application/json' },
      },
      context,
    );
  },
};

/** `oauth-client`: the client-credentials grant at the token URL; a token must come back. */
export const oauthClientTester: ConnectionTester = {
  kind: 'oauth-client',
  async test(values, context) {
    const url = required(values, 'tokenUrl', 'token URL');
    if (typeof url !== 'string') return url;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    const scopes = stringField(values, 'scopes');
    const audience = stringField(values, 'audience');
    if (scopes !== undefined) form.set('scope', scopes);
    if (audience !== undefined) form.set('audience', audience);
    // RFC 6749 §2.3.1: the client id and secret are form-encoded before basic authentication.
    const auth = basic(
      encodeURIComponent(stringField(values, 'clientId') ?? ''),
      encodeURIComponent(stringField(values, 'clientSecret') ?? ''),
    );
    return probe(
      {
        url,
        method: 'POST',
        headers: {
          authorization: auth,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        accept: async (response) => {
          const body = (await response.json().catch(() => undefined)) as
            | { access_token?: unknown }
            | undefined;
          return typeof body?.access_token === 'string'
            ? undefined
            : 'the token endpoint answered without an access token';
        },
      },
      context,
    );
  },
};
