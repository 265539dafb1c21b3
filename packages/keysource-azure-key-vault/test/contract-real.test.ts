import { silentLogger } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import {
  AzureKeyVaultKeySource,
  azureKeyVaultKeysConfigSchema,
  createKeyVaultClients,
} from '@coffer/keysource-azure-key-vault';
import { describe, expect, it } from 'vitest';
import { keySourceDefinitions, rejectionOf } from './support.js';

// The same checks against a real Azure Key Vault, when a key is given:
//   COFFER_TEST_AZURE_KEY_VAULT_URL=https://<vault>.vault.azure.net
//   COFFER_TEST_AZURE_KEY_NAME=<an RSA key that allows wrapKey and unwrapKey>
// Credentials come from DefaultAzureCredential. The identity needs "Key Vault Crypto Service
// Encryption User" on the key (read, wrap, unwrap); nothing is created, rotated or deleted.
const vaultUrl = process.env.COFFER_TEST_AZURE_KEY_VAULT_URL;
const keyName = process.env.COFFER_TEST_AZURE_KEY_NAME;
const configured = vaultUrl !== undefined && vaultUrl !== '' && keyName !== undefined && keyName !== '';
if (!configured) {
  console.log(
    'skipping the real Azure Key Vault checks: set COFFER_TEST_AZURE_KEY_VAULT_URL and COFFER_TEST_AZURE_KEY_NAME to run them',
  );
}
const context = {
  'coffer-deployment': 'contract',
  'coffer-secret': 'contract-secret',
  'coffer-version': '1',
};

describe.skipIf(!configured)(
  'the azure-key-vault key source against real Azure Key Vault',
  { timeout: 60_000 },
  () => {
    it('wraps, unwraps and re-wraps data keys only under their context', async () => {
      const config = azureKeyVaultKeysConfigSchema.parse({ vaultUrl, keyName });
      const source = new AzureKeyVaultKeySource(createKeyVaultClients(config), config, {
        logger: silentLogger(),
        clock: () => new Date(),
      });
      try {
        const current = await source.current();
        expect(current.keyVersion).toMatch(/^[0-9a-f]{32}$/);
        const { dataKey, wrapped } = await source.generateDataKey(current, context);
        expect(dataKey.length).toBe(32);
        expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        expect((await rejectionOf(source.unwrap(wrapped, { ...context, 'coffer-version': '2' }))).code).toBe(
          'integrity',
        );
        const moved = await source.rewrap(wrapped, context, current);
        expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
      } finally {
        await source.close();
      }
    });

    it('runs a whole Coffer on the key: create, reveal, restart, reveal', async () => {
      const fx = await createCofferFixture(
        'sqlite',
        { keyring: { source: 'azure-key-vault', vaultUrl, keyName } as never },
        { keySourceDefinitions },
      );
      try {
        const secret = await fx.coffer.secrets.create(fx.admin.actor, {
          name: 'real-azure-key-vault',
          kind: 'generic',
          values: { password: 'real key vault contract' },
        });
        const again = await fx.reopen({ keySourceDefinitions });
        const view = await again.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
        expect(view.values.password).toBe('real key vault contract');
      } finally {
        await fx.close();
      }
    });
  },
);
