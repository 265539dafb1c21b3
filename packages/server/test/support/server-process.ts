import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPackageBuilt } from '@coffer/core/test-support';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
export const mainPath = join(packageDir, 'dist', 'main.js');

/** The tests drive the built package; a stale build would test old code, so say so plainly. */
export function assertBuilt(): void {
  assertPackageBuilt(packageDir, 'packages/server');
}

export interface ServerProcess {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/api/v1` */
  api: string;
  dataDir: string | undefined;
  process: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Sends the signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code when the process ends by itself. */
  exited: Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Defaults to a fresh temporary directory (removed by `cleanup`); null leaves COFFER_DATA_DIR unset. */
  dataDir?: string | null;
  cwd?: string;
  timeoutMs?: number;
}

const started: ServerProcess[] = [];
const tempDirs: string[] = [];

/** A fresh temporary directory, removed by {@link cleanupServers}. */
export function tempDir(prefix = 'coffer-server-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** The environment of the test process without Coffer's own settings, so they cannot leak in. */
function withoutUnset(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

function baseEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_') || k.startsWith('COFFER_TEST_')),
  );
}

/**
 * Starts `node packages/server/dist/main.js` on a free port (COFFER_PORT=0) and waits for the
 * URL it prints.
 */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  assertBuilt();
  const dataDir = options.dataDir === null ? undefined : (options.dataDir ?? join(tempDir(), 'data'));
  const child = spawn(process.execPath, [mainPath], {
    cwd: options.cwd ?? packageDir,
    env: withoutUnset({
      ...baseEnv(),
      COFFER_PORT: '0',
      ...(dataDir === undefined ? {} : { COFFER_DATA_DIR: dataDir }),
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in time.\nstdout:\n${out}\nstderr:\n${err}`)),
      options.timeoutMs ?? 20_000,
    );
    const check = () => {
      const match = /Coffer is running at (\S+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it started.\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  const server: ServerProcess = {
    url,
    api: `${url}/api/v1`,
    dataDir,
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  started.push(server);
  return server;
}

/** Runs main.js expecting it to fail at start; resolves with its exit code and output. */
export async function startFailing(
  env: Record<string, string | undefined>,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  const child = spawn(process.execPath, [mainPath], {
    cwd: cwd ?? packageDir,
    env: withoutUnset({ ...baseEnv(), COFFER_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Stops every server the tests started and removes temporary directories. */
export async function cleanupServers(): Promise<void> {
  await Promise.all(started.splice(0).map((s) => s.stop('SIGKILL')));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
