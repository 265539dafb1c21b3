import type { PoolClient } from 'pg';
import { preparedStatementName } from './prepared.js';

/**
 * Makes `client` run preparedQuery's statements (the reveal's read, the audit append, a write's
 * inserts: see prepared.ts) as named prepared statements. PostgreSQL then parses and plans each
 * once per connection instead of on every call, which was about half of its CPU per reveal
 * (docs/performance.md, "Prepared statements on PostgreSQL"). Every other statement runs as
 * Kysely sends it: unnamed, planned each time.
 */
export function keepStatementsPrepared(client: PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    const name = typeof text === 'string' && args.length === 2 ? preparedStatementName(text) : undefined;
    return name === undefined ? query(...args) : query({ name, text, values });
  };
}
