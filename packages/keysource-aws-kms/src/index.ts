import { KMSClient } from '@aws-sdk/client-kms';
import { defineKeySource, type KeySourceDefinition } from '@coffer/core';
import { type AwsKmsConfig, awsKmsConfigSchema, regionOf } from './aws-kms-config.js';
import { AwsKmsKeySource, awsKmsType } from './aws-kms-key-source.js';

export { type AwsKmsConfig, awsKmsConfigSchema, regionOf } from './aws-kms-config.js';
export { classifyKmsError, type KmsSpecial, kmsErrors } from './aws-kms-errors.js';
export { AwsKmsKeySource, awsKmsType } from './aws-kms-key-source.js';

/**
 * The SDK client for the key source: the default credential chain (or `profile`), the region (its
 * own, the key ARN's, or the chain's), `endpoint` when set, the request timeout, and the SDK's own
 * retries off (Coffer's retry layer is the one).
 */
export function createKmsClient(config: AwsKmsConfig): KMSClient {
  const region = regionOf(config);
  return new KMSClient({
    ...(region === undefined ? {} : { region }),
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.profile === undefined ? {} : { profile: config.profile }),
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: config.requestTimeoutMs,
      connectionTimeout: Math.min(config.requestTimeoutMs, 3_000),
      throwOnRequestTimeout: true,
    },
  });
}

/**
 * AWS KMS as a Coffer keyring key source (`keyring.source: aws-kms`): the KMS key wraps each
 * data key, bound to the deployment, secret and version by the encryption context.
 *
 * @example
 * // coffer.json
 * { "keyring": { "source": "aws-kms", "keyId": "alias/coffer", "region": "eu-west-1" } }
 */
export const awsKmsKeySourceDefinition: KeySourceDefinition<AwsKmsConfig> = defineKeySource({
  id: awsKmsType,
  displayName: 'AWS KMS',
  configSchema: awsKmsConfigSchema as unknown as KeySourceDefinition<AwsKmsConfig>['configSchema'],
  create: (config, context) => new AwsKmsKeySource(createKmsClient(config), config, context),
});

export default awsKmsKeySourceDefinition;
