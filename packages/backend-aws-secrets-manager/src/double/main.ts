#!/usr/bin/env node
import { runDoubleMain } from '@coffer/aws-store-kit/double';
import { startStoreDouble } from './index.js';

// A local AWS Secrets Manager for trying Coffer without an AWS account:
// `node packages/backend-aws-secrets-manager/dist/double/main.js [--port N] [--no-throttle]`
// prints the backend settings and the environment to give Coffer, and runs until stopped.
await runDoubleMain({ title: 'AWS Secrets Manager', type: 'aws-secrets-manager', start: startStoreDouble });
