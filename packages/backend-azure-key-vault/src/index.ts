import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import { createSecureContext, rootCertificates } from 'node:tls';
import { DefaultAzureCredential, type DefaultAzureCredentialClientIdOptions } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { type BackendDefinition, CofferError, defineBackend } from '@coffer/core';
import {
  AzureKeyVaultBackend,
  azureKeyVaultCapabilities,
  azureKeyVaultType,
  type SecretClientLike,
} from './azure-kv-backend.js';
import { type AzureKeyVaultConfig, azureKeyVaultConfigSchema } from './azure-kv-config.js';

export {
  AzureKeyVaultBackend,
  azureKeyVaultCapabilities,
  azureKeyVaultLimits,
  azureKeyVaultType,
  maxValueBytes,
  type SecretClientLike,
} from './azure-kv-backend.js';
export {
  type AzureKeyVaultConfig,
  azureKeyVaultConfigSchema,
  defaultWritesPerSecond,
  serviceVersions,
} from './azure-kv-config.js';
export { type AzureFailure, classifyAzureError } from './azure-kv-errors.js';
export { cofferSecretIdOf, nameSeparator, secretNameOf, valuesContentType } from './azure-kv-names.js';

/** Connections one instance keeps open to the vault at most. */
const maxSockets = 64;

type AdditionalPolicy = NonNullable<SecretClientOptions['additionalPolicies']>[number];

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
function trustedCertificates(
  config: AzureKeyVaultConfig,
  dataDir: string,
  name: string,
): string[] | undefined {
  if (config.caCertificatesFile === undefined) return undefined;
  const path = isAbsolute(config.caCertificatesFile)
    ? config.caCertificatesFile
    : resolve(dataDir, config.caCertificatesFile);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new CofferError(
      'invalid_config',
      `invalid backend configuration: backends.${name}.caCertificatesFile: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CofferError(
      'invalid_config',
      `invalid backend configuration: backends.${name}.caCertificatesFile: ${path} holds no PEM certificate`,
    );
  }
  return [...rootCertificates, pem];
}

/**
 * The SDK client for an instance: `DefaultAzureCredential` (whose chain is the vendor's usual
 * one; nothing of it is stored by Coffer), the SDK's retries off (Coffer's retry layer is the
 * one), a time limit on every request, and the trust and authority settings of the config.
 * `caCertificatesFile` is read here, at start, and given to the HTTPS agent both the vault's and
 * Entra ID's requests use; TLS verification is never turned off.
 */
export function createSecretClient(
  config: AzureKeyVaultConfig,
  options: { name?: string; dataDir?: string } = {},
): SecretClient {
  return clientParts(config, options).client;
}

/** The client, and the HTTPS agent it was given (when there is one) to destroy on close. */
function clientParts(
  config: AzureKeyVaultConfig,
  options: { name?: string; dataDir?: string },
): { client: SecretClient; agent: Agent | undefined } {
  const ca = trustedCertificates(config, options.dataDir ?? process.cwd(), options.name ?? 'azure');
  const timeout = requestTimeoutPolicy(config.requestTimeoutMs);
  // With extra CAs, one agent and one TLS context for both clients: handing the SDK `ca` instead
  // would parse Node's ~140 root certificates again for every new connection, on the event loop.
  const agent =
    ca === undefined
      ? undefined
      : new Agent({ keepAlive: true, maxSockets, secureContext: createSecureContext({ ca }) });
  const common = {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [timeout],
    ...(agent === undefined ? {} : { agent }),
  };
  const credentialOptions: DefaultAzureCredentialClientIdOptions = {
    ...common,
    ...(config.authorityHost === undefined ? {} : { authorityHost: config.authorityHost }),
    ...(config.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
  } as DefaultAzureCredentialClientIdOptions;
  const credential = new DefaultAzureCredential(credentialOptions);
  const client = new SecretClient(config.vaultUrl.replace(/\/+$/, ''), credential, {
    ...common,
    userAgentOptions: { userAgentPrefix: 'coffer' },
    ...(config.serviceVersion === undefined ? {} : { serviceVersion: config.serviceVersion }),
    ...(config.disableChallengeResourceVerification ? { disableChallengeResourceVerification: true } : {}),
  } as SecretClientOptions);
  return { client, agent };
}

/**
 * Azure Key Vault as a Coffer backend (`type: azure-key-vault`).
 *
 * @example
 * // coffer.json
 * { "backends": { "azure": { "type": "azure-key-vault", "vaultUrl": "https://acme-prod.vault.azure.net" } }, "backend": "azure" }
 */
export const azureKeyVaultBackendDefinition: BackendDefinition<AzureKeyVaultConfig> = defineBackend({
  id: azureKeyVaultType,
  displayName: 'Azure Key Vault',
  description:
    'Values in Azure Key Vault secrets: one secret per Coffer secret, named by cluster prefix and secret id, each Coffer version a Key Vault version found by its tags.',
  configSchema:
    azureKeyVaultConfigSchema as unknown as BackendDefinition<AzureKeyVaultConfig>['configSchema'],
  capabilities: azureKeyVaultCapabilities,
  create: (config, context) => {
    const { client, agent } = clientParts(config, { name: context.name, dataDir: context.dataDir });
    return new AzureKeyVaultBackend(client as unknown as SecretClientLike, config, context, () =>
      agent?.destroy(),
    );
  },
});

export default azureKeyVaultBackendDefinition;
