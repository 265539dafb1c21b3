#!/usr/bin/env node
import { doubleTokens } from '@coffer/backend-vault/double';
import { runDoubleMain } from '@coffer/core/doubles';
import { startTransitDouble } from './index.js';

/**
 * A local Vault with a Transit key for trying Coffer's `vault-transit` key source without a Vault
 * server: `node packages/keysource-vault-transit/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the keyring settings and the environment to give Coffer, and runs until stopped.
 */
await runDoubleMain({
  start: startTransitDouble,
  title: (double) => `HashiCorp Vault double listening on ${double.url} (Transit key ${double.keyId})`,
  settings: (double) => ({
    heading: 'Keyring settings for Coffer (keyring):',
    value: { source: 'vault-transit', ...double.keyring },
  }),
  environment: 'Environment (a token whose policy covers Transit):',
  more: () => [
    '',
    `Root token: ${doubleTokens.root}   read-only token (decrypt only): ${doubleTokens.readOnly}`,
  ],
});
