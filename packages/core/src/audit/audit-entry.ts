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
  // Built by assignment: a spread that adds properties (`{ ...details }` then `tokenId`, or
  // `{ ...x, address }`) takes V8's slow path, ~0.5 µs per entry here (docs/performance.md,
  // "Object rest").
  const merged: AuditDetails = {};
  if (details !== undefined) for (const key of Object.keys(details)) merged[key] = details[key]!;
  if (resolved.tokenId !== undefined) merged.tokenId = resolved.tokenId;
  const entry: AuditEntry = {
    action,
    outcome,
    actor: { type: resolved.type, id: resolved.id, name: resolved.name },
    source: resolved.source,
    details: merged,
  };
  if (resolved.address !== undefined) entry.address = resolved.address;
  if (target !== undefined) entry.target = target;
  return entry;
}
