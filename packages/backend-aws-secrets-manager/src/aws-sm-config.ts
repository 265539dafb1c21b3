import { awsConnectionShape } from '@coffer/aws-store-kit';
import { remoteSettingsShape } from '@coffer/core';
import { z } from 'zod';

/**
 * Writes per second an instance sends by default: half of the 50/s that AWS allows per region
 * and account for PutSecretValue/UpdateSecretVersionStage combined (and for CreateSecret,
 * DeleteSecret, RestoreSecret each), so other users of the account and a second replica still fit.
 */
export const defaultWritesPerSecond = 25;

/** The recovery window DeleteSecret gets unless `recoveryWindowDays` or `forceDeleteWithoutRecovery` is set. */
export const defaultRecoveryWindowDays = 7;

/**
 * Settings of an `aws-secrets-manager` instance. Credentials are never settings: they come from
 * the AWS SDK's default chain (environment, shared config and `profile`, SSO, web identity,
 * container and instance roles).
 *
 * @example
 * awsSecretsManagerConfigSchema.parse({ region: 'eu-central-1', recoveryWindowDays: 30 });
 */
export const awsSecretsManagerConfigSchema = z
  .object({
    ...awsConnectionShape('Secrets Manager'),
    kmsKeyId: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe('KMS key (id, ARN or alias) new secrets are encrypted with; default: aws/secretsmanager'),
    recoveryWindowDays: z
      .number()
      .int()
      .min(7)
      .max(30)
      .optional()
      .describe(
        `Days a deleted secret stays recoverable (7 to 30; default ${defaultRecoveryWindowDays}); Coffer restores it when it writes the name again`,
      ),
    forceDeleteWithoutRecovery: z
      .boolean()
      .default(false)
      .describe(
        'Delete secrets at once, without a recovery window (cannot be combined with recoveryWindowDays)',
      ),
    ...remoteSettingsShape,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.forceDeleteWithoutRecovery && config.recoveryWindowDays !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['recoveryWindowDays'],
        message: 'cannot be set together with forceDeleteWithoutRecovery',
      });
    }
  });

/** The parsed settings of an `aws-secrets-manager` instance. */
export type AwsSecretsManagerConfig = z.infer<typeof awsSecretsManagerConfigSchema>;
