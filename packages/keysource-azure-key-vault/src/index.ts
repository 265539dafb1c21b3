import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import { DefaultAzureCredential, type DefaultAzureCredentialClientIdOptions } from '@azure/identity';
import {
  CryptographyClient,
  type CryptographyClientOptions,
  KeyClient,
  type KeyVaultKey,
} from '@azure/keyvault-keys';
import { CofferError, defineKeySource, type KeySourceDefinition } from '@coffer/core';
import {
  AzureKeyVaultKeySource,
  azureKeyVaultType,
  type CryptographyClientLike,
  type KeyVaultClients,
  type KeyVaultKeyLike,
} from './azure-kv-key-source.js';
import { type AzureKeyVaultKeysConfig, azureKeyVaultKeysConfigSchema } from './azure-kv-keys-config.js';

export {
  AzureKeyVaultKeySource,
  azureKeyVaultType,
  type CryptographyClientLike,
  type KeyClientLike,
  type KeyVaultClients,
  type KeyVaultKeyLike,
  wrapAlgorithm,
} from './azure-kv-key-source.js';
export { type AzureKeyVaultKeysConfig, azureKeyVaultKeysConfigSchema } from './azure-kv-keys-config.js';
export { classifyKeyVaultError, type KeyVaultFailure } from './azure-kv-keys-errors.js';
export { contextTag, decodeWrapped, encodeWrapped, tagMatches } from './context-binding.js';
export { contextBytes } from './wrap-context.js';

/** Connections the key source keeps open to the vault at most. */
const maxSockets = 16;

type AdditionalPolicy = NonNullable<CryptographyClientOptions['additionalPolicies']>[number];

/**
 * Puts `timeoutMs` on every HTTP request a client sends (the SDK's own retries are off, so one
 * request is one attempt); an expired request fails with `AbortError`, classified as a timeout.
 */
function requestTimeoutPolicy(timeoutMs: number): AdditionalPolicy {
  const policy = {
    name: 'cofferRequestTimeout',
    sendRequest(request: { timeout: number }, next: (request: { timeout: number }) => Promise<unknown>) {
      request.timeout = timeoutMs;
      return next(request);
    },
  };
  return { policy: policy as unknown as AdditionalPolicy['policy'], position: 'perRetry' };
}

/** The certificate authorities of `caCertificatesFile` added to Node's own, or undefined. */
function trustedCertificates(config: AzureKeyVaultKeysConfig): string[] | undefined {
  const path = config.caCertificatesFile;
  if (path === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new CofferError(
      'invalid_config',
      `invalid keyring configuration: keyring.caCertificatesFile: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
      { details: { issues: [{ path: 'keyring.caCertificatesFile', message: 'cannot be read' }] } },
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CofferError(
      'invalid_config',
      `invalid keyring configuration: keyring.caCertificatesFile: ${path} holds no PEM certificate`,
      { details: { issues: [{ path: 'keyring.caCertificatesFile', message: 'holds no PEM certificate' }] } },
    );
  }
  return [...rootCertificates, pem];
}

/**
 * The SDK clients of the key source: `DefaultAzureCredential` (the vendor's usual chain; nothing
 * of it is stored by Coffer), a `KeyClient` for the key's versions and rotation, and a
 * `CryptographyClient` per key version for `wrapKey`/`unwrapKey`; the SDK's retries off (Coffer's
 * retry layer is the one), a time limit on every request, and the trust and authority settings of
 * the config. `caCertificatesFile` is read here, at start, for one HTTPS agent that the vault's
 * and Entra ID's requests share; TLS verification is never turned off.
 */
export function createKeyVaultClients(config: AzureKeyVaultKeysConfig): KeyVaultClients {
  const ca = trustedCertificates(config);
  // With extra CAs, one agent and one TLS context for every client: handing the SDK `ca` instead
  // would parse Node's root certificates again for every new connection.
  const agent =
    ca === undefined
      ? undefined
      : new Agent({ keepAlive: true, maxSockets, secureContext: createSecureContext({ ca }) });
  const common = {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [requestTimeoutPolicy(config.requestTimeoutMs)],
    ...(agent === undefined ? {} : { agent }),
  };
  const credential = new DefaultAzureCredential({
    ...common,
    ...(config.authorityHost === undefined ? {} : { authorityHost: config.authorityHost }),
    ...(config.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
  } as DefaultAzureCredentialClientIdOptions);
  const clientOptions = {
    ...common,
    userAgentOptions: { userAgentPrefix: 'coffer' },
    ...(config.disableChallengeResourceVerification ? { disableChallengeResourceVerification: true } : {}),
  } as CryptographyClientOptions;
  const keys = new KeyClient(config.vaultUrl.replace(/\/+$/, ''), credential, clientOptions);
  return {
    keys: keys as unknown as KeyVaultClients['keys'],
    crypto: (key: KeyVaultKeyLike | string): CryptographyClientLike =>
      new CryptographyClient(key as KeyVaultKey | string, credential, clientOptions),
    close: () => agent?.destroy(),
  };
}

/**
 * Azure Key Vault keys as a Coffer keyring key source (`keyring.source: azure-key-vault`): an RSA
 * key wraps each data key with RSA-OAEP-256, and Coffer binds the data key to the deployment,
 * secret and version with a context tag.
 *
 * @example
 * // coffer.json
 * { "keyring": { "source": "azure-key-vault", "vaultUrl": "https://acme-prod.vault.azure.net", "keyName": "coffer" } }
 */
export const azureKeyVaultKeySourceDefinition: KeySourceDefinition<AzureKeyVaultKeysConfig> = defineKeySource(
  {
    id: azureKeyVaultType,
    displayName: 'Azure Key Vault',
    configSchema:
      azureKeyVaultKeysConfigSchema as unknown as KeySourceDefinition<AzureKeyVaultKeysConfig>['configSchema'],
    create: (config, context) => new AzureKeyVaultKeySource(createKeyVaultClients(config), config, context),
  },
);

export default azureKeyVaultKeySourceDefinition;
