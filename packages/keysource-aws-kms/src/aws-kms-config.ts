import { z } from 'zod';

/** A key id, key ARN, alias name or alias ARN, as KMS's KeyId parameter takes them. */
const keyReference = z
  .string()
  .min(1)
  .max(2048)
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[a-zA-Z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]+|alias\/[a-zA-Z0-9/_-]+))$/,
    'must be a KMS key id, key ARN, alias name (alias/...) or alias ARN',
  );

/**
 * The `keyring` settings of the `aws-kms` key source (besides `source` and the keyring's `cache`).
 *
 * @example
 * { "keyring": { "source": "aws-kms", "keyId": "alias/coffer", "region": "eu-west-1" } }
 */
export const awsKmsConfigSchema = z.strictObject({
  /** The KMS key that wraps Coffer's data keys: a key id, key ARN, alias name or alias ARN. */
  keyId: keyReference,
  /** The key's region; defaults to the AWS chain's (AWS_REGION, the profile). Taken from an ARN otherwise. */
  region: z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  /** Another endpoint (a VPC endpoint, FIPS, or a local double). */
  endpoint: z.url().optional(),
  /** A named profile of the shared AWS config files, instead of the default chain. */
  profile: z.string().min(1).optional(),
  /** Attempts per call, the first included, when KMS throttles or fails with 5xx. */
  maxAttempts: z.number().int().min(1).max(20).default(4),
  /** How long one KMS request may take before it counts as timed out. */
  requestTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /**
   * How long `rotate` waits for KMS to make the new key material current after RotateKeyOnDemand
   * (KMS rotates in the background).
   */
  rotationWaitSeconds: z.number().min(0).max(600).default(60),
});

export type AwsKmsConfig = z.output<typeof awsKmsConfigSchema>;

/** The region a config means: its own, else the one in a key or alias ARN, else the SDK's chain. */
export function regionOf(config: Pick<AwsKmsConfig, 'region' | 'keyId'>): string | undefined {
  if (config.region !== undefined) return config.region;
  return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(config.keyId)?.[1];
}
