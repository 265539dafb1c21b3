// The public surface of @coffer/client, listed by name.

export {
  type AccessLevel,
  type AuditFilter,
  type AuditRecord,
  type AuditVerification,
  type BackendDefinition,
  type BackendInstance,
  type BatchCreateResult,
  type ConnectionTestResult,
  type CreatedShareLink,
  type CreatedToken,
  type CreateGroupInput,
  type CreateSecretInput,
  type CreateShareLinkInput,
  type CreateTokenInput,
  type CreateUserInput,
  type DueFilter,
  type DueSecret,
  type FieldValue,
  type FieldValues,
  type Group,
  type GroupFilter,
  type GroupMember,
  type GroupWithMembers,
  type KeyInfo,
  type KeyringStatus,
  type Kind,
  type KindField,
  type LoginInput,
  type LoginResult,
  MASK,
  type Me,
  type MigrationFailure,
  type MigrationStatus,
  type OpenedShareLink,
  type Problem,
  type ReminderRun,
  type SecretFilter,
  type SecretMetadata,
  type SecretValues,
  type SecretVersion,
  type SetPasswordInput,
  type Share,
  type ShareInput,
  type ShareLink,
  type ShareLinkPreview,
  type SsoCreatedToken,
  type SsoInfo,
  type SsoTokenInput,
  type StartMigrationInput,
  type TokenFilter,
  type TokenInfo,
  type UpdateGroupInput,
  type UpdateMetadataInput,
  type UpdateUserInput,
  type UpdateValuesInput,
  type User,
  type UserFilter,
} from './api-types.js';
export { type ClientOptions, type CofferClient, createClient } from './client.js';
export {
  type ClientErrorCode,
  CofferApiError,
  type CofferApiErrorInit,
  type CofferErrorCode,
  clientErrorCodes,
  type ErrorIssue,
  isCofferApiError,
  type ServerErrorCode,
} from './errors/api-error.js';
export { apiPrefix, type Operations, type Schemas } from './generated/openapi.js';
export type { RetryEvent, RetryOptions } from './http/retry-policy.js';
export type { CallOptions, OperationName, QueryInput, RequestInput, ResponseOf } from './http/transport.js';
export { type Page, type PageQuery, paginate } from './pagination.js';
export { parseTemplate, type Reference } from './references/template-resolver.js';
export type { AuditApi } from './resources/audit-api.js';
export type { AuthApi } from './resources/auth-api.js';
export type { BackendsApi } from './resources/backends-api.js';
export type { GroupsApi } from './resources/groups-api.js';
export type { KeyringApi } from './resources/keyring-api.js';
export type { KindsApi } from './resources/kinds-api.js';
export type { MigrationApi } from './resources/migration-api.js';
export type { DueQuery, RemindersApi } from './resources/reminders-api.js';
export type { WriteOptions } from './resources/resource-support.js';
export type {
  BatchCreateOutcome,
  ModifyContext,
  ModifyOptions,
  ReadValuesOptions,
  SecretsApi,
} from './resources/secrets-api.js';
export { parseShareLink, type ShareLinkRef, type ShareLinksApi } from './resources/share-links-api.js';
export type { SharesApi } from './resources/shares-api.js';
export type { TokensApi } from './resources/tokens-api.js';
export type { UsersApi } from './resources/users-api.js';
export type {
  EventMessage,
  EventsOptions,
  SecretChangedMessage,
  SecretEventMessage,
} from './watch/event-stream.js';
export type { SecretChange, WatchOptions } from './watch/secret-watcher.js';
