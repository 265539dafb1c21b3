import { secretNamePattern } from '@coffer/core';

/**
 * How KV v2 paths map to Coffer secret names. Coffer names have no `/` (they stay safe in
 * URLs, file names and `{{ name.field }}` references), so a path's segments are joined with
 * {@link pathSeparator}: `app/db/creds` is the secret `app__db__creds`, and LIST shows the
 * secret `app__db__creds` as `app/` at the top, `db/` under `app/`, `creds` under `app/db/`.
 *
 * A segment is letters, digits, `_` and `-`, starts with a letter or digit, never holds
 * `__`, and (but for the last one) does not end in `_`; the joined name must be a valid
 * Coffer name (at most 128 characters, not shaped like a secret id). Under these rules the
 * mapping is one-to-one, so every path names at most one secret name and back.
 */
export const pathSeparator = '__';

const segmentPattern = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const idShaped = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function validSegments(segments: readonly string[]): boolean {
  return segments.every(
    (segment, i) =>
      segmentPattern.test(segment) &&
      !segment.includes(pathSeparator) &&
      (i === segments.length - 1 || !segment.endsWith('_')),
  );
}

/**
 * The secret name a KV path (without mount and `data/`) stands for, or undefined when no
 * Coffer secret can have that path.
 *
 * @example
 * secretNameOf('app/db'); // 'app__db'
 * secretNameOf('app//db'); // undefined
 */
export function secretNameOf(path: string): string | undefined {
  if (path === '') return undefined;
  const segments = path.split('/');
  if (!validSegments(segments)) return undefined;
  const name = segments.join(pathSeparator);
  return secretNamePattern.test(name) && !idShaped.test(name) ? name : undefined;
}

/**
 * The KV path of a secret name, or undefined for names this door cannot show (such as
 * `a___b`, whose split would be ambiguous).
 *
 * @example
 * kvPathOf('app__db'); // 'app/db'
 */
export function kvPathOf(name: string): string | undefined {
  const segments = name.split(pathSeparator);
  if (!validSegments(segments)) return undefined;
  const path = segments.join('/');
  return secretNameOf(path) === name ? path : undefined;
}

/**
 * A LIST prefix (`app/db/`, `app/db`, or empty for the mount's root) as the segments it
 * holds, or undefined when no secret can live under it.
 *
 * @example
 * listPrefixOf('app/db/'); // ['app', 'db']
 */
export function listPrefixOf(path: string): string[] | undefined {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '') return [];
  const segments = trimmed.split('/');
  // Every prefix segment has more below it, so none may end in `_`.
  return segments.every((s) => segmentPattern.test(s) && !s.includes(pathSeparator) && !s.endsWith('_'))
    ? segments
    : undefined;
}

/**
 * The LIST keys under a prefix, from the names of the secrets the caller may list: a secret
 * right under it is its last segment, a deeper one its next segment with a trailing `/`.
 * Sorted and without duplicates (several owners may use one name).
 *
 * @example
 * listKeys(['app'], ['app__db', 'app__mq__creds', 'other']); // ['db', 'mq/']
 */
export function listKeys(prefix: readonly string[], names: Iterable<string>): string[] {
  const keys = new Set<string>();
  for (const name of names) {
    const path = kvPathOf(name);
    if (path === undefined) continue;
    const segments = path.split('/');
    if (segments.length <= prefix.length) continue;
    if (!prefix.every((p, i) => segments[i] === p)) continue;
    const next = segments[prefix.length]!;
    keys.add(segments.length === prefix.length + 1 ? next : `${next}/`);
  }
  return [...keys].sort();
}

/** The name prefix that every secret under a LIST prefix starts with. */
export function namePrefixOf(prefix: readonly string[]): string {
  return prefix.length === 0 ? '' : `${prefix.join(pathSeparator)}${pathSeparator}`;
}
