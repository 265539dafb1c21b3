import { type FormEvent, useState } from 'react';
import { client } from '../api/client';
import type { AuditRecord } from '../api/types';
import { useAction, useResource } from '../app/use-resource';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';
import { Time } from '../ui/time';

interface AuditFilter {
  action: string;
  outcome: string;
  actorId: string;
  from: string;
  to: string;
}

const empty: AuditFilter = { action: '', outcome: '', actorId: '', from: '', to: '' };

const commonActions = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'secret.create',
  'secret.read',
  'secret.reveal',
  'secret.update',
  'secret.update_metadata',
  'secret.rollback',
  'secret.use',
  'secret.delete',
  'secret.restore',
  'secret.purge',
  'share.grant',
  'share.revoke',
  'share_link.create',
  'share_link.view',
  'share_link.revoke',
  'share_link.expire',
  'reminder.sent',
  'user.create',
  'user.update',
  'user.disable',
  'user.password_change',
  'group.create',
  'group.member_add',
  'token.create',
  'token.revoke',
];

function queryOf(filter: AuditFilter): Record<string, string> {
  const q: Record<string, string> = {};
  if (filter.action.trim() !== '') q.action = filter.action.trim();
  if (filter.outcome !== '') q.outcome = filter.outcome;
  if (filter.actorId !== '') q.actorId = filter.actorId;
  if (filter.from !== '') q.from = new Date(filter.from).toISOString();
  if (filter.to !== '') q.to = new Date(filter.to).toISOString();
  return q;
}

/** The audit log, newest first, with filters, paging and a check of the hash chain. */
export function AuditPage() {
  const [draft, setDraft] = useState<AuditFilter>(empty);
  const [filter, setFilter] = useState<AuditFilter>(empty);
  const [more, setMore] = useState<{ items: AuditRecord[]; cursor: string | null }>({
    items: [],
    cursor: null,
  });
  const users = useResource(async () => (await client.users.list({ limit: 1000 })).items, []);
  const records = useResource(async () => {
    const page = await client.audit.query({ ...queryOf(filter), limit: 50 });
    setMore({ items: [], cursor: page.nextCursor });
    return page;
  }, [filter]);
  const loadMore = useAction(async () => {
    const page = await client.audit.query({
      ...queryOf(filter),
      limit: 50,
      cursor: more.cursor ?? undefined,
    });
    setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.nextCursor }));
  });
  const verify = useAction(async () => await client.audit.verify());
  const [verdict, setVerdict] = useState<Awaited<ReturnType<typeof verify.run>> | undefined>();
  const items = [...(records.data?.items ?? []), ...more.items];
  const set = (patch: Partial<AuditFilter>) => setDraft((d) => ({ ...d, ...patch }));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter(draft);
  };

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every action on secrets, users and settings; append-only and hash-chained."
        actions={
          <button
            type="button"
            className="button"
            disabled={verify.busy}
            onClick={async () => setVerdict(await verify.run())}
          >
            {verify.busy ? 'Verifying…' : 'Verify chain'}
          </button>
        }
      />
      <div role="status">
        {verdict?.ok === true ? (
          verdict.value.ok ? (
            <p className="notice notice-success">
              The chain is intact: {verdict.value.checked} records checked.
            </p>
          ) : (
            <p className="notice notice-danger">
              The chain is broken
              {verdict.value.firstBrokenSeq === undefined ? '' : ` at record ${verdict.value.firstBrokenSeq}`}
              : {verdict.value.problem ?? 'unknown problem'}
            </p>
          )
        ) : null}
      </div>
      <ErrorMessage>{verify.error}</ErrorMessage>
      <form className="filters" onSubmit={apply} aria-label="Filter the audit log">
        <div className="field">
          <label className="field-label" htmlFor="audit-action">
            Action
          </label>
          <input
            id="audit-action"
            className="input"
            list="audit-actions"
            placeholder="e.g. secret.reveal"
            value={draft.action}
            onChange={(e) => set({ action: e.target.value })}
          />
          <datalist id="audit-actions">
            {commonActions.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="audit-actor">
            Who
          </label>
          <select
            id="audit-actor"
            className="input"
            value={draft.actorId}
            onChange={(e) => set({ actorId: e.target.value })}
          >
            <option value="">Anyone</option>
            {users.data?.map((u) => (
              <option key={u.id} value={u.id}>
                {u.username}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="audit-outcome">
            Outcome
          </label>
          <select
            id="audit-outcome"
            className="input"
            value={draft.outcome}
            onChange={(e) => set({ outcome: e.target.value })}
          >
            <option value="">Any</option>
            <option value="success">success</option>
            <option value="denied">denied</option>
            <option value="failure">failure</option>
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="audit-from">
            From
          </label>
          <input
            id="audit-from"
            type="datetime-local"
            className="input"
            value={draft.from}
            onChange={(e) => set({ from: e.target.value })}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor="audit-to">
            To
          </label>
          <input
            id="audit-to"
            type="datetime-local"
            className="input"
            value={draft.to}
            onChange={(e) => set({ to: e.target.value })}
          />
        </div>
        <div className="filter-buttons">
          <button type="submit" className="button button-primary">
            Apply
          </button>
          <button
            type="button"
            className="button"
            onClick={() => {
              setDraft(empty);
              setFilter(empty);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {records.state === 'error' ? (
        <ErrorMessage onRetry={records.reload}>{records.error}</ErrorMessage>
      ) : null}
      {records.data === undefined && records.state === 'loading' ? <Loading /> : null}
      {records.data !== undefined && items.length === 0 ? <EmptyState title="No records match." /> : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table className="table audit-table" aria-busy={records.state === 'loading'}>
            <caption className="visually-hidden">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.seq}>
                  <td data-label="#" className="mono">
                    {r.seq}
                  </td>
                  <td data-label="When">
                    <Time value={r.at} />
                  </td>
                  <td data-label="Who">{r.actor.name ?? r.actor.type}</td>
                  <td data-label="Action" className="mono">
                    {r.action}
                    {r.purpose === null ? null : <span className="muted"> ({r.purpose})</span>}
                  </td>
                  <td data-label="Target">
                    {(r.target?.name ?? r.target?.id) === undefined ? (
                      <span className="muted">—</span>
                    ) : (
                      <>
                        {r.target?.name ?? r.target?.id} <span className="muted">{r.target?.type}</span>
                      </>
                    )}
                  </td>
                  <td data-label="Outcome">
                    <span className={`badge badge-${r.outcome}`}>{r.outcome}</span>
                  </td>
                  <td data-label="From">
                    {r.source}
                    {r.address === null ? null : <span className="muted"> {r.address}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ErrorMessage>{loadMore.error}</ErrorMessage>
      {more.cursor !== null ? (
        <button type="button" className="button" disabled={loadMore.busy} onClick={() => loadMore.run()}>
          {loadMore.busy ? 'Loading…' : 'Show older records'}
        </button>
      ) : null}
    </>
  );
}
