import type { ResolvedActor } from '../identity/actor.js';
import { type AccessLevel, atLeast, strongest, weakest } from './access-level.js';

/** A share as the policy sees it. */
export interface ShareGrant {
  granteeType: 'user' | 'group';
  granteeId: string;
  level: AccessLevel;
}

/** Why an actor holds its level on a secret. */
export type AccessBasis = 'admin' | 'owner' | 'share' | 'none';

export interface EffectiveAccess {
  /** The level the actor may act with, after its token scope or actor type is applied. */
  level: AccessLevel | null;
  basis: AccessBasis;
}

/**
 * The level an actor holds on a secret:
 * - admins and the owner hold `manage`;
 * - otherwise the strongest share to the user or to any of its groups;
 * - a group actor (server-side code acting for a group) holds at most `use`;
 * - a read-only token holds at most `read`.
 *
 * @example
 * effectiveAccess(actor, secret.ownerId, shares).level // 'read'
 */
export function effectiveAccess(
  actor: ResolvedActor,
  ownerId: string,
  shares: readonly ShareGrant[],
): EffectiveAccess {
  let level: AccessLevel | null;
  let basis: AccessBasis;
  if (actor.type === 'group') {
    level = strongest(
      shares.filter((s) => s.granteeType === 'group' && s.granteeId === actor.id).map((s) => s.level),
    );
    basis = level === null ? 'none' : 'share';
    return { level: weakest(level, 'use'), basis };
  }
  if (actor.role === 'admin') {
    level = 'manage';
    basis = 'admin';
  } else if (ownerId === actor.id) {
    level = 'manage';
    basis = 'owner';
  } else {
    level = strongest(
      shares
        .filter((s) =>
          s.granteeType === 'user' ? s.granteeId === actor.id : actor.groupIds.includes(s.granteeId),
        )
        .map((s) => s.level),
    );
    basis = level === null ? 'none' : 'share';
  }
  if (actor.scope === 'read-only') level = weakest(level, 'read');
  return { level, basis };
}

/**
 * Every operation on a secret and the level it needs. The permission-matrix test walks this
 * table, so an operation added here is covered for every kind of principal.
 */
export const secretOperationLevels = {
  use: 'use',
  test: 'use',
  get: 'read',
  readValues: 'read',
  reveal: 'read',
  versions: 'read',
  listShares: 'read',
  createShareLink: 'read',
  listShareLinks: 'read',
  update: 'write',
  updateMetadata: 'write',
  rename: 'write',
  rollback: 'write',
  destroyVersions: 'write',
  share: 'manage',
  unshare: 'manage',
  revokeShareLink: 'manage',
  delete: 'manage',
  restore: 'manage',
  purge: 'manage',
} as const satisfies Record<string, AccessLevel>;

export type SecretOperation = keyof typeof secretOperationLevels;

/** Whether the access allows the operation. */
export function allows(access: EffectiveAccess, operation: SecretOperation): boolean {
  return atLeast(access.level, secretOperationLevels[operation]);
}

/** Whether the actor may see that the secret exists at all (listed, or named in an error). */
export function canSee(access: EffectiveAccess): boolean {
  return atLeast(access.level, 'use');
}
