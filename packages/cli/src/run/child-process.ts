import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CliError } from '../errors/cli-error.js';

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Signals `coffer run` passes on to its child. */
export const forwardedSignals: readonly NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
];

/**
 * The exit code a shell reports for a child: its own code, or 128 + the signal's number when
 * a signal killed it (`SIGTERM` → 143, `SIGKILL` → 137).
 */
export function shellExitCode(exit: ChildExit): number {
  if (exit.signal !== null) return 128 + (constants.signals[exit.signal] ?? 0);
  return exit.code ?? 1;
}

/** A started child process and the promise of its end. */
export interface RunningChild {
  child: ChildProcess;
  exited: Promise<ChildExit>;
}

/**
 * Starts `command` with `args` (no shell: arguments pass as they are) on this process's
 * terminal, with `env` as its whole environment. A command that is not found or cannot be
 * executed rejects `exited` with a {@link CliError} (exit codes 127 and 126, as in shells).
 */
export function startChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): RunningChild {
  const child = spawn(command, args, { stdio: 'inherit', env });
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new CliError('command_not_found', `${command}: command not found`));
      else if (err.code === 'EACCES' || err.code === 'EISDIR' || err.code === 'ENOEXEC') {
        reject(new CliError('cannot_execute', `${command}: cannot execute (${err.code})`));
      } else reject(new CliError('cannot_execute', `${command}: ${err.message}`));
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited };
}

/**
 * Passes signals this process receives on to the current child until the returned function
 * is called. In a terminal, Ctrl-C and Ctrl-\ already reach the whole foreground process
 * group, the child included, so SIGINT and SIGQUIT are then not sent a second time (a server
 * that exits at once on a second SIGINT would otherwise never shut down cleanly); `coffer`
 * itself waits for the child either way.
 */
export function forwardSignals(
  current: () => ChildProcess | undefined,
  onSignal?: (signal: NodeJS.Signals) => void,
): () => void {
  const fromTerminal = process.stdin.isTTY === true;
  const handlers = forwardedSignals.map((signal) => {
    const handler = () => {
      onSignal?.(signal);
      if (fromTerminal && (signal === 'SIGINT' || signal === 'SIGQUIT')) return;
      const child = current();
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/** Sends SIGTERM, then SIGKILL after `graceMs`, and waits for the end. */
export async function stopChild(running: RunningChild, graceMs = 10_000): Promise<ChildExit> {
  const { child } = running;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await running.exited;
  } finally {
    clearTimeout(timer);
  }
}
