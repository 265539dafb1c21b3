import type { ResolvedActor } from '../identity/actor.js';
import type { AuditAction, AuditDetails, AuditEntry } from './audit-types.js';

/**
 * The audit entry for something a resolved actor did: who (with the token it used), from
 * where, to what, and the non-secret details. Every service builds its records with this.
 *
 * @example
 * await audit.append(tx, auditEntry(who, 'user.create', 'success', { type: 'user', id }));
 */
export function auditEntry(
  resolved: ResolvedActor,
  action: AuditAction,
  outcome: AuditEntry['outcome'],
  target?: AuditEntry['target'],
  details?: AuditDetails,
): AuditEntry {
  const merged: AuditDetails = { ...details };
  if (resolved.tokenId !== undefined) merged.tokenId = resolved.tokenId;
  return {
    action,
    outcome,
    actor: { type: resolved.type, id: resolved.id, name: resolved.name },
    source: resolved.source,
    ...(resolved.address === undefined ? {} : { address: resolved.address }),
    ...(target === undefined ? {} : { target }),
    details: merged,
  };
}
