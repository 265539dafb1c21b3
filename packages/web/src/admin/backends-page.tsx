import { useEffect, useState } from 'react';
import { client } from '../api/client';
import { useAction, useResource } from '../app/use-resource';
import { ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';
import { useToast } from '../ui/toasts';

/** Where values live, and moving them between backends with progress (polled while it runs). */
export function BackendsPage() {
  const toast = useToast();
  const backends = useResource(async () => await client.backends.list(), []);
  const migration = useResource(async () => await client.migration.status(), []);
  const [keepSource, setKeepSource] = useState(false);
  const start = useAction(async () => await client.migration.start({ keepSource }));
  const running = migration.data?.state === 'running';
  const { reload: reloadMigration } = migration;
  const { reload: reloadBackends } = backends;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      reloadMigration();
      reloadBackends();
    }, 1500);
    return () => clearInterval(timer);
  }, [running, reloadMigration, reloadBackends]);

  const m = migration.data;
  return (
    <>
      <PageHeader
        title="Backends"
        subtitle="Where secret values are stored. New values go to the active one."
      />
      {backends.state === 'error' ? (
        <ErrorMessage onRetry={backends.reload}>{backends.error}</ErrorMessage>
      ) : null}
      {backends.data === undefined && backends.state === 'loading' ? <Loading /> : null}
      {backends.data !== undefined ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Backend instances</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Role</th>
                <th scope="col">Secrets</th>
                <th scope="col">Capabilities</th>
              </tr>
            </thead>
            <tbody>
              {backends.data.items.map((b) => (
                <tr key={b.name}>
                  <th scope="row" data-label="Name">
                    {b.name}
                  </th>
                  <td data-label="Type">{b.type}</td>
                  <td data-label="Role">
                    {b.active ? <span className="badge badge-active">active</span> : null}
                    {b.backup ? <span className="badge">backup</span> : null}
                    {!b.active && !b.backup ? <span className="muted">source</span> : null}
                  </td>
                  <td data-label="Secrets">{b.secrets}</td>
                  <td data-label="Capabilities">
                    {Object.entries(b.capabilities)
                      .filter(([, on]) => on)
                      .map(([name]) => name)
                      .join(', ') || <span className="muted">none</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <section className="card" aria-labelledby="migration-title">
        <div className="card-header">
          <h2 id="migration-title">Migration</h2>
        </div>
        {migration.state === 'error' ? (
          <ErrorMessage onRetry={migration.reload}>{migration.error}</ErrorMessage>
        ) : null}
        {m === undefined ? (
          migration.state === 'loading' ? (
            <Loading />
          ) : null
        ) : (
          <>
            <p>
              State: <span className={`badge badge-${m.state}`}>{m.state}</span>
              {m.target === null ? null : <> · target {m.target}</>}
              {m.finishedAt === null ? null : (
                <>
                  {' '}
                  · finished <Time value={m.finishedAt} />
                </>
              )}
            </p>
            <div className="progress-line">
              <progress
                max={Math.max(m.total, 1)}
                value={m.total === 0 ? (m.state === 'done' ? 1 : 0) : m.done}
                aria-label="Migration progress"
              />
              <span>
                {m.done} of {m.total} moved{m.failed > 0 ? `, ${m.failed} failed` : ''}
                {m.etaSeconds === null || !running ? '' : ` · about ${Math.ceil(m.etaSeconds)} s left`}
              </span>
            </div>
            {m.failures.length > 0 ? (
              <>
                <h3>Failures</h3>
                <ul className="failures">
                  {m.failures.map((f) => (
                    <li key={f.secretId}>
                      <strong>{f.name}</strong>: {f.reason}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            <div className="form-row">
              <div className="field field-inline">
                <input
                  id="keep-source"
                  type="checkbox"
                  checked={keepSource}
                  onChange={(e) => setKeepSource(e.target.checked)}
                />
                <label htmlFor="keep-source">Keep the source copies (reversible)</label>
              </div>
              <button
                type="button"
                className="button button-primary"
                disabled={start.busy || running}
                onClick={async () => {
                  const result = await start.run();
                  if (result.ok) {
                    toast('Migration started');
                    migration.reload();
                  }
                }}
              >
                {running ? 'Migrating…' : m.failed > 0 ? 'Resume migration' : 'Migrate to the active backend'}
              </button>
            </div>
            <ErrorMessage>{start.error}</ErrorMessage>
          </>
        )}
      </section>
    </>
  );
}
