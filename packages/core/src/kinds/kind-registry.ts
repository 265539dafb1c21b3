import { CofferError } from '../errors/coffer-error.js';
import { builtinKinds } from './builtin/builtin-kinds.js';
import { displayKey } from './kind-factory.js';
import type { Kind } from './kind-types.js';

/**
 * The kinds one Coffer knows, looked up by id.
 *
 * @example
 * const kinds = createKindRegistry([...builtinKinds, ...loaded.kinds]);
 * const values = kinds.require(secret.kind).validate(input);
 */
export interface KindRegistry {
  /** The kind with this id, or undefined. */
  get(id: string): Kind | undefined;
  /** The kind with this id; throws CofferError `validation` at path `kind` naming the known kinds. */
  require(id: string): Kind;
  /** Whether a kind with this id exists. */
  has(id: string): boolean;
  /** Built-in kinds first, in their usual order, then the others by id. */
  list(): readonly Kind[];
}

const BUILTIN_ORDER = new Map(builtinKinds.map((kind, index) => [kind.id, index]));

function rank(kind: Kind): number {
  return kind.source === 'builtin'
    ? (BUILTIN_ORDER.get(kind.id) ?? builtinKinds.length)
    : builtinKinds.length + 1;
}

function sourceName(kind: Kind): string {
  return kind.source === 'builtin' ? 'the built-in kind' : kind.source;
}

/**
 * Builds a registry from kinds. Throws CofferError `already_exists` when two kinds share
 * an id, naming where both came from.
 *
 * @example
 * const kinds = createKindRegistry(builtinKinds);
 * kinds.get('smtp')?.displayName; // 'SMTP server'
 */
export function createKindRegistry(kinds: Iterable<Kind>): KindRegistry {
  const byId = new Map<string, Kind>();
  for (const kind of kinds) {
    const existing = byId.get(kind.id);
    if (existing !== undefined) {
      throw new CofferError(
        'already_exists',
        `duplicate kind id "${kind.id}": defined by ${sourceName(existing)} and by ${sourceName(kind)}`,
        { details: { kind: kind.id, sources: [existing.source, kind.source] } },
      );
    }
    byId.set(kind.id, kind);
  }
  const ordered = Object.freeze(
    [...byId.values()].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  );
  const known = ordered.map((kind) => kind.id).join(', ');
  return Object.freeze({
    get: (id: string) => byId.get(id),
    has: (id: string) => byId.has(id),
    require(id: string): Kind {
      const kind = byId.get(id);
      if (kind !== undefined) return kind;
      const shown = typeof id === 'string' ? displayKey(id) : String(id);
      throw CofferError.validation([
        { path: 'kind', message: `unknown kind "${shown}"; known kinds: ${known}` },
      ]);
    },
    list: () => ordered,
  });
}
