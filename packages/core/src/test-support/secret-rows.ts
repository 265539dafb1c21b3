import type { Insertable } from 'kysely';
import type { SecretRow } from '../storage/schema.js';

/**
 * A `secrets` row for tests that write the tables straight (a live secret at version 1 on the
 * `sql` backend, made and last changed by its owner at `at`), with `overrides` on top.
 */
export function secretRow(
  id: string,
  owner: string,
  name: string,
  at: string,
  overrides: Partial<Insertable<SecretRow>> = {},
): Insertable<SecretRow> {
  return {
    id,
    owner_id: owner,
    name,
    live_name: name,
    kind: 'api-token',
    description: '',
    current_version: 1,
    revision: 1,
    backend: 'sql',
    created_at: at,
    updated_at: at,
    created_by: owner,
    updated_by: owner,
    ...overrides,
  };
}
