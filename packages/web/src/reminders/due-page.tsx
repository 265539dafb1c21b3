import { useState } from 'react';
import { client } from '../api/client';
import type { DueSecret, ReminderRun } from '../api/types';
import { Link } from '../app/router';
import { useSession } from '../app/session';
import { useAction, useResource } from '../app/use-resource';
import { kindMap, useKinds } from '../secrets/kinds';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { KindLogo } from '../ui/kind-logo';
import { PageHeader } from '../ui/page-header';
import { daysFrom, dueDate } from './due-badges';

const windows = [
  { days: 7, label: 'the next 7 days' },
  { days: 30, label: 'the next 30 days' },
  { days: 90, label: 'the next 90 days' },
  { days: 365, label: 'the next year' },
];

/** What one reason says about a secret, with the date it is about. */
function reasonText(secret: DueSecret, reason: DueSecret['reasons'][number]): string {
  switch (reason) {
    case 'expired':
      return `Expired ${dueDate(secret.expiresAt!)} (${daysFrom(secret.expiresAt!)})`;
    case 'expiring':
      return `Expires ${dueDate(secret.expiresAt!)} (${daysFrom(secret.expiresAt!)})`;
    case 'rotation': {
      const at = secret.rotationDueAt!;
      const overdue = Date.parse(at) <= Date.now();
      return `${overdue ? 'Rotation was due' : 'Rotation due'} ${dueDate(at)} (${daysFrom(at)}; every ${secret.rotateEveryDays} days)`;
    }
  }
}

/** What a run of the reminder job did, in words. */
function runSummary(run: ReminderRun): string {
  if (run.warning !== undefined) return `No reminders were sent: ${run.warning}.`;
  const parts = [`${run.sent} reminder${run.sent === 1 ? '' : 's'} sent`];
  if (run.noRecipient > 0) parts.push(`${run.noRecipient} not sent (the owner has no email address)`);
  if (run.failed > 0) parts.push(`${run.failed} failed (tried again on the next run)`);
  if (run.claimedElsewhere > 0) parts.push(`${run.claimedElsewhere} sent by another server`);
  return `${parts.join('; ')}.`;
}

/**
 * "Due soon": the secrets the user may read that expired, expire or are due for rotation within
 * the chosen window, earliest first, each with why. Admins may mail the owners now.
 */
export function DuePage() {
  const { user } = useSession();
  const kinds = useKinds();
  const byId = kindMap(kinds.data);
  const [within, setWithin] = useState(30);
  const [more, setMore] = useState<{ items: DueSecret[]; cursor: string | null }>({
    items: [],
    cursor: null,
  });
  const page = useResource(async () => {
    const result = await client.reminders.due({ within, limit: 100 });
    setMore({ items: [], cursor: result.nextCursor });
    return result;
  }, [within]);
  const loadMore = useAction(async () => {
    const result = await client.reminders.due({ within, limit: 100, cursor: more.cursor ?? undefined });
    setMore((m) => ({ items: [...m.items, ...result.items], cursor: result.nextCursor }));
  });
  const send = useAction(async () => await client.reminders.run());
  const [sent, setSent] = useState<ReminderRun | undefined>();
  const items = [...(page.data?.items ?? []), ...more.items];

  return (
    <>
      <PageHeader
        title="Due soon"
        subtitle="Secrets that expired, expire or are due for rotation. Their owners get a reminder by mail."
        actions={
          user.role === 'admin' ? (
            <button
              type="button"
              className="button"
              disabled={send.busy}
              onClick={async () => {
                const result = await send.run();
                if (result.ok) setSent(result.value);
              }}
            >
              {send.busy ? 'Sending…' : 'Send reminders now'}
            </button>
          ) : undefined
        }
      />
      <ErrorMessage>{send.error}</ErrorMessage>
      {sent === undefined ? null : (
        <div
          className={sent.warning === undefined ? 'notice notice-success' : 'notice notice-warning'}
          role="status"
        >
          <p>{runSummary(sent)}</p>
        </div>
      )}
      <div className="filters due-filters">
        <div className="field">
          <label className="field-label" htmlFor="due-within">
            Due within
          </label>
          <select
            id="due-within"
            className="input"
            value={within}
            onChange={(e) => setWithin(Number(e.target.value))}
          >
            {windows.map((w) => (
              <option key={w.days} value={w.days}>
                {w.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {page.state === 'error' ? <ErrorMessage onRetry={page.reload}>{page.error}</ErrorMessage> : null}
      {page.state === 'loading' && page.data === undefined ? <Loading label="Loading what is due…" /> : null}
      {page.data !== undefined && items.length === 0 ? (
        <EmptyState title="Nothing expires or is due for rotation in this time.">
          <p>Set an expiry date or a rotation interval when you edit a secret.</p>
        </EmptyState>
      ) : null}
      {items.length > 0 ? (
        <ul className="secret-list" aria-label="Due secrets" aria-busy={page.state === 'loading'}>
          {items.map((secret) => {
            const kind = byId.get(secret.kind);
            return (
              <li key={secret.id} className="secret-card">
                <KindLogo src={kind?.logo} size={40} />
                <div className="secret-card-main">
                  <p className="secret-card-title">
                    <Link href={`/secrets/${secret.id}`}>{secret.name}</Link>
                    <span className="muted"> · {kind?.displayName ?? secret.kind}</span>
                  </p>
                  <ul className="due-reasons">
                    {secret.reasons.map((reason) => (
                      <li key={reason}>
                        <span
                          className={
                            reason === 'expired' ||
                            (reason === 'rotation' && Date.parse(secret.rotationDueAt!) <= Date.now())
                              ? 'badge badge-expired'
                              : 'badge badge-due'
                          }
                        >
                          {reason}
                        </span>{' '}
                        {reasonText(secret, reason)}
                      </li>
                    ))}
                  </ul>
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
      <ErrorMessage>{loadMore.error}</ErrorMessage>
      {more.cursor !== null ? (
        <button type="button" className="button" disabled={loadMore.busy} onClick={() => loadMore.run()}>
          {loadMore.busy ? 'Loading…' : 'Show more'}
        </button>
      ) : null}
    </>
  );
}
