export { auditRecordHash, canonicalAuditRow, genesisHash } from './audit-chain.js';
export { type AuditLog, type AuditLogOptions, createAuditLog } from './audit-log.js';
export {
  type AuditChainProblem,
  type AuditFilter,
  type AuditQuery,
  type AuditService,
  type AuditServiceOptions,
  type AuditVerification,
  createAuditService,
} from './audit-service.js';
export {
  type AuditAction,
  type AuditDetails,
  type AuditEntry,
  type AuditOutcome,
  type AuditRecord,
  type AuditTargetType,
  auditActions,
} from './audit-types.js';
