import type { AuditSource } from '../identity/actor.js';

/** Every action the audit log records. */
export const auditActions = [
  'secret.create',
  'secret.read',
  'secret.list',
  'secret.reveal',
  'secret.use',
  'secret.update',
  'secret.update_metadata',
  'secret.rename',
  'secret.rollback',
  'secret.destroy_versions',
  'secret.delete',
  'secret.restore',
  'secret.purge',
  'secret.delete_all',
  'secret.test',
  'share.grant',
  'share.revoke',
  'share_link.create',
  'share_link.view',
  'share_link.revoke',
  'share_link.expire',
  'reminder.sent',
  'reminder.run',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.logout_all',
  'user.create',
  'user.update',
  'user.disable',
  'user.enable',
  'user.password_change',
  'group.create',
  'group.update',
  'group.delete',
  'group.member_add',
  'group.member_remove',
  'token.create',
  'token.revoke',
  'keyring.rotate',
  'backend.migrate',
  'audit.verify',
  'audit.export',
] as const;

export type AuditAction = (typeof auditActions)[number];

export type AuditOutcome = 'success' | 'denied' | 'failure';

export type AuditTargetType =
  | 'secret'
  | 'user'
  | 'group'
  | 'token'
  | 'keyring'
  | 'backend'
  | 'audit'
  | 'session';

/** Non-secret context of an audit record. Never holds a secret value. */
export type AuditDetails = Record<string, string | number | boolean | null | readonly string[]>;

/** What a caller hands to the audit log; time, sequence and hashes are added by the log. */
export interface AuditEntry {
  action: AuditAction;
  outcome: AuditOutcome;
  actor: {
    type: 'user' | 'service_account' | 'group' | 'anonymous' | 'system';
    id?: string;
    name?: string;
  };
  source: AuditSource;
  address?: string;
  target?: { type: AuditTargetType; id?: string; name?: string };
  /** Why a secret was used (`mail`, `connection-test`...); required for `secret.use`. */
  purpose?: string;
  details?: AuditDetails;
}

/** A stored audit record, as queried and exported. */
export interface AuditRecord extends Required<Pick<AuditEntry, 'action' | 'outcome' | 'source'>> {
  seq: number;
  at: string;
  actor: AuditEntry['actor'];
  address: string | null;
  target: AuditEntry['target'] | null;
  purpose: string | null;
  details: AuditDetails;
  prevHash: string;
  hash: string;
}
