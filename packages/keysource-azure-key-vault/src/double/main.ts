#!/usr/bin/env node
import { runDoubleMain } from '@coffer/azure-kit/double';
import { startKeyVaultKeysDouble } from './index.js';

/**
 * A local Azure Key Vault (keys) double for trying Coffer's `azure-key-vault` key source without
 * an Azure subscription: `node packages/keysource-azure-key-vault/dist/double/main.js [--port N]
 * [--no-throttle]`. It prints the keyring settings and the environment to give Coffer, and runs
 * until stopped.
 */
await runDoubleMain({
  start: startKeyVaultKeysDouble,
  title: (double) => `Azure Key Vault (keys) double listening on ${double.url} (key ${double.keyId})`,
  settings: (double) => ({
    heading: 'Keyring settings for Coffer (keyring):',
    value: { source: 'azure-key-vault', ...double.settings },
  }),
});
