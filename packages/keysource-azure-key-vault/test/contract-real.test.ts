import { runRealKmsChecks } from '@coffer/backend-contract';
import azureKeyVault, {
  AzureKeyVaultKeySource,
  azureKeyVaultKeysConfigSchema,
  createKeyVaultClients,
} from '@coffer/keysource-azure-key-vault';
import { expect } from 'vitest';

// The same checks against a real Azure Key Vault, when a key is given:
//   COFFER_TEST_AZURE_KEY_VAULT_URL=https://<vault>.vault.azure.net
//   COFFER_TEST_AZURE_KEY_NAME=<an RSA key that allows wrapKey and unwrapKey>
// Credentials come from DefaultAzureCredential. The identity needs "Key Vault Crypto Service
// Encryption User" on the key (read, wrap, unwrap); nothing is created, rotated or deleted.
const vaultUrl = process.env.COFFER_TEST_AZURE_KEY_VAULT_URL;
const keyName = process.env.COFFER_TEST_AZURE_KEY_NAME;

runRealKmsChecks({
  title: 'the azure-key-vault key source against real Azure Key Vault',
  configured: vaultUrl !== undefined && vaultUrl !== '' && keyName !== undefined && keyName !== '',
  skipMessage:
    'skipping the real Azure Key Vault checks: set COFFER_TEST_AZURE_KEY_VAULT_URL and COFFER_TEST_AZURE_KEY_NAME to run them',
  bindsTo: 'context',
  definition: azureKeyVault,
  keyring: { source: 'azure-key-vault', vaultUrl, keyName },
  openSource: (ctx) => {
    const config = azureKeyVaultKeysConfigSchema.parse({ vaultUrl, keyName });
    return new AzureKeyVaultKeySource(createKeyVaultClients(config), config, ctx);
  },
  checkKey: (current) => expect(current.keyVersion).toMatch(/^[0-9a-f]{32}$/),
  secret: { name: 'real-azure-key-vault', password: 'real key vault contract' },
});
