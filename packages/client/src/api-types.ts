// The API's types by name, all derived from the generated OpenAPI types, so they follow the
// server's schemas (test/openapi-drift.test.ts keeps the generated file in step).
import type { Operations, Schemas } from './generated/openapi.js';
import type { QueryInput } from './http/transport.js';

type Body<N extends keyof Operations> = Operations[N]['body'];
type Answer<N extends keyof Operations> = Operations[N]['response'];
type Filter<N extends keyof Operations> = Omit<QueryInput<Operations[N]['query']>, 'cursor' | 'limit'>;

/** A field's value: values are a flat map of field name to one of these. */
export type FieldValue = string | number | boolean;
/** A secret's values: field name → value. */
export type FieldValues = Record<string, FieldValue>;

/** What `GET /secrets/{ref}/values` answers in place of a secret field that was not revealed. */
export const MASK = '••••••••';

/** A secret's metadata (never its values), with `currentVersion` and the caller's `access`. */
export type SecretMetadata = Schemas['SecretMetadata'];
/** Values of one version, masked unless revealed (`maskedFields` names the masked ones). */
export type SecretValues = Schemas['SecretValues'];
export type SecretVersion = Schemas['SecretVersion'];
/** `use` < `read` < `write` < `manage`. */
export type AccessLevel = Schemas['Share']['level'];
export type Share = Schemas['Share'];
/** A share link's metadata (never its key nor a value), with its `state`. */
export type ShareLink = Schemas['ShareLink'];
/** A new share link: `url` and `key` are in this answer only. */
export type CreatedShareLink = Schemas['CreatedShareLink'];
/** What a link holds before it is opened. */
export type ShareLinkPreview = Schemas['ShareLinkPreview'];
/** An opened link: the shared `values` and the views left. */
export type OpenedShareLink = Schemas['OpenedShareLink'];
/** A secret that expired, expires or is due for rotation, with its `reasons` and `dueAt`. */
export type DueSecret = Schemas['DueSecret'];
/** What a run of the reminder job did: mails `sent`, `failed`, owners without an address... */
export type ReminderRun = Schemas['ReminderRun'];
export type Kind = Schemas['Kind'];
export type KindField = Kind['fields'][number];
export type ConnectionTestResult = Schemas['ConnectionTestResult'];
export type User = Schemas['User'];
export type Group = Schemas['Group'];
export type GroupMember = Schemas['GroupMember'];
export type GroupWithMembers = Schemas['GroupWithMembers'];
export type TokenInfo = Schemas['TokenInfo'];
/** A new token: `token` is shown in this answer only. */
export type CreatedToken = Schemas['CreatedToken'];
export type AuditRecord = Schemas['AuditRecord'];
export type AuditVerification = Answer<'POST /audit/verify'>;
export type BackendInstance = Schemas['BackendInstance'];
export type BackendDefinition = Schemas['BackendDefinition'];
export type MigrationStatus = Schemas['MigrationStatus'];
export type MigrationFailure = MigrationStatus['failures'][number];
export type KeyInfo = Schemas['KeyInfo'];
export type KeyringStatus = Schemas['KeyringStatus'];
/** The problem document of an error answer (RFC 9457). */
export type Problem = Schemas['Problem'];
/** `POST /secrets/batch`: one result per secret, in request order (`secret` or `error`). */
export type BatchCreateResult = Schemas['BatchCreateResult'];

/** `POST /auth/login`: the user, the session's CSRF token and when the session ends. */
export type LoginResult = Answer<'POST /auth/login'>;
/** `GET /auth/me`: the caller, how it authenticated, and its token's id and scope. */
export type Me = Answer<'GET /auth/me'>;
/** `GET /auth/sso`: whether single sign-on is on, the provider's name, where to start, who may use passwords. */
export type SsoInfo = Schemas['SsoInfo'];
/** `POST /auth/sso/token`: a new API token (shown in this answer only) and its user. */
export type SsoCreatedToken = Schemas['SsoCreatedToken'];
/** The code a loopback sign-in received and the PKCE verifier it started with. */
export type SsoTokenInput = Body<'POST /auth/sso/token'>;

export type LoginInput = Body<'POST /auth/login'>;
export type CreateSecretInput = Body<'POST /secrets'>;
export type UpdateValuesInput = Body<'PATCH /secrets/{ref}/values'>;
export type UpdateMetadataInput = Body<'PATCH /secrets/{ref}'>;
export type ShareInput = Body<'POST /secrets/{ref}/shares'>;
/** What a share link reveals, for how long and how often, and its optional passphrase. */
export type CreateShareLinkInput = Body<'POST /secrets/{ref}/share-links'>;
export type CreateUserInput = Body<'POST /users'>;
export type UpdateUserInput = Body<'PATCH /users/{id}'>;
export type SetPasswordInput = Body<'POST /users/{id}/password'>;
export type CreateGroupInput = Body<'POST /groups'>;
export type UpdateGroupInput = Body<'PATCH /groups/{id}'>;
export type CreateTokenInput = Body<'POST /tokens'>;
export type StartMigrationInput = NonNullable<Body<'POST /migration'>>;

/** Filters of `GET /secrets`: `kind`, `label` (one or several), `namePrefix`, `state`, `view`, `access`. */
export type SecretFilter = Filter<'GET /secrets'>;
/** Filters of `GET /reminders/due`: `within` (`30d`), `reason`, `view`. */
export type DueFilter = Filter<'GET /reminders/due'>;
export type UserFilter = Filter<'GET /users'>;
export type GroupFilter = Filter<'GET /groups'>;
export type TokenFilter = Filter<'GET /tokens'>;
export type AuditFilter = Filter<'GET /audit'>;
