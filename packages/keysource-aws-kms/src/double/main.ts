#!/usr/bin/env node
import { startKmsDouble } from './index.js';

/**
 * A local AWS KMS double for trying Coffer's `aws-kms` key source without an AWS account:
 * `node packages/keysource-aws-kms/dist/double/main.js [--port N] [--no-throttle]`. It prints the
 * keyring settings and the environment to give Coffer, and runs until stopped.
 */
const at = process.argv.indexOf('--port');
const portText = at === -1 ? undefined : process.argv[at + 1];
const port = portText === undefined ? undefined : Number(portText);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
  process.stderr.write('--port takes a port number\n');
  process.exit(2);
}
const double = await startKmsDouble({
  throttle: !process.argv.includes('--no-throttle'),
  ...(port === undefined ? {} : { port }),
});
const lines = [
  `AWS KMS double listening on ${double.url} (key ${double.keyArn})`,
  '',
  'Keyring settings for Coffer (keyring):',
  JSON.stringify({ source: 'aws-kms', ...double.settings }, null, 2),
  '',
  'Environment for the AWS credential chain:',
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
