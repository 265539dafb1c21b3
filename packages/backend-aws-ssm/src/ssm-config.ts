import { awsConnectionShape } from '@coffer/aws-store-kit';
import { remoteSettingsShape } from '@coffer/core';
import { z } from 'zod';

/**
 * Writes per second an instance sends by default: two of the 3 PutParameter calls a second that
 * Parameter Store's default (standard) throughput allows per account and region, so the requests'
 * jitter and the account's other callers still fit. Raise it after enabling higher throughput.
 */
export const defaultWritesPerSecond = 2;

/** The parameter tiers and the largest value each holds (bytes of the encoded values). */
export const tierValueLimits = {
  Standard: 4096,
  Advanced: 8192,
  // Parameter Store makes a parameter advanced when it needs to be (here: a value over 4 KB)
  'Intelligent-Tiering': 8192,
} as const;

export type ParameterTier = keyof typeof tierValueLimits;

/**
 * Settings of an `aws-ssm` instance. Credentials are never settings: they come from the AWS
 * SDK's default chain (environment, shared config and `profile`, SSO, web identity, container
 * and instance roles).
 *
 * @example
 * awsSsmConfigSchema.parse({ region: 'eu-central-1', tier: 'Advanced' });
 */
export const awsSsmConfigSchema = z
  .object({
    ...awsConnectionShape('Parameter Store'),
    kmsKeyId: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('KMS key (id, ARN or alias) SecureString parameters are encrypted with; default: aws/ssm'),
    tier: z
      .enum(['Standard', 'Advanced', 'Intelligent-Tiering'])
      .default('Standard')
      .describe(
        'Parameter tier: Standard holds 4 KB, Advanced 8 KB (charged per parameter); Intelligent-Tiering upgrades a parameter only when its value needs it',
      ),
    ...remoteSettingsShape,
  })
  .strict();

/** The parsed settings of an `aws-ssm` instance. */
export type AwsSsmConfig = z.infer<typeof awsSsmConfigSchema>;
