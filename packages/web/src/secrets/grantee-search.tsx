import { useEffect, useId, useState } from 'react';
import { client } from '../api/client';
import { describeError } from '../api/errors';
import type { Group, User } from '../api/types';

export interface Grantee {
  type: 'user' | 'group';
  id: string;
  name: string;
  detail: string;
}

/**
 * Finds users and groups by the start of their name as the user types; the results are a list of
 * buttons (Tab to them, Enter to pick).
 */
export function GranteeSearch(props: {
  onPick: (grantee: Grantee) => void;
  exclude: ReadonlySet<string>;
  types?: readonly ('user' | 'group')[];
  label?: string;
}) {
  const id = useId();
  const typesKey = (props.types ?? ['user', 'group']).join(',');
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Grantee[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let current = true;
    const timer = setTimeout(async () => {
      try {
        const q = query.trim() === '' ? {} : { query: query.trim() };
        const [users, groups] = await Promise.all([
          typesKey.includes('user')
            ? client.users.list({ ...q, limit: 20 })
            : Promise.resolve({ items: [] as User[], nextCursor: null }),
          typesKey.includes('group')
            ? client.groups.list({ ...q, limit: 20 })
            : Promise.resolve({ items: [] as Group[], nextCursor: null }),
        ]);
        if (!current) return;
        setError(undefined);
        setResults([
          ...groups.items.map(
            (g): Grantee => ({
              type: 'group',
              id: g.id,
              name: g.name,
              detail: `group · ${g.memberCount} ${g.memberCount === 1 ? 'member' : 'members'}`,
            }),
          ),
          ...users.items
            .filter((u) => !u.disabled)
            .map(
              (u): Grantee => ({
                type: 'user',
                id: u.id,
                name: u.username,
                detail: u.type === 'service_account' ? 'service account' : u.displayName || 'user',
              }),
            ),
        ]);
      } catch (err) {
        if (current) setError(describeError(err));
      }
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, typesKey]);
  const shown = results?.filter((r) => !props.exclude.has(`${r.type}:${r.id}`)) ?? [];
  return (
    <div className="grantee-search">
      <label className="field-label" htmlFor={`${id}-query`}>
        {props.label ?? 'Find a user or group'}
      </label>
      <input
        id={`${id}-query`}
        type="search"
        className="input"
        autoComplete="off"
        placeholder="Name starts with…"
        aria-controls={`${id}-results`}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {error === undefined ? null : <p className="field-error">{error}</p>}
      <ul id={`${id}-results`} className="grantee-results" aria-label="Search results" aria-live="polite">
        {results !== undefined && shown.length === 0 ? <li className="muted">Nobody found.</li> : null}
        {shown.map((r) => (
          <li key={`${r.type}:${r.id}`}>
            <button type="button" className="grantee-option" onClick={() => props.onPick(r)}>
              <span className="grantee-name">{r.name}</span>
              <span className="muted"> {r.detail}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
