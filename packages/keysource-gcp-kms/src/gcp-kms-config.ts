import { z } from 'zod';

/** `projects/P/locations/L/keyRings/R/cryptoKeys/K`, as Cloud KMS names a key. */
export const cryptoKeyNamePattern =
  /^projects\/[a-z0-9.:-]{1,100}\/locations\/[a-z0-9-]{1,63}\/keyRings\/[a-zA-Z0-9_-]{1,63}\/cryptoKeys\/[a-zA-Z0-9_-]{1,63}$/;

/**
 * The `keyring` settings of the `gcp-kms` key source (besides `source` and the keyring's `cache`).
 * Credentials are never settings: they come from Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS, workload identity, the metadata server, `gcloud auth
 * application-default login`).
 *
 * @example
 * { "keyring": { "source": "gcp-kms", "keyName": "projects/acme/locations/europe-west1/keyRings/coffer/cryptoKeys/coffer" } }
 */
export const gcpKmsConfigSchema = z.strictObject({
  /** The symmetric ENCRYPT_DECRYPT key that wraps Coffer's data keys. */
  keyName: z
    .string()
    .regex(cryptoKeyNamePattern, 'a Cloud KMS key name: projects/P/locations/L/keyRings/R/cryptoKeys/K'),
  /** Another endpoint URL: a regional or Private Service Connect endpoint, or a local double. */
  endpoint: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
  /** Attempts per call, the first included, when Cloud KMS throttles, fails with 5xx or cannot be reached. */
  maxAttempts: z.number().int().min(1).max(20).default(4),
  /** How long one Cloud KMS request may take before it counts as timed out. */
  requestTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /**
   * How long `rotate` waits for a new key version to be generated (HSM versions are
   * PENDING_GENERATION for a moment) before making it primary.
   */
  rotationWaitSeconds: z.number().min(0).max(600).default(60),
});

export type GcpKmsConfig = z.output<typeof gcpKmsConfigSchema>;
