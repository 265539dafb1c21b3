import { auditEntry } from '../audit/audit-entry.js';
import type { AuditAction, AuditEntry, AuditTargetType } from '../audit/audit-types.js';
import { CofferError } from '../errors/coffer-error.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';

/**
 * Resolves the actor and insists on an admin (with a read-write token for changes). A refusal
 * is audited and thrown as `forbidden`.
 */
export async function requireAdmin(
  deps: {
    resolveActor: (actor: Actor) => Promise<ResolvedActor>;
    audit: { appendStandalone(entry: AuditEntry): Promise<unknown> };
  },
  actor: Actor,
  what: {
    action: AuditAction;
    target: { type: AuditTargetType; id?: string; name?: string };
    write: boolean;
  },
): Promise<ResolvedActor> {
  const who = await deps.resolveActor(actor);
  const allowed = who.type !== 'group' && who.role === 'admin' && (!what.write || who.scope === 'read-write');
  if (!allowed) {
    await deps.audit.appendStandalone(auditEntry(who, what.action, 'denied', what.target));
    throw new CofferError('forbidden', `only admins may ${what.action.replace('.', ' ').replace('_', ' ')}`);
  }
  return who;
}
