// The AWS environment a double needs, the independent Debian clients (awscli, boto3) that keep
// the doubles honest, and the helpers of the engine fault tests.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The credential and region variables a test sets, so they can be put back. */
const awsEnvNames = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
] as const;

/**
 * Sets `env` in process.env (clearing the other AWS variables) and returns a function that
 * restores what was there.
 *
 * @example
 * const restore = useAwsEnv(double.env);
 */
export function useAwsEnv(env: Record<string, string>): () => void {
  const saved = new Map(awsEnvNames.map((n) => [n, process.env[n]]));
  for (const n of awsEnvNames) delete process.env[n];
  Object.assign(process.env, env);
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

/** Debian's awscli, called by its absolute path (the PATH may hold another). */
export const awsCliPath = '/usr/bin/aws';
/** Debian's Python, which has python3-boto3 (a pyenv python3 on PATH does not). */
export const debianPython = '/usr/bin/python3';

/**
 * Which independent clients are installed. Missing ones are skipped with a printed reason,
 * except in CI (`CI=true`), where a missing client fails the run.
 */
export async function independentAwsClients(): Promise<{ cli: boolean; boto3: boolean }> {
  const cli = existsSync(awsCliPath);
  let boto3 = false;
  if (existsSync(debianPython)) {
    try {
      await run(debianPython, ['-c', 'import boto3'], { timeout: 20_000 });
      boto3 = true;
    } catch {
      boto3 = false;
    }
  }
  if (process.env.CI === 'true' && (!cli || !boto3)) {
    throw new Error(
      `CI is set but the independent clients are missing: ${awsCliPath} ${cli}, boto3 ${boto3} (apt install awscli python3-boto3)`,
    );
  }
  if (!cli) console.log(`skipping the awscli checks: ${awsCliPath} is not installed (apt install awscli)`);
  if (!boto3)
    console.log(`skipping the boto3 checks: ${debianPython} cannot import boto3 (apt install python3-boto3)`);
  return { cli, boto3 };
}

/** What a double offers a client process: its URL and the environment that reaches it. */
export interface ReachableDouble {
  url: string;
  env: Record<string, string>;
}

/**
 * Settings for an AWS SDK client that talks to a double directly, with the double's keys and
 * region and no retries (a test sees every answer as it came).
 *
 * @example
 * const sdk = new SSMClient(sdkSettingsFor(double));
 */
export function sdkSettingsFor(double: ReachableDouble) {
  return {
    region: double.env.AWS_REGION ?? 'us-east-1',
    endpoint: double.url,
    credentials: {
      accessKeyId: double.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: double.env.AWS_SECRET_ACCESS_KEY ?? '',
    },
    maxAttempts: 1,
  };
}

/** A client process's environment: the double's, no shared AWS config, no pager. */
export function clientEnv(double: ReachableDouble, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: '/nonexistent',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    ...double.env,
    ...extra,
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `aws <service> <args> --endpoint-url <double> --output json`.
 *
 * @example
 * const out = await awsCli(double, 'ssm', ['get-parameter', '--name', '/a']);
 */
export async function awsCli(
  double: ReachableDouble,
  service: string,
  args: readonly string[],
  extra: Record<string, string> = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      awsCliPath,
      [service, ...args, '--endpoint-url', double.url, '--output', 'json'],
      { env: clientEnv(double, extra), timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** {@link awsCli} that must succeed, its JSON output parsed (`{}` when it printed nothing). */
export async function awsCliJson(
  double: ReachableDouble,
  service: string,
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const out = await awsCli(double, service, args);
  if (out.code !== 0) throw new Error(`aws ${service} ${args[0]} exited ${out.code}: ${out.stderr}`);
  return out.stdout.trim() === '' ? {} : (JSON.parse(out.stdout) as Record<string, unknown>);
}

/** Runs a Python script with Debian's python3 against the double (`DOUBLE_URL` set); its stdout parsed as JSON. */
export async function runBoto3(double: ReachableDouble, script: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(debianPython, ['-c', script], {
    env: { ...clientEnv(double), DOUBLE_URL: double.url },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** An error with everything it carries (message, stack, details, causes) as one text to scan. */
export function everythingIn(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; details?: unknown; cause?: unknown };
  return [
    e.name,
    e.message,
    e.stack,
    JSON.stringify(e.details ?? {}),
    String(e.code),
    everythingIn(e.cause ?? ''),
  ].join('\n');
}

/** The error `promise` rejects with; fails when it resolves. */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error('expected the operation to fail');
}
