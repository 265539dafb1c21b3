#!/usr/bin/env node
import { runDoubleMain } from '@coffer/core/doubles';
import { startStoreDouble } from './index.js';

/**
 * A local Kubernetes API server for Secrets, for trying Coffer without a cluster:
 * `node packages/backend-kubernetes/dist/double/main.js [--port N] [--no-throttle] [--no-tls]`.
 * It prints the backend settings and a kubeconfig for kubectl, and runs until stopped.
 */
await runDoubleMain({
  start: (options) => startStoreDouble({ ...options, tls: !process.argv.includes('--no-tls') }),
  title: (double) => `Kubernetes API double listening on ${double.url}`,
  settings: (double) => ({
    heading: 'Backend settings for Coffer (backends.<name>):',
    value: { type: 'kubernetes', ...double.settings },
  }),
  environment: 'kubectl:',
  more: (double) => [
    'kubectl get secrets -l app.kubernetes.io/managed-by=coffer',
    `kubectl --context ${double.faults.kubeconfig.contexts.readOnly} get secrets   # a read-only service account`,
  ],
});
