import { useEffect, useState } from 'react';
import { client } from '../api/client';
import type { SecretMetadata } from '../api/types';
import { Link } from '../app/router';
import { useSession } from '../app/session';
import { useAction, useResource } from '../app/use-resource';
import { kindMap, useKinds } from '../secrets/kinds';
import { SecretCard } from '../secrets/secret-card';
import { EmptyState, ErrorMessage, Loading } from '../ui/feedback';
import { PageHeader } from '../ui/page-header';

interface Filter {
  namePrefix: string;
  kind: string;
  label: string;
  view: 'accessible' | 'mine';
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/**
 * "My secrets": what the user owns or may read (group `use` shares never show here), searchable
 * by name and filterable by kind and label; admins can switch between theirs and everyone's.
 */
export function SecretsPage() {
  const { user } = useSession();
  const kinds = useKinds();
  const [filter, setFilter] = useState<Filter>({ namePrefix: '', kind: '', label: '', view: 'accessible' });
  const applied = useDebounced(filter, 250);
  const [more, setMore] = useState<{ items: SecretMetadata[]; cursor: string | null }>({
    items: [],
    cursor: null,
  });

  const page = useResource(async () => {
    const result = await client.secrets.list({
      ...(applied.namePrefix.trim() === '' ? {} : { namePrefix: applied.namePrefix.trim() }),
      ...(applied.kind === '' ? {} : { kind: applied.kind }),
      ...(applied.label.trim() === '' ? {} : { label: [applied.label.trim()] }),
      ...(applied.view === 'mine' ? { view: 'mine' } : {}),
      limit: 50,
    });
    setMore({ items: [], cursor: result.nextCursor });
    return result;
  }, [applied]);

  const loadMore = useAction(async () => {
    const result = await client.secrets.list({
      ...(applied.namePrefix.trim() === '' ? {} : { namePrefix: applied.namePrefix.trim() }),
      ...(applied.kind === '' ? {} : { kind: applied.kind }),
      ...(applied.label.trim() === '' ? {} : { label: [applied.label.trim()] }),
      ...(applied.view === 'mine' ? { view: 'mine' } : {}),
      limit: 50,
      cursor: more.cursor ?? undefined,
    });
    setMore((m) => ({ items: [...m.items, ...result.items], cursor: result.nextCursor }));
  });

  const byId = kindMap(kinds.data);
  const items = [...(page.data?.items ?? []), ...more.items];
  const filtered = filter.namePrefix !== '' || filter.kind !== '' || filter.label !== '';
  const set = (patch: Partial<Filter>) => setFilter((f) => ({ ...f, ...patch }));

  return (
    <>
      <PageHeader
        title="My secrets"
        subtitle={
          user.role === 'admin' && filter.view === 'accessible'
            ? 'Every secret (you are an administrator).'
            : 'Secrets you own or that were shared with you to read.'
        }
        actions={
          <Link href="/new" className="button button-primary">
            New secret
          </Link>
        }
      />
      <search className="filters" aria-label="Filter secrets">
        <div className="field">
          <label className="field-label" htmlFor="filter-name">
            Search by name
          </label>
          <input
            id="filter-name"
            type="search"
            className="input"
            placeholder="Name starts with…"
            value={filter.namePrefix}
            onChange={(e) => set({ namePrefix: e.target.value })}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor="filter-kind">
            Kind
          </label>
          <select
            id="filter-kind"
            className="input"
            value={filter.kind}
            onChange={(e) => set({ kind: e.target.value })}
          >
            <option value="">All kinds</option>
            {kinds.data?.map((k) => (
              <option key={k.id} value={k.id}>
                {k.displayName}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="filter-label">
            Label
          </label>
          <input
            id="filter-label"
            className="input"
            placeholder="env or env=prod"
            value={filter.label}
            onChange={(e) => set({ label: e.target.value })}
          />
        </div>
        {user.role === 'admin' ? (
          <div className="field">
            <label className="field-label" htmlFor="filter-view">
              Show
            </label>
            <select
              id="filter-view"
              className="input"
              value={filter.view}
              onChange={(e) => set({ view: e.target.value as Filter['view'] })}
            >
              <option value="accessible">All secrets</option>
              <option value="mine">Mine and shared with me</option>
            </select>
          </div>
        ) : null}
      </search>

      {page.state === 'error' ? <ErrorMessage onRetry={page.reload}>{page.error}</ErrorMessage> : null}
      {page.state === 'loading' && page.data === undefined ? <Loading label="Loading secrets…" /> : null}
      {page.data !== undefined && items.length === 0 ? (
        filtered ? (
          <EmptyState title="No secret matches these filters.">
            <button
              type="button"
              className="button"
              onClick={() => setFilter({ namePrefix: '', kind: '', label: '', view: filter.view })}
            >
              Clear the filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="No secrets yet.">
            <p>
              Create the first one: <Link href="/new">New secret</Link>.
            </p>
          </EmptyState>
        )
      ) : null}
      {items.length > 0 ? (
        <>
          <p className="visually-hidden" role="status">
            {items.length} {items.length === 1 ? 'secret' : 'secrets'} shown
          </p>
          <ul className="secret-list" aria-label="Secrets" aria-busy={page.state === 'loading'}>
            {items.map((secret) => (
              <SecretCard key={secret.id} secret={secret} kind={byId.get(secret.kind)} />
            ))}
          </ul>
        </>
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
