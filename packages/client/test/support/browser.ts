// A browser, as far as the SDK can tell: a cookie store the page's scripts cannot read except
// for non-HttpOnly cookies (through `document.cookie`), `Set-Cookie` hidden from scripts, a
// `Cookie` header scripts cannot set, and cookies sent only with `credentials` that allow it.

export interface Browser {
  fetch: typeof fetch;
  /** Installs `document` (with `cookie`) and `location` on globalThis; returns the undo. */
  installGlobals(): () => void;
  /** The cookies the browser holds (name → value). */
  cookies: Map<string, { value: string; httpOnly: boolean }>;
  requests: { method: string; url: string; headers: Record<string, string> }[];
}

export function simulatedBrowser(origin: string): Browser {
  const cookies = new Map<string, { value: string; httpOnly: boolean }>();
  const requests: Browser['requests'] = [];
  const browserFetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), origin);
    const headers = new Headers(init.headers);
    headers.delete('cookie'); // a forbidden header: scripts cannot set it
    const sameOrigin = url.origin === new URL(origin).origin;
    const credentials = init.credentials ?? 'same-origin';
    if (credentials === 'include' || (credentials === 'same-origin' && sameOrigin)) {
      if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, c]) => `${k}=${c.value}`).join('; '));
    }
    requests.push({
      method: init.method ?? 'GET',
      url: url.href,
      headers: Object.fromEntries(headers.entries()),
    });
    const response = await fetch(url, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = value === '' || attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) cookies.delete(name);
      else
        cookies.set(name, { value, httpOnly: attributes.some((a) => a.trim().toLowerCase() === 'httponly') });
    }
    const visible = new Headers(response.headers);
    visible.delete('set-cookie'); // scripts never see it
    const body = [101, 204, 205, 304].includes(response.status) ? null : response.body;
    return new Response(body, { status: response.status, statusText: response.statusText, headers: visible });
  };
  return {
    fetch: browserFetch as typeof fetch,
    cookies,
    requests,
    installGlobals() {
      const g = globalThis as Record<string, unknown>;
      const before = { document: g.document, location: g.location };
      g.document = {
        get cookie() {
          return [...cookies]
            .filter(([, c]) => !c.httpOnly)
            .map(([k, c]) => `${k}=${c.value}`)
            .join('; ');
        },
      };
      g.location = new URL(origin);
      return () => {
        g.document = before.document;
        g.location = before.location;
      };
    },
  };
}
