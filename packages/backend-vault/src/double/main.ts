#!/usr/bin/env node
import { doubleTokens, startStoreDouble } from './index.js';

/**
 * A local HashiCorp Vault double for trying Coffer without a Vault server:
 * `node packages/backend-vault/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the backend settings and the environment to give Coffer (or the `vault` CLI, hvac),
 * and runs until stopped.
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
  `HashiCorp Vault double listening on ${double.url} (KV v2 at secret/, Transit at transit/)`,
  '',
  'Backend settings for Coffer (backends.<name>):',
  JSON.stringify({ type: 'vault-kv', ...double.settings }, null, 2),
  '',
  'Environment (a token with the coffer-rw policy):',
  ...Object.entries(double.env).map(([k, v]) => `export ${k}=${v}`),
  '',
  `Root token: ${doubleTokens.root}   read-only token: ${doubleTokens.readOnly}`,
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
