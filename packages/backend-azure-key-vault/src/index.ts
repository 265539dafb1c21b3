import type { Agent } from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import { DefaultAzureCredential, type DefaultAzureCredentialClientIdOptions } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { keyVaultClientParts, trustedCertificates } from '@coffer/azure-kit';
import { type BackendDefinition, defineBackend } from '@coffer/core';
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
  const caFile = config.caCertificatesFile;
  const ca =
    caFile === undefined
      ? undefined
      : trustedCertificates(
          isAbsolute(caFile) ? caFile : resolve(options.dataDir ?? process.cwd(), caFile),
          `backends.${options.name ?? 'azure'}.caCertificatesFile`,
          'backend',
        );
  const parts = keyVaultClientParts(config, { maxSockets, ca });
  const credential = new DefaultAzureCredential(
    parts.credentialOptions as DefaultAzureCredentialClientIdOptions,
  );
  const client = new SecretClient(parts.vaultUrl, credential, {
    ...parts.clientOptions,
    ...(config.serviceVersion === undefined ? {} : { serviceVersion: config.serviceVersion }),
  } as SecretClientOptions);
  return { client, agent: parts.agent };
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
