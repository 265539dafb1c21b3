import { type ReactNode, useEffect } from 'react';
import { AuditPage } from '../admin/audit-page';
import { BackendsPage } from '../admin/backends-page';
import { GroupPage } from '../admin/group-page';
import { GroupsPage } from '../admin/groups-page';
import { KeyringPage } from '../admin/keyring-page';
import { UsersPage } from '../admin/users-page';
import { NewSecretPage } from '../pages/new-secret-page';
import { NotFoundPage } from '../pages/not-found-page';
import { SecretPage } from '../pages/secret-page';
import { SecretsPage } from '../pages/secrets-page';
import { TokensPage } from '../pages/tokens-page';
import { TrashPage } from '../pages/trash-page';
import { DuePage } from '../reminders/due-page';
import { matchPath, navigate, safeNext, useLocation } from './router';
import { useSession } from './session';

interface Route {
  path: string;
  title: string;
  admin?: boolean;
  render: (params: Record<string, string>) => ReactNode;
}

/** Every page of the app by path. Admin pages are not offered to members (the API refuses them too). */
const routes: Route[] = [
  // Logged in already (a bookmark, the Back button): on to `next`, or home.
  { path: '/login', title: 'Log in', render: () => <LoginRedirect /> },
  { path: '/', title: 'My secrets', render: () => <SecretsPage /> },
  { path: '/new', title: 'New secret', render: () => <NewSecretPage kindId={undefined} /> },
  { path: '/new/:kind', title: 'New secret', render: (p) => <NewSecretPage kindId={p.kind} /> },
  { path: '/secrets/:id', title: 'Secret', render: (p) => <SecretPage key={p.id} id={p.id!} /> },
  { path: '/due', title: 'Due soon', render: () => <DuePage /> },
  { path: '/trash', title: 'Trash', render: () => <TrashPage /> },
  { path: '/tokens', title: 'API tokens', render: () => <TokensPage /> },
  { path: '/admin/users', title: 'Users', admin: true, render: () => <UsersPage /> },
  { path: '/admin/groups', title: 'Groups', admin: true, render: () => <GroupsPage /> },
  {
    path: '/admin/groups/:id',
    title: 'Group',
    admin: true,
    render: (p) => <GroupPage key={p.id} id={p.id!} />,
  },
  { path: '/admin/audit', title: 'Audit log', admin: true, render: () => <AuditPage /> },
  { path: '/admin/backends', title: 'Backends', admin: true, render: () => <BackendsPage /> },
  { path: '/admin/keyring', title: 'Keyring', admin: true, render: () => <KeyringPage /> },
];

export function Routes() {
  const { path } = useLocation();
  const { user } = useSession();
  let page: ReactNode = <NotFoundPage />;
  let title = 'Not found';
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params === undefined) continue;
    if (route.admin && user.role !== 'admin') break;
    page = route.render(params);
    title = route.title;
    break;
  }
  useEffect(() => {
    document.title = `${title} · Coffer`;
  }, [title]);
  return page;
}

function LoginRedirect() {
  const { query } = useLocation();
  const next = query.get('next');
  useEffect(() => navigate(safeNext(next), { replace: true }), [next]);
  return null;
}
