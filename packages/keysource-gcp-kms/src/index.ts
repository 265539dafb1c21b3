import { defineKeySource, type KeySourceDefinition } from '@coffer/core';
import { type AuthFetch, gaxEndpoint, limitRequestTime } from '@coffer/gcp-kit';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { type GcpKmsConfig, gcpKmsConfigSchema } from './gcp-kms-config.js';
import { type CloudKmsClientLike, GcpKmsKeySource, gcpKmsType } from './gcp-kms-key-source.js';

export { crc32c } from '@coffer/gcp-kit';
export { cryptoKeyNamePattern, type GcpKmsConfig, gcpKmsConfigSchema } from './gcp-kms-config.js';
export { type CloudKmsFailure, classifyCloudKmsError } from './gcp-kms-errors.js';
export { type CloudKmsClientLike, GcpKmsKeySource, gcpKmsType } from './gcp-kms-key-source.js';
export { contextBytes } from './wrap-context.js';

/**
 * The SDK client for the key source: REST over HTTP/1.1 (`fallback: 'rest'`), Application Default
 * Credentials, the key's project, `endpoint` when set, and a time limit per request. The SDK's own retries are
 * turned off per call by the key source (Coffer's retry layer is the one).
 */
export function createCloudKmsClient(config: GcpKmsConfig): KeyManagementServiceClient {
  const connection = config.endpoint === undefined ? undefined : gaxEndpoint(config.endpoint);
  // The key's project, so the credential chain never asks Resource Manager which project it is in.
  const projectId = config.keyName.split('/')[1];
  const client = new KeyManagementServiceClient({ fallback: 'rest', projectId, ...(connection ?? {}) });
  limitRequestTime(client.auth as unknown as { fetch: AuthFetch }, config.requestTimeoutMs);
  return client;
}

/**
 * Google Cloud KMS as a Coffer keyring key source (`keyring.source: gcp-kms`): a symmetric key
 * wraps each data key, bound to the deployment, secret and version by additional authenticated data.
 *
 * @example
 * // coffer.json
 * { "keyring": { "source": "gcp-kms", "keyName": "projects/acme/locations/europe-west1/keyRings/coffer/cryptoKeys/coffer" } }
 */
export const gcpKmsKeySourceDefinition: KeySourceDefinition<GcpKmsConfig> = defineKeySource({
  id: gcpKmsType,
  displayName: 'Google Cloud KMS',
  configSchema: gcpKmsConfigSchema as unknown as KeySourceDefinition<GcpKmsConfig>['configSchema'],
  create: (config, context) =>
    new GcpKmsKeySource(createCloudKmsClient(config) as unknown as CloudKmsClientLike, config, context),
});

export default gcpKmsKeySourceDefinition;
