import { z } from 'zod';
import { defaultRetryPolicy } from './retry-policy.js';

/**
 * Settings every remote store backend takes besides its own, so operators tune them the same
 * way for AWS, GCP, Azure or Vault. Spread `remoteSettingsShape` into a backend's config object.
 *
 * @example
 * const configSchema = z.object({ region: z.string(), ...remoteSettingsShape }).strict();
 */
export const remoteSettingsShape = {
  writesPerSecond: z
    .number()
    .min(0)
    .optional()
    .describe(
      'Most writes (put, delete) per second this instance sends; 0 means no limit. Default per store.',
    ),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(defaultRetryPolicy.maxAttempts)
    .describe('Attempts per call, the first included, when the store throttles or fails with 5xx'),
  requestTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(10_000)
    .describe('How long one request may take before it counts as timed out'),
};

export interface RemoteSettings {
  writesPerSecond?: number | undefined;
  maxAttempts: number;
  requestTimeoutMs: number;
}
