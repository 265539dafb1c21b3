import { atLeast } from '../access/access-level.js';
import { effectiveAccess } from '../access/access-policy.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import { findSecretById, sharesOf } from '../secrets/secret-store.js';
import type { CofferDatabase } from '../storage/database.js';
import type { SecretEvent, SecretEventType } from './event-types.js';

/**
 * What a holder of `use` (and nothing more) learns of a change: that the secret it may use
 * changed, and to which version, but not its name, kind or who changed it; `use` never shows
 * a secret's metadata.
 */
export interface ChangedEvent {
  seq: number;
  type: SecretEventType;
  secretId: string;
  version: number;
  at: string;
}

/** An event as one caller may see it: whole (they may read the secret), reduced (only `use`), or not at all. */
export type VisibleEvent = { access: 'read'; event: SecretEvent } | { access: 'use'; event: ChangedEvent };

/**
 * Decides, for one caller, what it may see of each change event, by its access to the secret
 * now: `read` or more shows the event, `use` shows that the secret changed, anything less shows
 * nothing. A purged secret has no shares left: its event goes to admins and its owner.
 *
 * @example
 * const visible = await eventVisibility(deps).of(actor, event); // null: not for this caller
 */
export function eventVisibility(deps: {
  database: CofferDatabase;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
}) {
  return {
    async of(actor: Actor, event: SecretEvent): Promise<VisibleEvent | null> {
      const who = await deps.resolveActor(actor);
      const row = await findSecretById(deps.database.db, event.secretId);
      let level: ReturnType<typeof effectiveAccess>['level'];
      if (row === undefined) {
        level = effectiveAccess(who, event.ownerId, []).level;
      } else {
        const shares = (await sharesOf(deps.database.db, [row.id])).get(row.id) ?? [];
        level = effectiveAccess(who, row.owner_id, shares).level;
      }
      if (atLeast(level, 'read')) return { access: 'read', event };
      if (atLeast(level, 'use')) {
        const { seq, type, secretId, version, at } = event;
        return { access: 'use', event: { seq, type, secretId, version, at } };
      }
      return null;
    },
  };
}
