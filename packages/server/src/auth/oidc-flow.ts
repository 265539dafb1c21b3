import { createHash, randomBytes } from 'node:crypto';

/**
 * The pieces of a sign-in that stay with the browser. `binding` is random and lives only in an
 * HttpOnly cookie; the PKCE verifier and the nonce are derived from it, so the database (which
 * keeps a hash of `binding`) never holds them, and only the browser that started a sign-in can
 * finish it.
 *
 * @example
 * const binding = newBinding();
 * const { verifier, nonce } = secretsOf(binding);
 */
export function newBinding(): string {
  return randomBytes(32).toString('base64url');
}

/** The sign-in's `state`: random, sent to the provider and back. */
export function newState(): string {
  return randomBytes(32).toString('base64url');
}

/** The PKCE verifier (43 characters) and nonce of a sign-in, from its binding. */
export function secretsOf(binding: string): { verifier: string; nonce: string; challenge: string } {
  const derive = (purpose: string) =>
    createHash('sha256').update(`coffer-sso-${purpose}\0${binding}`).digest('base64url');
  const verifier = derive('pkce');
  return {
    verifier,
    nonce: derive('nonce'),
    challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url'),
  };
}

/**
 * The name of the cookie holding a sign-in's binding: one per sign-in (from its state), so two
 * tabs signing in at once do not spoil each other.
 */
export function bindingCookieName(state: string): string {
  return `coffer_sso_${createHash('sha256').update(state).digest('hex').slice(0, 16)}`;
}

const loopbackNames = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The CLI's redirect for `coffer login --sso`, if it is one: plain HTTP to this machine's
 * loopback interface on an explicit port (RFC 8252's loopback redirect), nothing else, so the
 * server never sends a sign-in anywhere but back to the computer it happened on.
 *
 * @example
 * loopbackRedirect('http://127.0.0.1:53123/callback'); // URL
 * loopbackRedirect('https://evil.example/'); // undefined
 */
export function loopbackRedirect(value: string | undefined): URL | undefined {
  if (value === undefined || value.length > 512) return undefined;
  const url = URL.parse(value);
  if (url === null || url.protocol !== 'http:' || !loopbackNames.has(url.hostname)) return undefined;
  if (url.port === '' || url.username !== '' || url.password !== '' || url.hash !== '') return undefined;
  return url;
}

/**
 * A page of the web UI to return to after signing in: a path on this origin (never `//host`),
 * without control characters; anything else is `/`.
 *
 * @example
 * safeNextPath('/secrets/42?tab=history'); // '/secrets/42?tab=history'
 * safeNextPath('//evil.example/'); // '/'
 */
export function safeNextPath(next: string | undefined): string {
  if (next === undefined || next.length > 2000 || !next.startsWith('/')) return '/';
  if (next.startsWith('//') || next.startsWith('/\\') || [...next].some((c) => c < ' ' || c === '\x7f'))
    return '/';
  const url = URL.parse(next, 'http://coffer.invalid');
  if (url === null || url.origin !== 'http://coffer.invalid' || url.pathname.startsWith('/login')) return '/';
  return url.pathname + url.search + url.hash;
}

/** Where a finished or failed web sign-in sends the browser. */
export function loginPageWith(reason: string, next: string): string {
  const query = new URLSearchParams({ sso_error: reason });
  if (next !== '/') query.set('next', next);
  return `/login?${query}`;
}

/** The CLI's redirect with the outcome of its sign-in. */
export function cliRedirectWith(base: string, parameters: Record<string, string>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.href;
}
