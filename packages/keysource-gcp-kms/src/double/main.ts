#!/usr/bin/env node
import { runDoubleMain } from '@coffer/gcp-kit/double';
import { startCloudKmsDouble } from './index.js';

/**
 * A local Google Cloud KMS double for trying Coffer's `gcp-kms` key source without a Google Cloud
 * project: `node packages/keysource-gcp-kms/dist/double/main.js [--port N] [--no-throttle]`. It
 * prints the keyring settings and the environment to give Coffer, and runs until stopped.
 */
await runDoubleMain({
  start: startCloudKmsDouble,
  title: (double) => `Google Cloud KMS double listening on ${double.url} (key ${double.keyName})`,
  settings: (double) => ({
    heading: 'Keyring settings for Coffer (keyring):',
    value: { source: 'gcp-kms', ...double.settings },
  }),
});
