import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

// A few lines of client-side routing over the History API; the server answers every page path
// with index.html, so a reload lands on the same page.

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Goes to a path of the app (pushes a history entry unless `replace`). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
}

/**
 * Where to go after logging in: `next` if it is a path of this app, else `/`. Never another
 * host (`//evil.example`, `/\evil.example`, `https://evil.example`), nor the login page again.
 */
export function safeNext(next: string | null | undefined): string {
  if (next == null || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  const url = new URL(next, window.location.origin);
  if (url.origin !== window.location.origin || url.pathname === '/login') return '/';
  return url.pathname + url.search + url.hash;
}

/** The current location: `{ path, query }`, re-rendering on every navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(
    subscribe,
    () => window.location.pathname + window.location.search,
    () => '/',
  );
  const url = new URL(href, 'http://local');
  return { path: url.pathname, query: url.searchParams };
}

/**
 * Matches `/secrets/:id` against `/secrets/abc` → `{ id: 'abc' }`; undefined when it does not match.
 *
 * @example
 * matchPath('/admin/groups/:id', '/admin/groups/7') // { id: '7' }
 */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const actual = have[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return undefined;
  }
  return params;
}

/** An anchor that navigates inside the app (a modified click still opens a new tab). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
