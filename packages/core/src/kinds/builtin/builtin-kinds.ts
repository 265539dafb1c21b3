import type { Kind } from '../kind-types.js';
import { apiTokenKind } from './api-token-kind.js';
import { awsCredentialsKind } from './aws-credentials-kind.js';
import { basicAuthKind } from './basic-auth-kind.js';
import { databaseKind } from './database-kind.js';
import { genericKind } from './generic-kind.js';
import { jiraKind } from './jira-kind.js';
import { oauthClientKind } from './oauth-client-kind.js';
import { smtpKind } from './smtp-kind.js';
import { sshKeyKind } from './ssh-key-kind.js';

/**
 * The kinds every Coffer has, in the order a UI lists them.
 *
 * @example
 * const registry = createKindRegistry([...builtinKinds, ...loaded.kinds]);
 */
export const builtinKinds: readonly Kind[] = Object.freeze([
  genericKind,
  smtpKind,
  jiraKind,
  databaseKind,
  awsCredentialsKind,
  apiTokenKind,
  basicAuthKind,
  sshKeyKind,
  oauthClientKind,
]);
