// The public surface of @coffer/core, listed by name. `npm test` checks that every name the
// docs import from '@coffer/core' is here.

export {
  type AccessLevel,
  accessLevels,
  defaultGroupShareLevel,
  defaultUserShareLevel,
} from './access/access-level.js';
export {
  type AccessBasis,
  type EffectiveAccess,
  effectiveAccess,
  type SecretOperation,
  secretOperationLevels,
} from './access/access-policy.js';
export type { Share, ShareInput, ShareService } from './access/share-service.js';
export {
  type AuditAction,
  type AuditChainProblem,
  type AuditDetails,
  type AuditEntry,
  type AuditFilter,
  type AuditOutcome,
  type AuditQuery,
  type AuditRecord,
  type AuditService,
  type AuditTargetType,
  type AuditVerification,
  auditActions,
} from './audit/index.js';
export {
  type Backend,
  type BackendCapabilities,
  type BackendContext,
  type BackendDefinition,
  type BackendLimits,
  defineBackend,
  type ValueRef,
} from './backends/backend.js';
export type {
  BackendCatalog,
  BackendDefinitionInfo,
  BackendInstanceInfo,
} from './backends/backend-catalog.js';
export {
  type LoadBackendModulesOptions,
  loadBackendModules,
  type SourcedDefinition,
} from './backends/backend-module-loader.js';
export type { BackendInstanceConfig, BackendSet } from './backends/backend-registry.js';
export { withBackup } from './backends/backup-backend.js';
export {
  assertOwnedValue,
  assertValueRef,
  type ExternalNameOptions,
  externalSecretName,
  externalValueName,
  isSecretId,
  type OwnerContext,
  ownerLabelNames,
  ownerLabels,
  parseExternalName,
} from './backends/external-names.js';
export { type FileBackendConfig, fileBackendDefinition } from './backends/file/file-backend.js';
export { guardBackend } from './backends/guarded-backend.js';
export { memoryBackendDefinition } from './backends/memory/memory-backend.js';
export {
  type RemoteFailureInput,
  type RemoteFailureReason,
  remoteFailure,
  remoteFailureReasons,
  valueNotFound,
  valueTooLarge,
} from './backends/remote/remote-errors.js';
export { type RemoteSettings, remoteSettingsShape } from './backends/remote/remote-settings.js';
export {
  backoffDelay,
  type ClassifiedFailure,
  defaultRetryPolicy,
  nodeErrorCode,
  RetriesExhausted,
  type RetryOptions,
  type RetryPolicy,
  type RetryVerdict,
  retryAfterHeaderMs,
  retryVerdictFrom,
  transientNetworkCodes,
  withRetries,
} from './backends/remote/retry-policy.js';
export {
  createRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
} from './backends/remote/write-rate-limiter.js';
export { sqlBackendDefinition } from './backends/sql/sql-backend.js';
export { storePackages } from './backends/store-packages.js';
export { decodeValues, encodeValues } from './backends/value-codec.js';
export { type Coffer, type CofferEvents, type CreateCofferOptions, createCoffer } from './coffer.js';
export {
  type CofferConfig,
  type CofferConfigInput,
  cofferConfigSchema,
  databaseUrlOf,
  parseCofferConfig,
} from './config/coffer-config.js';
export {
  CofferError,
  type CofferErrorDetails,
  type FieldIssue,
  isCofferError,
} from './errors/coffer-error.js';
export { type ErrorCode, errorCatalog, errorCodes } from './errors/error-catalog.js';
export type { EventBus, SubscribeOptions } from './events/event-feed.js';
export {
  type SecretEvent,
  type SecretEventListener,
  type SecretEventType,
  secretEventTypes,
} from './events/event-types.js';
export type { ChangedEvent, VisibleEvent } from './events/event-visibility.js';
export {
  type Actor,
  type AuditSource,
  asGroup,
  asToken,
  asUser,
  type BootstrapResult,
  type CreatedSession,
  type CreatedToken,
  type CreateGroupInput,
  type CreateTokenInput,
  type CreateUserInput,
  type Group,
  type GroupMember,
  type GroupWithMembers,
  type IdentityService,
  type LoginResult,
  type PasswordLoginPolicy,
  type PrincipalRef,
  passwordLoginPolicies,
  pkceMatches,
  type RedeemedSsoHandoff,
  type ResolvedActor,
  type Role,
  type SetPasswordInput,
  type SsoClaims,
  type SsoHandoffRedeemInput,
  type SsoLoginResult,
  type SsoPolicy,
  type SsoRefusal,
  type SsoRequest,
  type SsoRequestInput,
  type SsoService,
  ssoUsername,
  systemGroupName,
  type TokenInfo,
  type TokenScope,
  type UpdateGroupInput,
  type UpdateUserInput,
  type User,
  type UserType,
} from './identity/index.js';
export {
  createKeySource,
  type DataKeyCacheSettings,
  dataKeyCacheSettingsSchema,
  defineKeySource,
  type ExternalKey,
  type ExternalKeySource,
  type ExternalKeySourceConfig,
  type ExternalKeySourceContext,
  externalKekId,
  isKeySourceOutage,
  type KeyInfo,
  type Keyring,
  type KeyringStatus,
  type KeySourceConfig,
  type KeySourceDefinition,
  type KeySourceFailureReason,
  keySourceFailure,
  keySourceFailureReasons,
  keySourcePackages,
  loadKeySourceDefinition,
  type OpenKeyringOptions,
  openKeyring,
  openKeySource,
  parseKeySourceConfig,
  WRAP_CONTEXT_KEYS,
  type WrapContext,
  type WrappedDataKey,
} from './keyring/index.js';
export type { KeyringService, RewrapProgress } from './keyring/keyring-service.js';
export {
  apiTokenKind,
  awsCredentialsKind,
  basicAuthKind,
  builtinKinds,
  createKindRegistry,
  databaseKind,
  defineKind,
  type FieldDefinition,
  type FieldValue,
  field,
  genericKind,
  isKind,
  type JsonFieldDefinition,
  jiraKind,
  type Kind,
  type KindDefinition,
  type KindKit,
  type KindLoadProblem,
  type KindRegistry,
  type KindValues,
  kindFromDefinition,
  kindKit,
  type LoadedKinds,
  loadKinds,
  oauthClientKind,
  type SecretValues,
  smtpKind,
  sshKeyKind,
  svgDataUri,
} from './kinds/index.js';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  redactPaths,
  silentLogger,
} from './logging/logger.js';
export type { MigrationService } from './migration/migration-service.js';
export type {
  MigrationProgressListener,
  MigrationStatus,
  MigrationStep,
  StartMigrationOptions,
} from './migration/migration-types.js';
export { maxReminderDays } from './reminders/reminder-schedule.js';
export type { ReminderService } from './reminders/reminder-service.js';
export {
  type DueCounts,
  type DueSecret,
  type DueSecretsQuery,
  type Mailer,
  type MailMessage,
  type ReminderReason,
  type ReminderRunResult,
  reminderReasons,
  type SmtpSettings,
} from './reminders/reminder-types.js';
export { MASK } from './secrets/masking.js';
export { secretNamePattern } from './secrets/secret-names.js';
export type { SecretService, UsedSecret } from './secrets/secret-service.js';
export type {
  BatchCreateOutcome,
  CreateSecretInput,
  Labels,
  ListSecretsFilter,
  SecretMetadata,
  SecretValuesView,
  SecretVersionInfo,
  UpdateMetadataInput,
  UpdateValuesInput,
} from './secrets/secret-types.js';
export { maxBatchCreate } from './secrets/secret-types.js';
export type { ShareLinkService } from './share-links/share-link-service.js';
export {
  type CreatedShareLink,
  type CreateShareLinkInput,
  type OpenedShareLink,
  type OpenShareLinkInput,
  type ShareLink,
  type ShareLinkPreview,
  type ShareLinkRevokeReason,
  type ShareLinkState,
  type ShareLinkViewer,
  shareLinkLimits,
} from './share-links/share-link-types.js';
export type { Clock } from './shared/clock.js';
export type { Page, PageRequest } from './shared/page.js';
export { type CofferDatabase, dialectOf, openDatabase, redactUrl } from './storage/database.js';
export type { DialectName } from './storage/dialect.js';
export { migrateToLatest } from './storage/migrator.js';
export { isDatabaseUnavailable, isUnstorableText } from './storage/sql-errors.js';
export {
  type AttemptThrottle,
  type AttemptThrottleOptions,
  type AttemptThrottleSettings,
  createAttemptThrottle,
  defaultAttemptThrottle,
  pruneAttempts,
} from './throttle/attempt-throttle.js';
