import { SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientLike, awsClientSettings } from '@coffer/aws-store-kit';
import { type BackendDefinition, CofferError, defineBackend } from '@coffer/core';
import { AwsSsmBackend, awsSsmCapabilities, awsSsmType } from './ssm-backend.js';
import { type AwsSsmConfig, awsSsmConfigSchema } from './ssm-config.js';

export { AwsSsmBackend, awsSsmCapabilities, awsSsmLimits, awsSsmType } from './ssm-backend.js';
export {
  type AwsSsmConfig,
  awsSsmConfigSchema,
  defaultWritesPerSecond,
  type ParameterTier,
  tierValueLimits,
} from './ssm-config.js';
export { ssmServiceErrors } from './ssm-errors.js';
export { parameterNameOf, refOfParameterName } from './ssm-names.js';

/**
 * The SDK client for an instance: the default credential chain (or `profile`), the region or
 * `endpoint`, the request timeout, and the SDK's own retries off (Coffer's retry layer is the one).
 */
export function createSsmClient(config: AwsSsmConfig): SSMClient {
  return new SSMClient(awsClientSettings(config));
}

/**
 * AWS Systems Manager Parameter Store as a Coffer backend (`type: aws-ssm`).
 *
 * @example
 * // coffer.json
 * { "backends": { "ssm": { "type": "aws-ssm", "region": "eu-central-1" } }, "backend": "ssm" }
 */
export const awsSsmBackendDefinition: BackendDefinition<AwsSsmConfig> = defineBackend({
  id: awsSsmType,
  displayName: 'AWS SSM Parameter Store',
  description:
    'Values in AWS Systems Manager Parameter Store: one SecureString parameter per Coffer version, under /<cluster prefix>/<secret id>/.',
  configSchema: awsSsmConfigSchema as unknown as BackendDefinition<AwsSsmConfig>['configSchema'],
  capabilities: awsSsmCapabilities,
  create: (config, context) => {
    if (/^(aws|ssm)/i.test(context.clusterPrefix)) {
      // Parameter Store refuses names whose first part begins with aws or ssm (reserved)
      throw new CofferError(
        'invalid_config',
        `backend ${context.name}: Parameter Store refuses names beginning with "aws" or "ssm"; choose a clusterPrefix that does not start with either (it is ${context.clusterPrefix})`,
        {
          details: {
            issues: [{ path: 'clusterPrefix', message: 'must not begin with "aws" or "ssm" for aws-ssm' }],
          },
        },
      );
    }
    return new AwsSsmBackend(createSsmClient(config) as AwsClientLike, config, context);
  },
});

export default awsSsmBackendDefinition;
