import type { RemoteSettings } from '@coffer/core';
import { z } from 'zod';

/**
 * The settings every AWS store takes to reach its service (spread into its zod object beside
 * `remoteSettingsShape`). Credentials are never among them: they come from the SDK's chain.
 *
 * @example
 * const schema = z.object({ ...awsConnectionShape('Parameter Store'), tier: ..., ...remoteSettingsShape }).strict();
 */
export function awsConnectionShape(service: string) {
  return {
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/, 'an AWS region such as eu-central-1')
      .describe(`The AWS region whose ${service} holds the values`),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Another endpoint URL: a VPC interface endpoint, FIPS endpoint or a local test double'),
    profile: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('A profile of the shared AWS config/credentials files to take credentials from'),
  };
}

/** The parsed connection settings and the remote ones, as {@link awsClientSettings} reads them. */
export type AwsConnectionSettings = {
  region: string;
  endpoint?: string | undefined;
  profile?: string | undefined;
} & Pick<RemoteSettings, 'requestTimeoutMs'>;

/**
 * The constructor settings of an AWS SDK v3 client for an instance: the region or `endpoint`, the
 * default credential chain (or `profile`), the request timeout, and the SDK's own retries off
 * (Coffer's retry layer is the one).
 *
 * @example
 * new SSMClient(awsClientSettings(config));
 */
export function awsClientSettings(config: AwsConnectionSettings) {
  return {
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.profile === undefined ? {} : { profile: config.profile }),
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: config.requestTimeoutMs,
      connectionTimeout: Math.min(config.requestTimeoutMs, 5_000),
      throwOnRequestTimeout: true,
    },
  };
}
