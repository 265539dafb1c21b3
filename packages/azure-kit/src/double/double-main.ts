/** What a double's `main.ts` needs of the double it starts. */
export interface RunnableDouble {
  url: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface DoubleMainOptions<Double extends RunnableDouble> {
  start(options: { throttle: boolean; port?: number }): Promise<Double>;
  /** The first line printed: what listens where. */
  title(double: Double): string;
  /** Where Coffer takes the settings (`Backend settings for Coffer (backends.<name>):`), and the settings. */
  settings(double: Double): { heading: string; value: Record<string, unknown> };
  argv?: readonly string[];
}

/**
 * The body of an Azure double's `main.ts`: reads `--port N` and `--no-throttle`, starts
 * the double, prints the settings and the environment to give Coffer, and runs until
 * SIGINT/SIGTERM.
 *
 * @example
 * await runDoubleMain({
 *   start: startStoreDouble,
 *   title: (d) => `Azure Key Vault double listening on ${d.url}`,
 *   settings: (d) => ({ heading: 'Backend settings for Coffer (backends.<name>):', value: { type: 'azure-key-vault', ...d.settings } }),
 * });
 */
export async function runDoubleMain<Double extends RunnableDouble>(
  options: DoubleMainOptions<Double>,
): Promise<void> {
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
  const { heading, value } = options.settings(double);
  const lines = [
    options.title(double),
    '',
    heading,
    JSON.stringify(value, null, 2),
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
}
