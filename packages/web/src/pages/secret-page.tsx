import { useMemo, useState } from 'react';
import { client, isCofferApiError } from '../api/client';
import type { AccessLevel, Kind, SecretMetadata } from '../api/types';
import { Link, navigate } from '../app/router';
import { useSession } from '../app/session';
import { useAction, useResource } from '../app/use-resource';
import { type FormSpec, formOfSchema } from '../forms/schema-fields';
import { DueBadges, dueDate } from '../reminders/due-badges';
import { ConnectionTest } from '../secrets/connection-test';
import { EditSecretForm } from '../secrets/edit-secret-form';
import { loadKinds } from '../secrets/kinds';
import { LabelChips } from '../secrets/label-chips';
import { AccessBadge } from '../secrets/secret-card';
import { SecretValuesView } from '../secrets/secret-values-view';
import { ShareDialog } from '../secrets/share-dialog';
import { UserName } from '../secrets/user-name';
import { VersionHistory } from '../secrets/version-history';
import { ShareLinkDialog } from '../share-links/share-link-dialog';
import { ShareLinksCard } from '../share-links/share-links-card';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { ErrorMessage, Loading } from '../ui/feedback';
import { KindLogo } from '../ui/kind-logo';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

const rank: Record<AccessLevel, number> = { use: 0, read: 1, write: 2, manage: 3 };

function holds(secret: SecretMetadata, level: AccessLevel): boolean {
  return secret.access.level !== null && rank[secret.access.level] >= rank[level];
}

/**
 * One secret: its values (secret fields masked until "Reveal", which is audited), edit, version
 * history with rollback, connection test, sharing and delete.
 */
export function SecretPage({ id }: { id: string }) {
  const page = useResource(async () => {
    try {
      const [secret, kinds] = await Promise.all([client.secrets.get(id), loadKinds()]);
      return { secret, kind: kinds.find((k) => k.id === secret.kind) };
    } catch (err) {
      // A secret one cannot see at all is `not_found`; `forbidden` means it is held at `use`.
      if (isCofferApiError(err, 'forbidden')) return 'use-only' as const;
      throw err;
    }
  }, [id]);
  if (page.data === 'use-only') {
    return (
      <>
        <PageHeader title="Secret" />
        <p className="notice notice-warning">
          This secret is shared with you for use only: Coffer may use it on your behalf (a connection test,
          for example), but you cannot view it.
        </p>
        <p>
          <Link href="/">Back to your secrets</Link>
        </p>
      </>
    );
  }
  if (page.data === undefined) {
    return page.state === 'error' ? (
      <>
        <PageHeader title="Secret" />
        <ErrorMessage onRetry={page.reload}>{page.error}</ErrorMessage>
        <p>
          <Link href="/">Back to your secrets</Link>
        </p>
      </>
    ) : (
      <Loading label="Loading the secret…" />
    );
  }
  return <SecretView key={page.data.secret.id} initial={page.data.secret} kind={page.data.kind} />;
}

function SecretView({ initial, kind }: { initial: SecretMetadata; kind: Kind | undefined }) {
  const toast = useToast();
  const [secret, setSecret] = useState(initial);
  const [revealed, setRevealed] = useState(false);
  const [editing, setEditing] = useState(false);
  const [sharing, setSharing] = useState(false);
  const [linking, setLinking] = useState(false);
  const { user } = useSession();
  const [deleting, setDeleting] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const spec: FormSpec = useMemo(
    () =>
      kind === undefined
        ? { fields: [], freeForm: true, maxFields: undefined }
        : formOfSchema(kind.jsonSchema),
    [kind],
  );
  const deleted = secret.deletedAt !== null;
  const canRead = holds(secret, 'read');

  const values = useResource(
    async () =>
      canRead && !deleted
        ? await client.secrets.values(secret.id, revealed ? { reveal: true } : {})
        : undefined,
    [secret.id, secret.currentVersion, revealed, reloadKey],
  );
  // Revealed as asked and not failed: a failed reveal leaves the values masked and the button
  // at "Reveal" (which then tries again).
  const shown = revealed && values.state !== 'error';
  const links = useResource(
    async () => (canRead ? await client.shareLinks.list(secret.id) : undefined),
    [secret.id, canRead, secret.deletedAt],
  );
  const refresh = useAction(async () => await client.secrets.get(secret.id));
  const reloadAll = async () => {
    const result = await refresh.run();
    if (result.ok) setSecret(result.value);
    setReloadKey((k) => k + 1);
  };
  const remove = useAction(async () => client.secrets.delete(secret.id));
  const restore = useAction(async () => await client.secrets.restore(secret.id));

  const labelOf = (field: string) => spec.fields.find((f) => f.name === field)?.label ?? field;
  // The fields a share link can carry: those the current version has, in the kind's order.
  const present = values.data === undefined ? undefined : Object.keys(values.data.values);
  const linkFields = [
    ...spec.fields.map((f) => f.name).filter((n) => present === undefined || present.includes(n)),
    ...(present ?? []).filter((n) => !spec.fields.some((f) => f.name === n)),
  ].map((name) => ({ name, label: labelOf(name) }));

  return (
    <>
      <PageHeader
        title={secret.name}
        logo={<KindLogo src={kind?.logo} size={48} />}
        subtitle={
          <>
            {kind?.displayName ?? secret.kind}
            {secret.description === '' ? null : ` · ${secret.description}`}
          </>
        }
        actions={
          deleted ? null : (
            <>
              {canRead ? (
                <button type="button" className="button" onClick={() => setLinking(true)}>
                  Share link
                </button>
              ) : null}
              {holds(secret, 'manage') ? (
                <button type="button" className="button" onClick={() => setSharing(true)}>
                  Share
                </button>
              ) : null}
              {holds(secret, 'manage') ? (
                <button type="button" className="button button-danger" onClick={() => setDeleting(true)}>
                  Delete
                </button>
              ) : null}
            </>
          )
        }
      />
      {deleted ? (
        <div className="notice notice-warning" role="status">
          <p>
            This secret is in the trash
            {secret.purgeAfter === null ? (
              ''
            ) : (
              <>
                {' '}
                until it is purged <Time value={secret.purgeAfter} />
              </>
            )}
            .
          </p>
          {holds(secret, 'manage') ? (
            <button
              type="button"
              className="button"
              disabled={restore.busy}
              onClick={async () => {
                const result = await restore.run();
                if (result.ok) {
                  setSecret(result.value);
                  toast(`“${result.value.name}” restored`);
                }
              }}
            >
              Restore
            </button>
          ) : null}
          <ErrorMessage>{restore.error}</ErrorMessage>
        </div>
      ) : null}

      <div className="secret-layout">
        <section className="card" aria-labelledby="values-title">
          <div className="card-header">
            <h2 id="values-title">{editing ? 'Edit values' : 'Values'}</h2>
            {!editing && canRead && !deleted ? (
              <div className="card-actions">
                <button
                  type="button"
                  className="button"
                  aria-pressed={shown}
                  onClick={() => (revealed && !shown ? values.reload() : setRevealed(!shown))}
                >
                  {shown ? 'Hide' : 'Reveal'}
                </button>
                {holds(secret, 'write') ? (
                  <button type="button" className="button button-primary" onClick={() => setEditing(true)}>
                    Edit
                  </button>
                ) : null}
              </div>
            ) : null}
          </div>
          {!canRead ? <p className="muted">You may use this secret but not see its values.</p> : null}
          {values.state === 'error' ? (
            <ErrorMessage onRetry={values.reload}>{values.error}</ErrorMessage>
          ) : null}
          {values.data === undefined && values.state === 'loading' ? (
            <Loading label="Loading values…" />
          ) : null}
          {values.data !== undefined && editing ? (
            <EditSecretForm
              secret={secret}
              values={values.data}
              fields={spec.fields}
              freeForm={spec.freeForm}
              maxFields={spec.maxFields}
              kindRotateEveryDays={kind?.rotateEveryDays ?? null}
              onCancel={() => setEditing(false)}
              onReload={() => {
                setEditing(false);
                void reloadAll();
              }}
              onMetadataSaved={setSecret}
              onSaved={(saved) => {
                setEditing(false);
                setSecret(saved);
                toast('Changes saved');
              }}
            />
          ) : null}
          {values.data !== undefined && !editing ? (
            <>
              {shown ? null : values.data.maskedFields.length > 0 ? (
                <p className="muted">
                  Secret fields are hidden. Revealing them is recorded in the audit log.
                </p>
              ) : null}
              <SecretValuesView values={values.data} fields={spec.fields} />
            </>
          ) : null}
        </section>

        <aside className="card secret-details" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="details">
            <dt>Version</dt>
            <dd>{secret.currentVersion}</dd>
            <dt>Last change</dt>
            <dd>
              <Time value={secret.updatedAt} /> by <UserName id={secret.updatedBy} />
            </dd>
            <dt>Created</dt>
            <dd>
              <Time value={secret.createdAt} />
            </dd>
            <dt>Owner</dt>
            <dd>
              <UserName id={secret.ownerId} />
            </dd>
            <dt>Your access</dt>
            <dd>
              <AccessBadge secret={secret} />
            </dd>
            <dt>Stored in</dt>
            <dd>{secret.backend}</dd>
            <dt>Expires</dt>
            <dd>
              {secret.expiresAt === null ? <span className="muted">never</span> : dueDate(secret.expiresAt)}
              <DueBadges secret={{ expiresAt: secret.expiresAt, rotationDueAt: null }} />
            </dd>
            <dt>Rotation</dt>
            <dd>
              {secret.rotateEveryDays === null || secret.rotationDueAt === null ? (
                <span className="muted">none</span>
              ) : (
                <>
                  every {secret.rotateEveryDays} days, next {dueDate(secret.rotationDueAt)}
                  <DueBadges secret={{ expiresAt: null, rotationDueAt: secret.rotationDueAt }} />
                </>
              )}
            </dd>
            <dt>Labels</dt>
            <dd>
              {Object.keys(secret.labels).length === 0 ? <span className="muted">none</span> : null}
              <LabelChips labels={secret.labels} />
            </dd>
          </dl>
        </aside>
      </div>

      {deleted || kind?.connectionTest === false ? null : (
        <ConnectionTest secretId={secret.id} kindName={kind?.displayName ?? secret.kind} />
      )}

      {canRead ? (
        <VersionHistory
          secret={secret}
          labelOf={labelOf}
          canWrite={holds(secret, 'write') && !deleted}
          onRolledBack={(rolled) => {
            setSecret(rolled);
            toast(`Rolled back: now version ${rolled.currentVersion}`);
          }}
        />
      ) : null}

      {canRead ? <ShareLinksCard links={links} userId={user.id} canManage={holds(secret, 'manage')} /> : null}

      {linking ? (
        <ShareLinkDialog
          secretId={secret.id}
          secretName={secret.name}
          fields={linkFields}
          onCreated={links.reload}
          onClose={() => setLinking(false)}
        />
      ) : null}
      {sharing ? (
        <ShareDialog secretId={secret.id} secretName={secret.name} open onClose={() => setSharing(false)} />
      ) : null}
      <ConfirmDialog
        open={deleting}
        title={`Delete “${secret.name}”?`}
        message="It moves to the trash, where it can be restored until the recovery window ends. Its name is free at once."
        confirmLabel="Move to trash"
        danger
        busy={remove.busy}
        error={remove.error}
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          const result = await remove.run();
          if (result.ok) {
            toast(`“${secret.name}” moved to the trash`);
            navigate('/');
          }
        }}
      />
    </>
  );
}
