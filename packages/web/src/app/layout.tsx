import { type ReactNode, useEffect, useRef, useState } from 'react';
import { client } from '../api/client';
import { Link, useLocation } from './router';
import { useSession } from './session';

interface NavItem {
  href: string;
  label: string;
  /** Other paths that belong to this item. */
  prefix?: string;
}

const mainNav: NavItem[] = [
  { href: '/', label: 'My secrets', prefix: '/secrets' },
  { href: '/new', label: 'New secret' },
  { href: '/due', label: 'Due soon' },
  { href: '/trash', label: 'Trash' },
  { href: '/tokens', label: 'API tokens' },
];

const adminNav: NavItem[] = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/groups', label: 'Groups' },
  { href: '/admin/audit', label: 'Audit log' },
  { href: '/admin/backends', label: 'Backends' },
  { href: '/admin/keyring', label: 'Keyring' },
];

function isCurrent(item: NavItem, path: string): boolean {
  if (item.href === '/') return path === '/' || (item.prefix !== undefined && path.startsWith(item.prefix));
  return path === item.href || path.startsWith(`${item.href}/`);
}

/**
 * The frame of every page: a skip link, the header with the user and logout, the navigation
 * (a menu button at phone width), and the main region, focused on its heading after navigation
 * (once it shows, for pages that load first).
 */
export function Layout({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const first = useRef(true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every navigation (path change)
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    // Pages that load first show a spinner and no heading yet: wait for the heading to appear
    // (until the next navigation), unless the person has moved focus meanwhile.
    const main = document.getElementById('main');
    if (main === null) return;
    const before = document.activeElement;
    const focusHeading = (): boolean => {
      const heading = main.querySelector<HTMLElement>('h1');
      if (heading === null) return false;
      const active = document.activeElement;
      if (active === before || active === null || active === document.body) heading.focus();
      return true;
    };
    if (focusHeading()) return;
    const observer = new MutationObserver(() => {
      if (focusHeading()) observer.disconnect();
    });
    observer.observe(main, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [path]);

  const logout = async () => {
    try {
      await client.auth.logout();
    } finally {
      signOut();
    }
  };

  const links = (items: NavItem[]) => (
    <ul>
      {items.map((item) => (
        <li key={item.href}>
          <Link href={item.href} aria-current={isCurrent(item, path) ? 'page' : undefined}>
            {item.label}
          </Link>
        </li>
      ))}
    </ul>
  );

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Coffer
        </Link>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="site-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <div className="topbar-user">
          <span className="user-name" title={user.username}>
            {user.displayName || user.username}
            {user.role === 'admin' ? <span className="badge">admin</span> : null}
          </span>
          <button type="button" className="button button-small" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <nav id="site-nav" className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Main">
        {links(mainNav)}
        {user.role === 'admin' ? (
          <>
            <h2 className="nav-heading">Administration</h2>
            {links(adminNav)}
          </>
        ) : null}
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
