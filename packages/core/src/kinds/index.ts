export { apiTokenKind } from './builtin/api-token-kind.js';
export { awsCredentialsKind } from './builtin/aws-credentials-kind.js';
export { basicAuthKind } from './builtin/basic-auth-kind.js';
export { builtinKinds } from './builtin/builtin-kinds.js';
export { databaseKind } from './builtin/database-kind.js';
export { genericKind } from './builtin/generic-kind.js';
export { jiraKind } from './builtin/jira-kind.js';
export { oauthClientKind } from './builtin/oauth-client-kind.js';
export { smtpKind } from './builtin/smtp-kind.js';
export { sshKeyKind } from './builtin/ssh-key-kind.js';
export {
  defineKind,
  type FreeFormKindOptions,
  type KindKit,
  type KindOptions,
  type KindValues,
  kindKit,
  type ValuesOfFields,
} from './define-kind.js';
export {
  type BooleanFieldOptions,
  type CommonFieldOptions,
  type EnumFieldOptions,
  type FieldBuilder,
  type FieldSpec,
  field,
  type IsPresent,
  type NumberFieldOptions,
  type SecretFieldOptions,
  type StringFieldOptions,
  type StringLengthOptions,
  type TextFieldOptions,
} from './field-builders.js';
export {
  type JsonFieldDefinition,
  type KindDefinition,
  type KindFromDefinitionOptions,
  kindFromDefinition,
} from './kind-definition.js';
export { isKind } from './kind-factory.js';
export { JSON_SCHEMA_DIALECT } from './kind-json-schema.js';
export { FIELD_NAME_PATTERN, KIND_ID_PATTERN, MAX_FIELDS, MAX_VALUE_BYTES } from './kind-limits.js';
export { type KindLoadProblem, type LoadedKinds, type LoadKindsOptions, loadKinds } from './kind-loader.js';
export { defaultKindLogo, svgDataUri } from './kind-logo.js';
export { createKindRegistry, type KindRegistry } from './kind-registry.js';
export type {
  FieldDefinition,
  FieldFormat,
  FieldType,
  FieldValue,
  Kind,
  SecretValues,
} from './kind-types.js';
