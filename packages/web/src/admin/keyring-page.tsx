import { useEffect, useState } from 'react';
import { client } from '../api/client';
import { useAction, useResource } from '../app/use-resource';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

/** The keys that wrap every data key (ids and dates, never key material) and their rotation. */
export function KeyringPage() {
  const toast = useToast();
  const status = useResource(async () => await client.keyring.status(), []);
  const [confirming, setConfirming] = useState(false);
  const rotate = useAction(async () => await client.keyring.rotate());
  const running = status.data?.rewrap.state === 'running';
  const { reload } = status;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, 1500);
    return () => clearInterval(timer);
  }, [running, reload]);
  const s = status.data;
  return (
    <>
      <PageHeader
        title="Keyring"
        subtitle="Key-encryption keys wrap the data key of every stored value."
        actions={
          <button
            type="button"
            className="button button-primary"
            disabled={s === undefined || !s.canRotate || running}
            onClick={() => {
              rotate.clear();
              setConfirming(true);
            }}
          >
            Rotate key
          </button>
        }
      />
      {status.state === 'error' ? <ErrorMessage onRetry={status.reload}>{status.error}</ErrorMessage> : null}
      {s === undefined ? (
        status.state === 'loading' ? (
          <Loading />
        ) : null
      ) : (
        <>
          {s.missingKeyIds.length > 0 ? (
            <p className="notice notice-danger" role="alert">
              Values were sealed with keys this keyring does not hold: {s.missingKeyIds.join(', ')}.
            </p>
          ) : null}
          {s.canRotate ? null : (
            <p className="notice">Keys from an environment variable are rotated by changing the variable.</p>
          )}
          <section className="card" aria-labelledby="keyring-source">
            <h2 id="keyring-source">Status</h2>
            <dl className="details">
              <dt>Source</dt>
              <dd>
                {s.source.type === 'file' ? (
                  <>
                    key file <code>{s.source.path}</code>
                  </>
                ) : s.source.type === 'env' ? (
                  <>
                    environment variable <code>{s.source.variable}</code>
                  </>
                ) : (
                  <>
                    {s.source.provider} key <code>{s.source.key}</code>
                  </>
                )}
              </dd>
              <dt>Current key</dt>
              <dd className="mono">{s.currentKeyId}</dd>
              <dt>Re-wrapping</dt>
              <dd>
                <span className={`badge badge-${s.rewrap.state}`}>{s.rewrap.state}</span> {s.rewrap.rewrapped}{' '}
                data keys re-wrapped
                {s.rewrap.finishedAt === null ? null : (
                  <>
                    , finished <Time value={s.rewrap.finishedAt} />
                  </>
                )}
                {s.rewrap.error === null ? null : <span className="field-error"> {s.rewrap.error}</span>}
              </dd>
            </dl>
          </section>
          <section className="card" aria-labelledby="keyring-keys">
            <h2 id="keyring-keys">Keys</h2>
            <ul className="share-list" aria-label="Keys">
              {s.keys.map((k) => (
                <li key={k.id} className="share-row">
                  <span className="mono">{k.id}</span>
                  <span className="muted">
                    created <Time value={k.createdAt} />
                  </span>
                  {k.current ? <span className="badge badge-current">current</span> : <span />}
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
      <ConfirmDialog
        open={confirming}
        title="Rotate the key?"
        message="A new key is added and made current; stored data keys are re-wrapped in the background. Old keys stay until nothing uses them. The service keeps running."
        confirmLabel="Rotate"
        busy={rotate.busy}
        error={rotate.error}
        onClose={() => setConfirming(false)}
        onConfirm={async () => {
          const result = await rotate.run();
          if (result.ok) {
            setConfirming(false);
            toast(`New key ${result.value.id} is current`);
            status.reload();
          }
        }}
      />
    </>
  );
}
