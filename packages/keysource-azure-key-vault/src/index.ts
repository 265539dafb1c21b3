import { DefaultAzureCredential, type DefaultAzureCredentialClientIdOptions } from '@azure/identity';
import {
  CryptographyClient,
  type CryptographyClientOptions,
  KeyClient,
  type KeyVaultKey,
} from '@azure/keyvault-keys';
import { keyVaultClientParts, trustedCertificates } from '@coffer/azure-kit';
import { defineKeySource, type KeySourceDefinition } from '@coffer/core';
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

/**
 * The SDK clients of the key source: `DefaultAzureCredential` (the vendor's usual chain; nothing
 * of it is stored by Coffer), a `KeyClient` for the key's versions and rotation, and a
 * `CryptographyClient` per key version for `wrapKey`/`unwrapKey`; the SDK's retries off (Coffer's
 * retry layer is the one), a time limit on every request, and the trust and authority settings of
 * the config. `caCertificatesFile` is read here, at start, for one HTTPS agent that the vault's
 * and Entra ID's requests share; TLS verification is never turned off.
 */
export function createKeyVaultClients(config: AzureKeyVaultKeysConfig): KeyVaultClients {
  const ca =
    config.caCertificatesFile === undefined
      ? undefined
      : trustedCertificates(config.caCertificatesFile, 'keyring.caCertificatesFile', 'keyring');
  const parts = keyVaultClientParts(config, { maxSockets, ca });
  const credential = new DefaultAzureCredential(
    parts.credentialOptions as DefaultAzureCredentialClientIdOptions,
  );
  const clientOptions = parts.clientOptions as CryptographyClientOptions;
  const keys = new KeyClient(parts.vaultUrl, credential, clientOptions);
  return {
    keys: keys as unknown as KeyVaultClients['keys'],
    crypto: (key: KeyVaultKeyLike | string): CryptographyClientLike =>
      new CryptographyClient(key as KeyVaultKey | string, credential, clientOptions),
    close: () => parts.agent?.destroy(),
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
