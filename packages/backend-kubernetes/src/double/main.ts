#!/usr/bin/env node
import { startStoreDouble } from './index.js';

/**
 * A local Kubernetes API server for Secrets, for trying Coffer without a cluster:
 * `node packages/backend-kubernetes/dist/double/main.js [--port N] [--no-throttle] [--no-tls]`.
 * It prints the backend settings and a kubeconfig for kubectl, and runs until stopped.
 */
function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const portText = argument('--port');
const port = portText === undefined ? undefined : Number(portText);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
  process.stderr.write('--port takes a port number\n');
  process.exit(2);
}
const double = await startStoreDouble({
  throttle: !process.argv.includes('--no-throttle'),
  tls: !process.argv.includes('--no-tls'),
  ...(port === undefined ? {} : { port }),
});
const { kubeconfig } = double.faults;
const lines = [
  `Kubernetes API double listening on ${double.url}`,
  '',
  'Backend settings for Coffer (backends.<name>):',
  JSON.stringify({ type: 'kubernetes', ...double.settings }, null, 2),
  '',
  'kubectl:',
  ...Object.entries(double.env).map(([k, v]) => `export ${k}=${v}`),
  'kubectl get secrets -l app.kubernetes.io/managed-by=coffer',
  `kubectl --context ${kubeconfig.contexts.readOnly} get secrets   # a read-only service account`,
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
const stop = () => {
  double.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
