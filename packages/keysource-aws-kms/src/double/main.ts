#!/usr/bin/env node
import { awsEnvironmentHeading } from '@coffer/aws-store-kit/double';
import { runDoubleMain } from '@coffer/core/doubles';
import { startKmsDouble } from './index.js';

/**
 * A local AWS KMS double for trying Coffer's `aws-kms` key source without an AWS account:
 * `node packages/keysource-aws-kms/dist/double/main.js [--port N] [--no-throttle]`. It prints the
 * keyring settings and the environment to give Coffer, and runs until stopped.
 */
await runDoubleMain({
  start: startKmsDouble,
  title: (double) => `AWS KMS double listening on ${double.url} (key ${double.keyArn})`,
  settings: (double) => ({
    heading: 'Keyring settings for Coffer (keyring):',
    value: { source: 'aws-kms', ...double.settings },
  }),
  environment: awsEnvironmentHeading,
});
