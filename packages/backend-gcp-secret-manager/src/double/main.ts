#!/usr/bin/env node
import { runDoubleMain } from '@coffer/gcp-kit/double';
import { startStoreDouble } from './index.js';

/**
 * A local Google Cloud Secret Manager double for trying Coffer without a Google Cloud project:
 * `node packages/backend-gcp-secret-manager/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the backend settings and the environment to give Coffer, and runs until stopped.
 */
await runDoubleMain({
  start: startStoreDouble,
  title: (double) => `Google Cloud Secret Manager double listening on ${double.url}`,
  settings: (double) => ({
    heading: 'Backend settings for Coffer (backends.<name>):',
    value: { type: 'gcp-secret-manager', ...double.settings },
  }),
});
