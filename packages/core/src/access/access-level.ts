/**
 * Share levels, weakest first. Each includes the ones before it.
 * - `use`: server-side code may consume the values on the grantee's behalf; never shown to them.
 * - `read`: listed in their secrets; values can be revealed.
 * - `write`: values and metadata can change.
 * - `manage`: share, delete, restore, purge.
 */
export const accessLevels = ['use', 'read', 'write', 'manage'] as const;

export type AccessLevel = (typeof accessLevels)[number];

/** Default level of a share to a user (it shows in their secrets), as nago does. */
export const defaultUserShareLevel: AccessLevel = 'read';
/** Default level of a share to a group (usable by members, not visible), as nago does. */
export const defaultGroupShareLevel: AccessLevel = 'use';

export function levelRank(level: AccessLevel | null): number {
  return level === null ? 0 : accessLevels.indexOf(level) + 1;
}

/** True when `held` includes `needed`. */
export function atLeast(held: AccessLevel | null, needed: AccessLevel): boolean {
  return levelRank(held) >= levelRank(needed);
}

export function strongest(levels: Iterable<AccessLevel>): AccessLevel | null {
  let best: AccessLevel | null = null;
  for (const level of levels) if (levelRank(level) > levelRank(best)) best = level;
  return best;
}

export function weakest(a: AccessLevel | null, b: AccessLevel | null): AccessLevel | null {
  return levelRank(a) <= levelRank(b) ? a : b;
}

export function isAccessLevel(value: unknown): value is AccessLevel {
  return typeof value === 'string' && (accessLevels as readonly string[]).includes(value);
}
