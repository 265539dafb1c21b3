#!/usr/bin/env node
import { startStoreDouble } from './index.js';

/**
 * A local Azure Key Vault double for trying Coffer without an Azure subscription:
 * `node packages/backend-azure-key-vault/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the backend settings and the environment to give Coffer, and runs until stopped.
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
  ...(port === undefined ? {} : { port }),
});
const lines = [
  `Azure Key Vault double listening on ${double.url}`,
  '',
  'Backend settings for Coffer (backends.<name>):',
  JSON.stringify({ type: 'azure-key-vault', ...double.settings }, null, 2),
  '',
  'Environment for DefaultAzureCredential:',
  ...Object.entries(double.env).map(([k, v]) => `export ${k}=${v}`),
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
