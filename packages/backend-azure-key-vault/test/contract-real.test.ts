import { randomBytes } from 'node:crypto';
import azureKeyVault, { createSecretClient } from '@coffer/backend-azure-key-vault';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import { describe, it } from 'vitest';

// The contract against a real Azure Key Vault, when asked for:
//   COFFER_TEST_AZURE_VAULT_URL  the vault, e.g. https://coffer-ct.vault.azure.net (required to run)
//   COFFER_TEST_AZURE_PREFIX     cluster prefix of the test's secrets (default: coffer-ct-<random>)
//   COFFER_TEST_AZURE_PURGE      "false" leaves deleted secrets to the vault's retention instead of
//                                purging them (for a vault with purge protection, or without the
//                                purge permission)
// Credentials come from DefaultAzureCredential: AZURE_TENANT_ID, AZURE_CLIENT_ID and
// AZURE_CLIENT_SECRET of a service principal with "Key Vault Secrets Officer" on the vault (or
// `az login`, a managed identity, workload identity). Every secret the run made is deleted
// afterwards (and purged unless COFFER_TEST_AZURE_PURGE=false).
const vaultUrl = process.env.COFFER_TEST_AZURE_VAULT_URL;

if (vaultUrl === undefined || vaultUrl === '') {
  console.log(
    'skipping the contract against a real Azure Key Vault: set COFFER_TEST_AZURE_VAULT_URL (and AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) to run it',
  );
  describe.skip('backend contract: azure-key-vault (real service; COFFER_TEST_AZURE_VAULT_URL is not set)', () => {
    it('runs only with COFFER_TEST_AZURE_VAULT_URL set', () => {});
  });
} else {
  const clusterPrefix = process.env.COFFER_TEST_AZURE_PREFIX ?? `coffer-ct-${randomBytes(4).toString('hex')}`;
  const purgeDeleted = process.env.COFFER_TEST_AZURE_PURGE !== 'false';
  const config = azureKeyVault.configSchema.parse({ vaultUrl, purgeDeleted });

  async function removeEverything(): Promise<void> {
    const client = createSecretClient(config);
    for await (const secret of client.listPropertiesOfSecrets()) {
      if (!secret.name.startsWith(`${clusterPrefix}-`)) continue;
      const poller = await client.beginDeleteSecret(secret.name);
      await poller.pollUntilDone();
      if (purgeDeleted) await client.purgeDeletedSecret(secret.name).catch(() => {});
    }
  }

  runBackendContract({
    name: `azure-key-vault (real service, ${vaultUrl}, prefix ${clusterPrefix})`,
    listEntries: 1000,
    timeoutMs: 1_800_000,
    create: async () => {
      const made = await createContractContext({ name: 'azure', clusterPrefix });
      const backend = await azureKeyVault.create(config, made.context);
      return {
        backend,
        cleanup: async () => {
          await removeEverything();
          await made.close();
        },
      };
    },
  });
}
