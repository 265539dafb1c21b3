import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientSettings } from '@coffer/aws-store-kit';
import { type BackendDefinition, defineBackend } from '@coffer/core';
import {
  AwsSecretsManagerBackend,
  awsSecretsManagerCapabilities,
  awsSecretsManagerType,
  type SecretsManagerLike,
} from './aws-sm-backend.js';
import { type AwsSecretsManagerConfig, awsSecretsManagerConfigSchema } from './aws-sm-config.js';

export {
  AwsSecretsManagerBackend,
  awsSecretsManagerCapabilities,
  awsSecretsManagerLimits,
  awsSecretsManagerType,
  maxSecretStringBytes,
  type SecretsManagerLike,
  stagingLabelQuota,
} from './aws-sm-backend.js';
export {
  type AwsSecretsManagerConfig,
  awsSecretsManagerConfigSchema,
  defaultRecoveryWindowDays,
  defaultWritesPerSecond,
} from './aws-sm-config.js';
export { type AwsFailure, classifyAwsError } from './aws-sm-errors.js';
export { nameSeparator, versionStage } from './aws-sm-names.js';

/**
 * The SDK client for an instance: the default credential chain (or `profile`), the region or
 * `endpoint`, the request timeout, and the SDK's own retries off (Coffer's retry layer is the one).
 */
export function createSecretsManagerClient(config: AwsSecretsManagerConfig): SecretsManagerClient {
  return new SecretsManagerClient(awsClientSettings(config));
}

/**
 * AWS Secrets Manager as a Coffer backend (`type: aws-secrets-manager`).
 *
 * @example
 * // coffer.json
 * { "backends": { "aws": { "type": "aws-secrets-manager", "region": "eu-central-1" } }, "backend": "aws" }
 */
export const awsSecretsManagerBackendDefinition: BackendDefinition<AwsSecretsManagerConfig> = defineBackend({
  id: awsSecretsManagerType,
  displayName: 'AWS Secrets Manager',
  description:
    'Values in AWS Secrets Manager: one secret per Coffer secret, named by cluster prefix and secret id, versions as staging labels.',
  configSchema:
    awsSecretsManagerConfigSchema as unknown as BackendDefinition<AwsSecretsManagerConfig>['configSchema'],
  capabilities: awsSecretsManagerCapabilities,
  create: (config, context) =>
    new AwsSecretsManagerBackend(createSecretsManagerClient(config) as SecretsManagerLike, config, context),
});

export default awsSecretsManagerBackendDefinition;
