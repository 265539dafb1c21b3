#!/usr/bin/env node
import { runDoubleMain } from '@coffer/core/doubles';
import { doubleTokens, startStoreDouble } from './index.js';

/**
 * A local HashiCorp Vault double for trying Coffer without a Vault server:
 * `node packages/backend-vault/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the backend settings and the environment to give Coffer (or the `vault` CLI, hvac),
 * and runs until stopped.
 */
await runDoubleMain({
  start: startStoreDouble,
  title: (double) =>
    `HashiCorp Vault double listening on ${double.url} (KV v2 at secret/, Transit at transit/)`,
  settings: (double) => ({
    heading: 'Backend settings for Coffer (backends.<name>):',
    value: { type: 'vault-kv', ...double.settings },
  }),
  environment: 'Environment (a token with the coffer-rw policy):',
  more: () => ['', `Root token: ${doubleTokens.root}   read-only token: ${doubleTokens.readOnly}`],
});
