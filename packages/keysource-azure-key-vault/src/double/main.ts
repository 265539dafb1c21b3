#!/usr/bin/env node
import { startKeyVaultKeysDouble } from './index.js';

/**
 * A local Azure Key Vault (keys) double for trying Coffer's `azure-key-vault` key source without
 * an Azure subscription: `node packages/keysource-azure-key-vault/dist/double/main.js [--port N]
 * [--no-throttle]`. It prints the keyring settings and the environment to give Coffer, and runs
 * until stopped.
 */
const at = process.argv.indexOf('--port');
const portText = at === -1 ? undefined : process.argv[at + 1];
const port = portText === undefined ? undefined : Number(portText);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
  process.stderr.write('--port takes a port number\n');
  process.exit(2);
}
const double = await startKeyVaultKeysDouble({
  throttle: !process.argv.includes('--no-throttle'),
  ...(port === undefined ? {} : { port }),
});
const lines = [
  `Azure Key Vault (keys) double listening on ${double.url} (key ${double.keyId})`,
  '',
  'Keyring settings for Coffer (keyring):',
  JSON.stringify({ source: 'azure-key-vault', ...double.settings }, null, 2),
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
