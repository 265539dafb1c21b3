#!/usr/bin/env node
import { doubleTokens } from '@coffer/backend-vault/double';
import { startTransitDouble } from './index.js';

/**
 * A local Vault with a Transit key for trying Coffer's `vault-transit` key source without a Vault
 * server: `node packages/keysource-vault-transit/dist/double/main.js [--port N] [--no-throttle]`.
 * It prints the keyring settings and the environment to give Coffer, and runs until stopped.
 */
const at = process.argv.indexOf('--port');
const portText = at === -1 ? undefined : process.argv[at + 1];
const port = portText === undefined ? undefined : Number(portText);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
  process.stderr.write('--port takes a port number\n');
  process.exit(2);
}
const double = await startTransitDouble({
  throttle: !process.argv.includes('--no-throttle'),
  ...(port === undefined ? {} : { port }),
});
const lines = [
  `HashiCorp Vault double listening on ${double.url} (Transit key ${double.keyId})`,
  '',
  'Keyring settings for Coffer (keyring):',
  JSON.stringify({ source: 'vault-transit', ...double.keyring }, null, 2),
  '',
  'Environment (a token whose policy covers Transit):',
  ...Object.entries(double.env).map(([k, v]) => `export ${k}=${v}`),
  '',
  `Root token: ${doubleTokens.root}   read-only token (decrypt only): ${doubleTokens.readOnly}`,
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
