/** What {@link runDoubleMain} needs of the double it starts. */
export interface RunnableDouble {
  url: string;
  /** The environment to give Coffer (credentials, endpoints), printed as `export K=V` lines. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** What `--port N` and `--no-throttle` ask of the double. */
export interface DoubleStartOptions {
  throttle: boolean;
  port?: number;
}

export interface DoubleMainOptions<Double extends RunnableDouble> {
  start(options: DoubleStartOptions): Promise<Double>;
  /** The first line printed: what listens where. */
  title(double: Double): string;
  /** Where Coffer takes the settings (`Backend settings for Coffer (backends.<name>):`), and the settings. */
  settings(double: Double): { heading: string; value: Record<string, unknown> };
  /** The line above the environment (`Environment for the AWS credential chain:`). */
  environment: string;
  /** Lines printed after the environment (a root token, kubectl commands). */
  more?(double: Double): readonly string[];
  argv?: readonly string[];
}

/**
 * The body of a double's `main.ts`: reads `--port N` and `--no-throttle`, starts the double,
 * prints the settings and the environment to give Coffer, and runs until SIGINT/SIGTERM
 * (exit 0 once closed, 1 if closing failed). A bad `--port` exits 2.
 *
 * @example
 * await runDoubleMain({
 *   start: startStoreDouble,
 *   title: (d) => `HashiCorp Vault double listening on ${d.url}`,
 *   settings: (d) => ({ heading: 'Backend settings for Coffer (backends.<name>):', value: { type: 'vault-kv', ...d.settings } }),
 *   environment: 'Environment (a token with the coffer-rw policy):',
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
    options.environment,
    ...Object.entries(double.env).map(([k, v]) => `export ${k}=${v}`),
    ...(options.more?.(double) ?? []),
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

/** What a vendor kit's `runDoubleMain` takes: all but the environment heading, which the kit knows. */
export type VendorDoubleMainOptions<Double extends RunnableDouble> = Omit<
  DoubleMainOptions<Double>,
  'environment'
>;

/**
 * A {@link runDoubleMain} for one vendor's doubles, all printing the same environment heading.
 *
 * @example
 * export const runDoubleMain = doubleMainFor('Environment for DefaultAzureCredential:');
 */
export function doubleMainFor(
  environment: string,
): <Double extends RunnableDouble>(options: VendorDoubleMainOptions<Double>) => Promise<void> {
  return (options) => runDoubleMain({ ...options, environment });
}
