import { remoteSettingsShape } from '@coffer/core';
import { z } from 'zod';

/**
 * Writes per second an instance sends by default. Secret Manager allows 600 write requests a
 * minute per project (10 a second, shared by every writer in the project), and one Coffer put
 * is two or three of them (add a version, move its alias, destroy a replaced version); half of
 * the quota leaves room for other users of the project and a second replica.
 */
export const defaultWritesPerSecond = 5;

/** 6 to 30 of a-z, 0-9 and -, starting with a letter; optionally domain-scoped (`example.com:proj`). */
const projectIdPattern = /^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const locationPattern = /^[a-z]+(-[a-z]+)*[0-9]*(-[a-z0-9]+)*$/;
const kmsKeyPattern = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

const kmsKeyName = z
  .string()
  .regex(kmsKeyPattern, 'a Cloud KMS key name: projects/P/locations/L/keyRings/R/cryptoKeys/K');

const replicaSchema = z
  .object({
    location: z.string().regex(locationPattern, 'a Google Cloud location such as europe-west1'),
    kmsKeyName: kmsKeyName.optional().describe('Cloud KMS key (in the same location) for this replica'),
  })
  .strict();

/**
 * Settings of a `gcp-secret-manager` instance. Credentials are never settings: they come from
 * Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth
 * application-default login`, workload identity, the metadata server).
 *
 * @example
 * gcpSecretManagerConfigSchema.parse({ projectId: 'acme-prod', replication: { userManaged: [{ location: 'europe-west1' }] } });
 */
export const gcpSecretManagerConfigSchema = z
  .object({
    projectId: z
      .string()
      .regex(projectIdPattern, 'a Google Cloud project id such as acme-prod')
      .describe('The project whose Secret Manager holds the values'),
    location: z
      .string()
      .regex(locationPattern, 'a Google Cloud location such as europe-west1')
      .optional()
      .describe(
        'Keep values in regional secrets of this location (its own endpoint); default: global secrets',
      ),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Another endpoint URL: a Private Service Connect endpoint or a local test double'),
    replication: z
      .union([
        z.literal('automatic'),
        z.object({ userManaged: z.array(replicaSchema).min(1).max(50) }).strict(),
      ])
      .default('automatic')
      .describe(
        'Where global secrets are replicated: "automatic" or { userManaged: [{ location, kmsKeyName? }] }',
      ),
    kmsKeyName: kmsKeyName
      .optional()
      .describe('Cloud KMS key for automatically replicated secrets, or for regional secrets'),
    ...remoteSettingsShape,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.location !== undefined && config.replication !== 'automatic') {
      ctx.addIssue({
        code: 'custom',
        path: ['replication'],
        message: 'regional secrets (location) have no replication policy; leave it out',
      });
    }
    if (config.kmsKeyName !== undefined && config.replication !== 'automatic') {
      ctx.addIssue({
        code: 'custom',
        path: ['kmsKeyName'],
        message: 'with userManaged replication give each replica its own kmsKeyName',
      });
    }
  });

/** The parsed settings of a `gcp-secret-manager` instance. */
export type GcpSecretManagerConfig = z.infer<typeof gcpSecretManagerConfigSchema>;
