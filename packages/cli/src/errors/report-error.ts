import { CommanderError } from 'commander';
import { CliError, type Issue, UsageError } from './cli-error.js';
import { exitCodeOf, exitCodes } from './exit-codes.js';

/** What the one error path prints and the exit code it ends with. */
export interface ErrorReport {
  lines: string[];
  exitCode: number;
}

interface ApiErrorLike {
  name: string;
  code: string;
  status: number;
  message: string;
  issues?: Issue[] | undefined;
}

function isApiError(err: unknown): err is ApiErrorLike {
  return (
    err instanceof Error &&
    err.name === 'CofferApiError' &&
    typeof (err as Partial<ApiErrorLike>).code === 'string' &&
    typeof (err as Partial<ApiErrorLike>).status === 'number'
  );
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/** One line per offending field, unless the message already says it. */
function issueLines(issues: readonly Issue[] | undefined, message: string): string[] {
  return (issues ?? [])
    .filter((i) => !message.includes(oneLine(i.message)))
    .map((i) => `  ${i.path === '' ? '(input)' : i.path}: ${oneLine(i.message)}`);
}

/**
 * Turns any failure into `coffer: <code>: <message>` (plus one line per offending field) and
 * the documented exit code for the code. A usage error also prints the command's usage.
 *
 * @param hint added to `unauthenticated` errors when no token was sent (`run coffer login`).
 */
export function reportOf(err: unknown, hint?: { unauthenticated?: string }): ErrorReport {
  if (err instanceof UsageError) {
    const lines = [`coffer: usage: ${oneLine(err.message)}`];
    if (err.usage !== undefined) lines.push(`usage: ${err.usage}`);
    if (err.commandPath !== undefined)
      lines.push(`Run '${err.commandPath} --help' for details and examples.`);
    return { lines, exitCode: exitCodes.usage };
  }
  if (err instanceof CommanderError) {
    return {
      lines: [`coffer: usage: ${oneLine(err.message.replace(/^error: /, ''))}`],
      exitCode: exitCodes.usage,
    };
  }
  if (err instanceof CliError) {
    const message = oneLine(err.message);
    return {
      lines: [`coffer: ${err.code}: ${message}`, ...issueLines(err.issues, message)],
      exitCode: err.exitCode,
    };
  }
  if (isApiError(err)) {
    let message = oneLine(err.message);
    if (err.code === 'unauthenticated' && hint?.unauthenticated !== undefined)
      message += ` (${hint.unauthenticated})`;
    return {
      lines: [`coffer: ${err.code}: ${message}`, ...issueLines(err.issues, message)],
      exitCode: exitCodeOf(err.code),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { lines: [`coffer: internal: ${oneLine(message)}`], exitCode: exitCodes.error };
}
