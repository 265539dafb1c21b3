import { defineKeySource, type KeySourceDefinition } from '@coffer/core';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { type GcpKmsConfig, gcpKmsConfigSchema } from './gcp-kms-config.js';
import { type CloudKmsClientLike, GcpKmsKeySource, gcpKmsType } from './gcp-kms-key-source.js';

export { crc32c } from './crc32c.js';
export { cryptoKeyNamePattern, type GcpKmsConfig, gcpKmsConfigSchema } from './gcp-kms-config.js';
export { type CloudKmsFailure, classifyCloudKmsError } from './gcp-kms-errors.js';
export { type CloudKmsClientLike, GcpKmsKeySource, gcpKmsType } from './gcp-kms-key-source.js';
export { contextBytes } from './wrap-context.js';

type Fetch = (
  url: unknown,
  init?: { signal?: AbortSignal | null } & Record<string, unknown>,
) => Promise<unknown>;

/** The error a request gets when it took longer than `requestTimeoutMs`. */
class CloudKmsRequestTimeout extends Error {
  override readonly name = 'CloudKmsRequestTimeout';
}

/**
 * Puts a time limit on every HTTP request the client sends. In REST mode google-gax ignores call
 * deadlines, so the limit goes on the request itself: the credential chain's `fetch`, which sends
 * every API call (it adds the bearer token) with the client's abort signal.
 */
function limitRequestTime(auth: { fetch: Fetch }, timeoutMs: number): void {
  const send = auth.fetch.bind(auth);
  auth.fetch = async (url, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await send(url, { ...init, signal });
    } catch (err) {
      if (timeout.aborted) throw new CloudKmsRequestTimeout(`request timed out after ${timeoutMs} ms`);
      throw err;
    }
  };
}

/**
 * The SDK client for the key source: REST over HTTP/1.1 (`fallback: 'rest'`), Application Default
 * Credentials, the key's project, `endpoint` when set, and a time limit per request. The SDK's own retries are
 * turned off per call by the key source (Coffer's retry layer is the one).
 */
export function createCloudKmsClient(config: GcpKmsConfig): KeyManagementServiceClient {
  let connection: { apiEndpoint: string; port: number; protocol: string } | undefined;
  if (config.endpoint !== undefined) {
    const url = new URL(config.endpoint);
    const https = url.protocol === 'https:';
    connection = {
      apiEndpoint: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      protocol: https ? 'https' : 'http',
    };
  }
  // The key's project, so the credential chain never asks Resource Manager which project it is in.
  const projectId = config.keyName.split('/')[1];
  const client = new KeyManagementServiceClient({ fallback: 'rest', projectId, ...(connection ?? {}) });
  limitRequestTime(client.auth as unknown as { fetch: Fetch }, config.requestTimeoutMs);
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
