/**
 * The session cookies of one server, for runtimes without a browser's cookie store (Node).
 * In a browser `Set-Cookie` is never visible to scripts, so this stays empty there and the
 * browser sends its own cookies. Domain and path are not tracked: a client talks to one server.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** Records the `Set-Cookie` headers of an answer (expired or emptied cookies are removed). */
  store(headers: Headers): void {
    const lines = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attributes.some(isExpiry)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  get size(): number {
    return this.#cookies.size;
  }

  clear(): void {
    this.#cookies.clear();
  }

  /** The `Cookie` request header, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function isExpiry(attribute: string): boolean {
  const [rawName = '', ...rest] = attribute.split('=');
  const name = rawName.trim().toLowerCase();
  const value = rest.join('=').trim();
  if (name === 'max-age') return Number(value) <= 0;
  if (name === 'expires') {
    const at = Date.parse(value);
    return !Number.isNaN(at) && at <= Date.now();
  }
  return false;
}

/** A cookie readable by the page (`document.cookie`), when there is a page. */
export function documentCookie(name: string): string | undefined {
  const doc = (globalThis as { document?: { cookie?: unknown } }).document;
  if (typeof doc?.cookie !== 'string') return undefined;
  for (const part of doc.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return safeDecode(part.slice(eq + 1).trim());
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
