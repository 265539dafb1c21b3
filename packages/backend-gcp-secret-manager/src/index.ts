import { type BackendDefinition, CofferError, defineBackend } from '@coffer/core';
import { type AuthFetch, gaxEndpoint, limitRequestTime } from '@coffer/gcp-kit';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import {
  GcpSecretManagerBackend,
  gcpSecretManagerCapabilities,
  gcpSecretManagerType,
  type SecretManagerLike,
} from './gcp-sm-backend.js';
import { type GcpSecretManagerConfig, gcpSecretManagerConfigSchema } from './gcp-sm-config.js';
import { isLabelValue } from './gcp-sm-names.js';

export { crc32c } from '@coffer/gcp-kit';
export {
  GcpSecretManagerBackend,
  gcpSecretManagerCapabilities,
  gcpSecretManagerLimits,
  gcpSecretManagerType,
  maxPayloadBytes,
  type SecretManagerLike,
  type SecretResource,
  versionAliasQuota,
} from './gcp-sm-backend.js';
export {
  defaultWritesPerSecond,
  type GcpSecretManagerConfig,
  gcpSecretManagerConfigSchema,
} from './gcp-sm-config.js';
export { classifyGcpError, type GcpFailure } from './gcp-sm-errors.js';
export { nameSeparator, versionAlias } from './gcp-sm-names.js';

/**
 * The SDK client for an instance: REST over HTTP/1.1 (`fallback: 'rest'`), Application Default
 * Credentials, the regional endpoint for `location` or `endpoint`, and a time limit per request.
 * The SDK's own retries are turned off per call by the backend (Coffer's retry layer is the one).
 */
export function createSecretManagerClient(config: GcpSecretManagerConfig): SecretManagerServiceClient {
  let connection: { apiEndpoint: string; port?: number; protocol?: string } | undefined;
  if (config.endpoint !== undefined) {
    connection = gaxEndpoint(config.endpoint);
  } else if (config.location !== undefined) {
    connection = { apiEndpoint: `secretmanager.${config.location}.rep.googleapis.com` };
  }
  const client = new SecretManagerServiceClient({
    fallback: 'rest',
    projectId: config.projectId,
    ...(connection ?? {}),
  });
  limitRequestTime(client.auth as unknown as { fetch: AuthFetch }, config.requestTimeoutMs);
  return client;
}

/**
 * Google Cloud Secret Manager as a Coffer backend (`type: gcp-secret-manager`).
 *
 * @example
 * // coffer.json
 * { "backends": { "gcp": { "type": "gcp-secret-manager", "projectId": "acme-prod" } }, "backend": "gcp" }
 */
export const gcpSecretManagerBackendDefinition: BackendDefinition<GcpSecretManagerConfig> = defineBackend({
  id: gcpSecretManagerType,
  displayName: 'Google Cloud Secret Manager',
  description:
    'Values in Google Cloud Secret Manager: one secret per Coffer secret, named by cluster prefix and secret id, each Coffer version a secret version found by its alias.',
  configSchema:
    gcpSecretManagerConfigSchema as unknown as BackendDefinition<GcpSecretManagerConfig>['configSchema'],
  capabilities: gcpSecretManagerCapabilities,
  create: (config, context) => {
    if (!isLabelValue(context.deploymentId) || !isLabelValue(context.clusterPrefix)) {
      throw new CofferError(
        'invalid_config',
        `backend ${context.name}: the deployment id and cluster prefix must be Secret Manager label values (lowercase letters, digits, _ and -, at most 63)`,
      );
    }
    return new GcpSecretManagerBackend(
      createSecretManagerClient(config) as unknown as SecretManagerLike,
      config,
      context,
    );
  },
});

export default gcpSecretManagerBackendDefinition;
