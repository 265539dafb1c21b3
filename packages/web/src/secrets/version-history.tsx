import { useState } from 'react';
import { client } from '../api/client';
import { conflictOf } from '../api/errors';
import type { SecretMetadata } from '../api/types';
import { useAction, useResource } from '../app/use-resource';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { ErrorMessage, Loading } from '../ui/feedback';
import { Time } from '../ui/time';
import { UserName } from './user-name';

/**
 * The kept versions, newest first: when, by whom, which fields changed (names, never values),
 * and a rollback to any older one (a new version with its values).
 */
export function VersionHistory(props: {
  secret: SecretMetadata;
  labelOf: (field: string) => string;
  canWrite: boolean;
  onRolledBack: (secret: SecretMetadata) => void;
}) {
  const { secret } = props;
  const versions = useResource(
    async () => await client.secrets.versions(secret.id),
    [secret.id, secret.currentVersion],
  );
  const [target, setTarget] = useState<number | undefined>();
  const rollback = useAction(
    async (version: number) =>
      await client.secrets.rollback(secret.id, version, { ifVersion: secret.currentVersion }),
  );
  const confirm = async () => {
    if (target === undefined) return;
    const result = await rollback.run(target);
    if (result.ok) {
      setTarget(undefined);
      props.onRolledBack(result.value);
    }
  };
  const rollbackError = conflictOf(rollback.cause)
    ? 'Someone else changed the secret meanwhile; close this and look at the newest version first.'
    : rollback.error;

  return (
    <section className="card" aria-labelledby="versions-title">
      <h2 id="versions-title">Version history</h2>
      {versions.state === 'error' ? (
        <ErrorMessage onRetry={versions.reload}>{versions.error}</ErrorMessage>
      ) : null}
      {versions.data === undefined ? (
        versions.state === 'loading' ? (
          <Loading label="Loading versions…" />
        ) : null
      ) : (
        <ol className="versions" aria-label="Versions">
          {versions.data.items.map((v) => (
            <li key={v.version} className="version-row">
              <div>
                <p className="version-title">
                  Version {v.version}
                  {v.current ? <span className="badge badge-current">current</span> : null}
                  {v.rollbackOf === null ? null : (
                    <span className="muted"> · rollback to version {v.rollbackOf}</span>
                  )}
                </p>
                <p className="muted">
                  <Time value={v.createdAt} /> by <UserName id={v.createdBy} />
                </p>
                <p className="version-changes">
                  {v.changedFields.length === 0 ? (
                    <span className="muted">No field changed</span>
                  ) : (
                    <>
                      <span className="visually-hidden">Changed fields: </span>
                      {v.changedFields.map((f) => (
                        <span key={f} className="chip chip-changed">
                          {props.labelOf(f)}
                        </span>
                      ))}
                    </>
                  )}
                </p>
              </div>
              {!v.current && props.canWrite ? (
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => {
                    rollback.clear();
                    setTarget(v.version);
                  }}
                >
                  Roll back to version {v.version}
                </button>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      <ConfirmDialog
        open={target !== undefined}
        title={`Roll back to version ${target ?? ''}?`}
        message={`A new version ${secret.currentVersion + 1} is made with the values of version ${target ?? ''}. Nothing is lost: the current values stay in the history.`}
        confirmLabel="Roll back"
        busy={rollback.busy}
        error={rollbackError}
        onConfirm={confirm}
        onClose={() => setTarget(undefined)}
      />
    </section>
  );
}
