import type { AwsDoubleOptions, AwsStoreDoubleHandle } from './aws-double.js';

/**
 * The body of a double's `main.ts`: reads `--port N` and `--no-throttle`, starts the double,
 * prints the backend settings and the environment to give Coffer, and runs until SIGINT/SIGTERM.
 *
 * @example
 * await runDoubleMain({ title: 'AWS SSM Parameter Store', type: 'aws-ssm', start: startStoreDouble });
 */
export async function runDoubleMain(options: {
  /** The service's name in the first line printed. */
  title: string;
  /** The backend type the printed settings are for. */
  type: string;
  start(options: AwsDoubleOptions): Promise<AwsStoreDoubleHandle>;
  argv?: readonly string[];
}): Promise<void> {
  const argv = options.argv ?? process.argv;
  const at = argv.indexOf('--port');
  const portText = at === -1 ? undefined : argv[at + 1];
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    process.stderr.write('--port takes a port number\n');
    process.exit(2);
  }
  const double = await options.start({
    throttle: !argv.includes('--no-throttle'),
    ...(port === undefined ? {} : { port }),
  });
  const lines = [
    `${options.title} double listening on ${double.url}`,
    '',
    'Backend settings for Coffer (backends.<name>):',
    JSON.stringify({ type: options.type, ...double.settings }, null, 2),
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
}
