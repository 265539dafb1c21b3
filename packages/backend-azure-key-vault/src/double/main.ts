#!/usr/bin/env node
import { runDoubleMain } from '@coffer/azure-kit/double';
import { startStoreDouble } from './index.js';

/**
 * A local Azure Key Vault double for trying Coffer without an Azure subscription:
 * `node packages/backend-azure-key-vault/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the backend settings and the environment to give Coffer, and runs until stopped.
 */
await runDoubleMain({
  start: startStoreDouble,
  title: (double) => `Azure Key Vault double listening on ${double.url}`,
  settings: (double) => ({
    heading: 'Backend settings for Coffer (backends.<name>):',
    value: { type: 'azure-key-vault', ...double.settings },
  }),
});
