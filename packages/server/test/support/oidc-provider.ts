// A real OpenID Connect provider for tests: `oidc-provider` (a certified implementation) on
// 127.0.0.1, with one static confidential client and an in-memory account store, and an HTTP
// driver that goes through a sign-in the way a browser would: it follows every redirect, keeps
// cookies, and fills in the provider's own login and consent pages.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
// biome-ignore lint/suspicious/noTsIgnore: oidc-provider ships no type declarations
// @ts-ignore
import Provider from 'oidc-provider';

/** An account at the test provider; its login name is also its `sub`. */
export interface TestAccount {
  preferredUsername?: string;
  name?: string;
  email?: string;
  emailVerified?: boolean;
  groups?: string[];
}

export interface TestProvider {
  /** `http://127.0.0.1:<port>`: the issuer. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by login name; change them between sign-ins (groups, names). */
  accounts: Map<string, TestAccount>;
  /** Every authorization code, access token and ID token the provider handed out, to look for in logs. */
  issued: string[];
  close(): Promise<void>;
}

/** A free port on 127.0.0.1 (for a server whose callback URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Starts the provider. `redirectUris` are the client's registered redirect URIs (Coffer's
 * callback).
 *
 * @example
 * const provider = await startOidcProvider({ redirectUris: [`${url}/api/v1/auth/sso/callback`], accounts: { ada: { groups: ['eng'] } } });
 */
export async function startOidcProvider(options: {
  redirectUris: string[];
  accounts?: Record<string, TestAccount>;
  clientSecret?: string;
}): Promise<TestProvider> {
  const accounts = new Map(Object.entries(options.accounts ?? {}));
  const clientId = 'coffer-test';
  const clientSecret = options.clientSecret ?? 'test-client-secret-0123456789abcdef';
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const issuer = `http://127.0.0.1:${address.port}`;

  const { privateKey: signingKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (account === undefined) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            preferred_username: account.preferredUsername ?? id,
            name: account.name ?? id,
            ...(account.email === undefined
              ? {}
              : { email: account.email, email_verified: account.emailVerified ?? true }),
            groups: account.groups ?? [],
          };
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    cookies: { keys: ['coffer-test-provider-cookie-key'] },
    pkce: { required: () => true },
    jwks: { keys: [{ ...signingKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' }] },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
  });
  // oidc-provider's "development-only" notices are expected here.
  provider.on('server_error', (_ctx: unknown, err: Error) => {
    process.stderr.write(`test OIDC provider error: ${err.message}\n`);
  });
  const issued: string[] = [];
  provider.use(
    async (
      ctx: { path: string; body?: unknown; query?: Record<string, unknown> },
      next: () => Promise<void>,
    ) => {
      await next();
      const body = ctx.body as Record<string, unknown> | undefined;
      if (ctx.path === '/token' && body !== undefined && typeof body === 'object') {
        for (const key of ['access_token', 'id_token', 'refresh_token']) {
          if (typeof body[key] === 'string') issued.push(body[key] as string);
        }
      }
    },
  );
  provider.on('authorization_code.saved', (code: { jti: string }) => issued.push(code.jti));
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A cookie jar good enough for loopback hosts: cookies by name and path (ports share cookies). */
export class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  /** Stores the `Set-Cookie` headers of an answer. */
  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const path = attributes.map((a) => /^\s*path=(.*)$/i.exec(a)?.[1]).find((p) => p !== undefined) ?? '/';
      const expired =
        value === '' || attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a) || /max-age=0\b/i.test(a));
      const key = `${name}\0${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  /** The `Cookie` header for a URL (undefined when none apply). */
  headerFor(url: string): string | undefined {
    const path = new URL(url).pathname;
    const matching = [...this.#cookies.values()].filter(
      (c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
    );
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name: string): string | undefined {
    return [...this.#cookies.values()].find((c) => c.name === name)?.value;
  }

  set(name: string, value: string, path = '/'): void {
    this.#cookies.set(`${name}\0${path}`, { name, value, path });
  }

  names(): string[] {
    return [...this.#cookies.values()].map((c) => c.name);
  }
}

export interface SignInTrip {
  /** Every URL requested, in order. */
  visited: string[];
  /** The last redirect's target (where the sign-in sent the browser in the end). */
  landedAt: string;
  /** The answer at `landedAt` (or the last answer, if it was not followed). */
  final: Response;
  jar: CookieJar;
}

/**
 * Goes through a sign-in from `startUrl` like a browser: follows redirects (keeping cookies in
 * `jar`), and on the provider's pages logs in as `login` and gives consent. Stops at the first
 * answer that is neither a redirect nor one of the provider's pages, or at a redirect that
 * `stopAt` accepts (not requested then). `rewrite` may change a URL before it is requested
 * (tests of tampered requests).
 */
export async function driveSignIn(
  startUrl: string,
  options: {
    login: string;
    jar?: CookieJar;
    stopAt?: (url: URL) => boolean;
    rewrite?: (url: URL) => URL;
  },
): Promise<SignInTrip> {
  const jar = options.jar ?? new CookieJar();
  const visited: string[] = [];
  let url = startUrl;
  let method = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 20; step++) {
    const target = options.rewrite === undefined ? new URL(url) : options.rewrite(new URL(url));
    visited.push(target.href);
    const cookie = jar.headerFor(target.href);
    const response = await fetch(target, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html,application/json',
        ...(cookie === undefined ? {} : { cookie }),
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(body === undefined ? {} : { body }),
    });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.arrayBuffer();
      const next = new URL(location, target);
      if (options.stopAt?.(next)) return { visited, landedAt: next.href, final: response, jar };
      url = next.href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const text = await response.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(text);
    const prompt = /name="prompt" value="(login|consent)"/.exec(text)?.[1];
    if (form === null || prompt === undefined) {
      return {
        visited,
        landedAt: target.href,
        final: new Response(text, { status: response.status, headers: response.headers }),
        jar,
      };
    }
    url = new URL(form[1]!.replace(/&amp;/g, '&'), target).href;
    method = 'POST';
    body = new URLSearchParams(
      prompt === 'login' ? { prompt, login: options.login, password: 'any password' } : { prompt },
    ).toString();
  }
  throw new Error(`the sign-in did not finish in 20 steps: ${visited.join(' → ')}`);
}
