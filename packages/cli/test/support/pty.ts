// A real pseudo-terminal for the CLI, through util-linux `script` (in every Debian): what the
// CLI prints and what the terminal echoes come back on one stream, exactly as a user sees it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { binPath } from './cli-process.js';

/** True when `script` is installed (util-linux). */
export function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PtySession {
  child: ChildProcess;
  /** Everything the terminal showed so far (program output and echoed input). */
  screen(): string;
  /** Types text (as a user would: `\r` is Enter). */
  type(text: string): void;
  /** Waits until the screen matches, from `from` on. */
  waitFor(pattern: RegExp, from?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Runs `coffer args...` on a pseudo-terminal: standard input, output and error are all the
 * terminal. `script -e` exits with the command's exit code.
 */
export function ptyCoffer(
  args: readonly string[],
  env: Record<string, string>,
  options: { stdoutToFile?: string } = {},
): PtySession {
  const redirect = options.stdoutToFile === undefined ? '' : ` > ${shellQuote(options.stdoutToFile)}`;
  const command = `exec ${[process.execPath, binPath, ...args].map(shellQuote).join(' ')}${redirect}`;
  const child = spawn('script', ['-q', '-f', '-e', '-c', command, '/dev/null'], {
    env: { ...env, TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    screen += c;
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    screen += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exited.then(() => clearTimeout(timer));
  return {
    child,
    screen: () => screen,
    type: (text) => {
      child.stdin!.write(text);
    },
    async waitFor(pattern, from = 0) {
      const deadline = Date.now() + 15_000;
      while (!pattern.test(screen.slice(from))) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`the terminal never showed ${pattern}; it shows:\n${JSON.stringify(screen)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    exited,
  };
}
