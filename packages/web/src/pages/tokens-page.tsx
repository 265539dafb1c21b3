import { useState } from 'react';
import { NewTokenDialog } from '../admin/new-token-dialog';
import { client } from '../api/client';
import type { TokenInfo, User } from '../api/types';
import { useSession } from '../app/session';
import { useAction, useResource } from '../app/use-resource';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

/**
 * API tokens for the CLI, the SDK and bots: your own, and for admins those of any user or
 * service account. A new token is shown once, with a copy button.
 */
export function TokensPage() {
  const { user } = useSession();
  const toast = useToast();
  const admin = user.role === 'admin';
  const [ownerId, setOwnerId] = useState(user.id);
  const [includeInactive, setIncludeInactive] = useState(false);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<TokenInfo | undefined>();
  const owners = useResource(
    async () => (admin ? (await client.users.list({ limit: 1000 })).items : ([user] as User[])),
    [admin],
  );
  const tokens = useResource(
    async () =>
      await client.tokens.list({
        ...(ownerId === user.id ? {} : { userId: ownerId }),
        ...(includeInactive ? { includeInactive: true } : {}),
        limit: 200,
      }),
    [ownerId, includeInactive],
  );
  const revoke = useAction(async (token: TokenInfo) => client.tokens.revoke(token.id));
  const owner = owners.data?.find((u) => u.id === ownerId) ?? user;
  const items = tokens.data?.items ?? [];

  return (
    <>
      <PageHeader
        title={admin ? 'Service accounts and tokens' : 'API tokens'}
        subtitle="Tokens let the CLI, the SDK and bots act as a user or service account."
        actions={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New token
          </button>
        }
      />
      <div className="filters">
        {admin ? (
          <div className="field">
            <label className="field-label" htmlFor="token-owner">
              Tokens of
            </label>
            <select
              id="token-owner"
              className="input"
              value={ownerId}
              onChange={(e) => setOwnerId(e.target.value)}
            >
              {(owners.data ?? [user]).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.username}
                  {u.id === user.id ? ' (you)' : u.type === 'service_account' ? ' (service account)' : ''}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="field field-inline filter-checkbox">
          <input
            id="token-inactive"
            type="checkbox"
            checked={includeInactive}
            onChange={(e) => setIncludeInactive(e.target.checked)}
          />
          <label htmlFor="token-inactive">Show revoked and expired</label>
        </div>
      </div>
      {tokens.state === 'error' ? <ErrorMessage onRetry={tokens.reload}>{tokens.error}</ErrorMessage> : null}
      {tokens.data === undefined && tokens.state === 'loading' ? <Loading /> : null}
      {tokens.data !== undefined && items.length === 0 ? (
        <EmptyState title={`${owner.username} has no tokens.`} />
      ) : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Tokens of {owner.username}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">Scope</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Token" className="mono">
                    {t.prefix}…
                  </td>
                  <td data-label="Scope">{t.scope}</td>
                  <td data-label="State">
                    <span className={`badge badge-${t.state}`}>{t.state}</span>
                  </td>
                  <td data-label="Created">
                    <Time value={t.createdAt} />
                  </td>
                  <td data-label="Expires">
                    {t.expiresAt === null ? 'never' : <Time value={t.expiresAt} />}
                  </td>
                  <td data-label="Last used">
                    <Time value={t.lastUsedAt} />
                  </td>
                  <td>
                    {t.state === 'active' ? (
                      <button
                        type="button"
                        className="button button-small"
                        aria-label={`Revoke token ${t.name}`}
                        onClick={() => setRevoking(t)}
                      >
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {creating ? (
        <NewTokenDialog
          owner={owner}
          self={owner.id === user.id}
          onClose={() => setCreating(false)}
          onCreated={() => tokens.reload()}
        />
      ) : null}
      <ConfirmDialog
        open={revoking !== undefined}
        title={`Revoke the token “${revoking?.name ?? ''}”?`}
        message="Whatever uses it is refused from its very next request."
        confirmLabel="Revoke"
        danger
        busy={revoke.busy}
        error={revoke.error}
        onClose={() => setRevoking(undefined)}
        onConfirm={async () => {
          if (revoking === undefined) return;
          const result = await revoke.run(revoking);
          if (result.ok) {
            toast(`Token “${revoking.name}” revoked`);
            setRevoking(undefined);
            tokens.reload();
          }
        }}
      />
    </>
  );
}
