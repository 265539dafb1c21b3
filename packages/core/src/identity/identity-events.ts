import type { AuditLog } from '../audit/audit-log.js';
import type { AuditAction, AuditEntry } from '../audit/audit-types.js';
import type { EventWriter } from '../events/event-outbox.js';
import type { IdentityEventType } from '../events/event-types.js';

/** The identity changes that alter what a token or user may do, and the event each makes. */
const identityChanges: Partial<Record<AuditAction, IdentityEventType>> = {
  'user.update': 'identity.user',
  'user.disable': 'identity.user',
  'user.enable': 'identity.user',
  'group.delete': 'identity.group',
  'group.member_add': 'identity.group',
  'group.member_remove': 'identity.group',
  'token.revoke': 'identity.token',
};

/**
 * Wraps the identity services' audit log so that every successful change to who someone is
 * (role, disabled, group membership, a revoked token) also records an identity event in the
 * same transaction, for the other servers' caches, and drops this server's caches at once.
 *
 * @example
 * const audit = withIdentityEvents(auditLog, events, () => caches.clear());
 */
export function withIdentityEvents(
  audit: Pick<AuditLog, 'append' | 'appendStandalone'>,
  events: EventWriter,
  dropCaches: () => void,
): Pick<AuditLog, 'append' | 'appendStandalone'> {
  return {
    async append(tx, entry: AuditEntry) {
      const record = await audit.append(tx, entry);
      const type = entry.outcome === 'success' ? identityChanges[entry.action] : undefined;
      if (type !== undefined) {
        await events.record(tx, record, { type, subject: entry.target?.id ?? '' });
        // Now, and once more when the event comes back through the feed after the commit:
        // a lookup racing with this transaction may have cached the state from before it.
        dropCaches();
        setImmediate(events.changed);
      }
      return record;
    },
    appendStandalone: (entry) => audit.appendStandalone(entry),
  };
}
