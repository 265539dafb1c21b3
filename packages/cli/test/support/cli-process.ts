// Runs the real, built `coffer` binary (`node packages/cli/dist/bin.js`) as a child process,
// against a real server process started with the server's own test support.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPackageBuilt } from '@coffer/core/test-support';
import { type ServerProcess, startServer, tempDir } from '../../../server/test/support/server-process.js';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
export const binPath = join(packageDir, 'dist', 'bin.js');

/** The tests drive the built package; a stale build would test old code, so say so plainly. */
export function assertCliBuilt(): void {
  assertPackageBuilt(packageDir, 'packages/cli');
}

/** The test process's environment without Coffer's own variables, so none leaks in. */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && (!e[0].startsWith('COFFER_') || e[0].startsWith('COFFER_TEST_')),
    ),
  );
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Written to standard input, which is then closed (closed at once without it). */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** A started `coffer` process that runs on (run, server, watch). */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the output so far matches `pattern`. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpExecArray>;
  done: Promise<CliResult>;
}

const started: ChildProcess[] = [];

function merged(
  base: Record<string, string>,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const env = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `coffer args...` and collects its output. */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string>,
  options: RunOptions = {},
): CliProcess {
  assertCliBuilt();
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  child.stdin!.on('error', () => {});
  if (options.input !== undefined) child.stdin!.end(options.input);
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  void done.then(() => clearTimeout(timer));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    async waitFor(pattern, stream = 'stdout', timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stream === 'stdout' ? out : err);
        if (match !== null) return match;
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in ${stream}.\nstdout:\n${out}\nstderr:\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/**
 * The CLI as one user runs it: their own config directory (XDG_CONFIG_HOME) and cache directory
 * (XDG_CACHE_HOME, inside the config one unless given, so `coffer run`'s offline snapshots never
 * land in the real home), the server's address in COFFER_ADDR unless told otherwise.
 */
export class Cli {
  readonly env: Record<string, string>;
  readonly configHome: string;

  constructor(env: Record<string, string | undefined> = {}, configHome = tempDir('coffer-cli-config-')) {
    this.configHome = configHome;
    mkdirSync(configHome, { recursive: true });
    this.env = merged(cleanEnv(), {
      XDG_CONFIG_HOME: configHome,
      XDG_CACHE_HOME: join(configHome, 'cache'),
      ...env,
    });
  }

  /** Where `coffer run` keeps its offline snapshots for this user. */
  get fallbackDir(): string {
    return join(this.env.XDG_CACHE_HOME!, 'coffer', 'fallback');
  }

  /** The same user with other variables (undefined removes one). */
  with(env: Record<string, string | undefined>): Cli {
    return new Cli({ ...this.env, ...env }, this.configHome);
  }

  get configFile(): string {
    return join(this.configHome, 'coffer', 'config.json');
  }

  spawn(args: readonly string[], options: RunOptions = {}): CliProcess {
    if (options.input === undefined) options = { ...options, input: '' };
    return spawnCli(args, merged(this.env, options.env), options);
  }

  run(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
    return this.spawn(args, options).done;
  }

  /** Runs with `--json`, expects exit code 0, and parses standard output. */
  // biome-ignore lint/suspicious/noExplicitAny: tests look into the documented JSON shapes
  async json(args: readonly string[], options: RunOptions = {}): Promise<any> {
    const result = await this.run([...args, '--json'], options);
    if (result.code !== 0)
      throw new Error(`coffer ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  /** Runs, expects exit code 0, returns standard output. */
  async ok(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0)
      throw new Error(`coffer ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result.stdout;
  }
}

export const adminPassword = 'cli test admin password';

/** A real server (SQLite in a temporary directory) with a known admin password. */
export function startTestServer(env: Record<string, string | undefined> = {}): Promise<ServerProcess> {
  return startServer({ env: { COFFER_ADMIN_PASSWORD: adminPassword, COFFER_LOG_LEVEL: 'warn', ...env } });
}

/** A server and the admin logged in through `coffer login`. */
export async function serverWithAdmin(
  env: Record<string, string | undefined> = {},
): Promise<{ server: ServerProcess; admin: Cli }> {
  const server = await startTestServer(env);
  const admin = new Cli({ COFFER_ADDR: server.url });
  await admin.ok(['login', '--username', 'admin', '--password-stdin'], { input: `${adminPassword}\n` });
  return { server, admin };
}

/** Kills every `coffer` process the tests left running. */
export function killCliProcesses(): void {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
