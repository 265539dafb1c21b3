import { useCallback, useEffect, useState } from 'react';
import { client } from '../api/client';
import type { User } from '../api/types';
import { LoginPage } from '../pages/login-page';
import { ShareLinkPage } from '../share-links/share-link-page';
import { Loading } from '../ui/feedback';
import { ToastProvider } from '../ui/toasts';
import { Layout } from './layout';
import { matchPath, navigate, safeNext, useLocation } from './router';
import { Routes } from './routes';
import { SessionProvider } from './session';

type Auth =
  | { state: 'checking' }
  | { state: 'out'; message?: string | undefined }
  | { state: 'in'; user: User };

/**
 * A share link's page (`/s/<id>`) is for people without an account: it stands alone, with no
 * login and no session. Everything else is the admin center.
 */
export function App() {
  const { path } = useLocation();
  const link = matchPath('/s/:id', path);
  if (link !== undefined) {
    return (
      <ToastProvider>
        <ShareLinkPage key={link.id} id={link.id!} />
      </ToastProvider>
    );
  }
  return <AdminCenter />;
}

/** Who is logged in decides between the login page and the app; a 401 anywhere comes back here. */
function AdminCenter() {
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  useEffect(() => {
    client.auth.me().then(
      ({ user }) => setAuth({ state: 'in', user }),
      () => {
        setAuth({ state: 'out' });
        // A page opened while logged out (a deep link, a bookmark): logging in goes there.
        const here = window.location.pathname + window.location.search;
        if (window.location.pathname === '/login') return;
        navigate(here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, { replace: true });
      },
    );
  }, []);
  const onEnd = useCallback((message: string | undefined) => {
    const here = window.location.pathname + window.location.search;
    setAuth({ state: 'out', message: message ?? 'You have logged out.' });
    // After an expiry, logging in again returns to the page the user was on.
    const next =
      message !== undefined && !here.startsWith('/login') ? `?next=${encodeURIComponent(here)}` : '';
    navigate(`/login${next}`, { replace: true });
  }, []);
  const onLogin = useCallback((user: User) => {
    const next = new URLSearchParams(window.location.search).get('next');
    setAuth({ state: 'in', user });
    navigate(safeNext(next), { replace: true });
  }, []);

  return (
    <ToastProvider>
      {auth.state === 'checking' ? (
        <main className="center-page">
          <Loading />
        </main>
      ) : auth.state === 'out' ? (
        <LoginPage message={auth.message} onLogin={onLogin} />
      ) : (
        <SessionProvider key={auth.user.id} user={auth.user} onEnd={onEnd}>
          <Layout>
            <Routes />
          </Layout>
        </SessionProvider>
      )}
    </ToastProvider>
  );
}
