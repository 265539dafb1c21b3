import { useState } from 'react';
import { client, isCofferApiError } from '../api/client';
import type { SecretMetadata } from '../api/types';
import { Link } from '../app/router';
import { useAction, useResource } from '../app/use-resource';
import { kindMap, useKinds } from '../secrets/kinds';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { Dialog } from '../ui/dialog';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { KindLogo } from '../ui/kind-logo';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

/** Deleted secrets until their recovery window ends: restore (under a new name if it was reused) or purge. */
export function TrashPage() {
  const toast = useToast();
  const kinds = useKinds();
  const trash = useResource(async () => await client.secrets.list({ state: 'deleted', limit: 200 }), []);
  const [purging, setPurging] = useState<SecretMetadata | undefined>();
  const [renaming, setRenaming] = useState<SecretMetadata | undefined>();
  const [newName, setNewName] = useState('');
  const restore = useAction(
    async (secret: SecretMetadata, name?: string) =>
      await client.secrets.restore(secret.id, name === undefined ? {} : { newName: name }),
  );
  const purge = useAction(async (secret: SecretMetadata) => client.secrets.purge(secret.id));
  const byId = kindMap(kinds.data);

  const doRestore = async (secret: SecretMetadata, name?: string) => {
    const result = await restore.run(secret, name);
    if (result.ok) {
      setRenaming(undefined);
      toast(`“${result.value.name}” restored`);
      trash.reload();
    } else if (
      name === undefined &&
      isCofferApiError(result.cause) &&
      (result.cause.code === 'already_exists' || result.cause.code === 'conflict')
    ) {
      setNewName(`${secret.name}-restored`);
      setRenaming(secret);
    }
  };

  const items = trash.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Trash"
        subtitle="Deleted secrets can be restored until their recovery window ends."
      />
      {trash.state === 'error' ? <ErrorMessage onRetry={trash.reload}>{trash.error}</ErrorMessage> : null}
      {trash.data === undefined && trash.state === 'loading' ? <Loading /> : null}
      {trash.data !== undefined && items.length === 0 ? <EmptyState title="The trash is empty." /> : null}
      {renaming === undefined ? <ErrorMessage>{restore.error}</ErrorMessage> : null}
      {items.length > 0 ? (
        <ul className="secret-list" aria-label="Deleted secrets">
          {items.map((secret) => (
            <li key={secret.id} className="secret-card">
              <KindLogo src={byId.get(secret.kind)?.logo} size={40} />
              <div className="secret-card-main">
                <p className="secret-card-title">
                  <Link href={`/secrets/${secret.id}`}>{secret.name}</Link>
                  <span className="muted"> · {byId.get(secret.kind)?.displayName ?? secret.kind}</span>
                </p>
                <p className="muted">
                  Deleted <Time value={secret.deletedAt} />
                  {secret.purgeAfter === null ? null : (
                    <>
                      {' '}
                      · purged <Time value={secret.purgeAfter} />
                    </>
                  )}
                </p>
              </div>
              <div className="row-actions">
                <button
                  type="button"
                  className="button"
                  disabled={restore.busy}
                  aria-label={`Restore ${secret.name}`}
                  onClick={() => doRestore(secret)}
                >
                  Restore
                </button>
                <button
                  type="button"
                  className="button button-danger"
                  aria-label={`Delete ${secret.name} forever`}
                  onClick={() => setPurging(secret)}
                >
                  Delete forever
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      <Dialog
        title={`Restore “${renaming?.name ?? ''}” under a new name`}
        open={renaming !== undefined}
        onClose={() => setRenaming(undefined)}
        description="Another secret uses this name now."
      >
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (renaming !== undefined) void doRestore(renaming, newName.trim());
          }}
        >
          <div className="field">
            <label className="field-label" htmlFor="restore-name">
              New name
            </label>
            <input
              id="restore-name"
              className="input"
              value={newName}
              onChange={(e) => setNewName(e.target.value)}
            />
          </div>
          <ErrorMessage>{restore.error}</ErrorMessage>
          <div className="dialog-actions">
            <button type="submit" className="button button-primary" disabled={restore.busy}>
              Restore
            </button>
          </div>
        </form>
      </Dialog>
      <ConfirmDialog
        open={purging !== undefined}
        title={`Delete “${purging?.name ?? ''}” forever?`}
        message="Every version of its values is deleted for good. This cannot be undone."
        confirmLabel="Delete forever"
        danger
        busy={purge.busy}
        error={purge.error}
        onClose={() => setPurging(undefined)}
        onConfirm={async () => {
          if (purging === undefined) return;
          const result = await purge.run(purging);
          if (result.ok) {
            toast(`“${purging.name}” deleted forever`);
            setPurging(undefined);
            trash.reload();
          }
        }}
      />
    </>
  );
}
