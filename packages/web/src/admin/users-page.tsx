import { useState } from 'react';
import { client } from '../api/client';
import type { User } from '../api/types';
import { useSession } from '../app/session';
import { useAction, useResource } from '../app/use-resource';
import { ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';
import { NewUserDialog } from './new-user-dialog';
import { ResetPasswordDialog } from './reset-password-dialog';

/** Users and service accounts: create, disable or enable, reset a password, change the role. */
export function UsersPage() {
  const { user: me } = useSession();
  const toast = useToast();
  const [query, setQuery] = useState('');
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | undefined>();
  const users = useResource(
    async () =>
      await client.users.list({
        includeDisabled: true,
        limit: 500,
        ...(query.trim() === '' ? {} : { query: query.trim() }),
      }),
    [query],
  );
  const update = useAction(async (user: User, patch: { disabled?: boolean; role?: 'admin' | 'member' }) =>
    client.users.update(user.id, patch),
  );
  const change = async (
    user: User,
    patch: { disabled?: boolean; role?: 'admin' | 'member' },
    done: string,
  ) => {
    const result = await update.run(user, patch);
    if (result.ok) toast(done);
    users.reload();
  };

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="People log in with a password; service accounts use API tokens."
        actions={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New user
          </button>
        }
      />
      <search className="filters" aria-label="Find users">
        <div className="field">
          <label className="field-label" htmlFor="user-query">
            Search
          </label>
          <input
            id="user-query"
            type="search"
            className="input"
            placeholder="Username or name starts with…"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
      </search>
      <ErrorMessage>{update.error}</ErrorMessage>
      {users.state === 'error' ? <ErrorMessage onRetry={users.reload}>{users.error}</ErrorMessage> : null}
      {users.data === undefined && users.state === 'loading' ? <Loading /> : null}
      {users.data !== undefined ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Type</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last login</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id} className={u.disabled ? 'row-disabled' : undefined}>
                  <th scope="row" data-label="User">
                    <span className="user-cell">
                      <span>{u.username}</span>
                      <span className="muted">{u.displayName}</span>
                    </span>
                  </th>
                  <td data-label="Type">{u.type === 'service_account' ? 'service account' : 'person'}</td>
                  <td data-label="Role">
                    <label className="visually-hidden" htmlFor={`role-${u.id}`}>
                      Role of {u.username}
                    </label>
                    <select
                      id={`role-${u.id}`}
                      className="input input-small"
                      value={u.role}
                      disabled={u.id === me.id}
                      onChange={(e) =>
                        change(
                          u,
                          { role: e.target.value as 'admin' | 'member' },
                          `${u.username} is now ${e.target.value === 'admin' ? 'an administrator' : 'a member'}`,
                        )
                      }
                    >
                      <option value="member">member</option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td data-label="Status">
                    <span className={u.disabled ? 'badge badge-revoked' : 'badge badge-active'}>
                      {u.disabled ? 'disabled' : 'active'}
                    </span>
                  </td>
                  <td data-label="Last login">
                    {u.type === 'service_account' ? (
                      <span className="muted">—</span>
                    ) : (
                      <Time value={u.lastLoginAt} />
                    )}
                  </td>
                  <td>
                    <div className="row-actions">
                      {u.type === 'user' ? (
                        <button
                          type="button"
                          className="button button-small"
                          aria-label={`Reset the password of ${u.username}`}
                          onClick={() => setResetting(u)}
                        >
                          Reset password
                        </button>
                      ) : null}
                      {u.id === me.id ? null : (
                        <button
                          type="button"
                          className="button button-small"
                          aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.username}`}
                          disabled={update.busy}
                          onClick={() =>
                            change(
                              u,
                              { disabled: !u.disabled },
                              `${u.username} ${u.disabled ? 'enabled' : 'disabled'}`,
                            )
                          }
                        >
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {creating ? (
        <NewUserDialog
          onClose={() => setCreating(false)}
          onCreated={(u) => {
            setCreating(false);
            toast(`User ${u.username} created`);
            users.reload();
          }}
        />
      ) : null}
      {resetting === undefined ? null : (
        <ResetPasswordDialog
          user={resetting}
          onClose={() => setResetting(undefined)}
          onDone={() => {
            toast(`Password of ${resetting.username} reset`);
            setResetting(undefined);
          }}
        />
      )}
    </>
  );
}
