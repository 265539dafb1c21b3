import { type CliErrorCode, cliErrorCodes, type ExitCode } from './exit-codes.js';

/** One problem with one field, as the server reports it in `issues`. */
export interface Issue {
  path: string;
  message: string;
}

/**
 * A failure the CLI reports itself: printed as `coffer: <code>: <message>` and exiting with
 * the code's exit code.
 *
 * @example
 * throw new CliError('file', `cannot read ${path}: no such file`);
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  readonly exitCode: ExitCode;
  readonly issues: Issue[];

  constructor(code: CliErrorCode, message: string, options: { issues?: Issue[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = cliErrorCodes[code];
    this.issues = options.issues ?? [];
  }
}

/** A wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** `coffer secret get [options] <name>`, when known. */
  readonly usage: string | undefined;
  /** `coffer secret get`, for the `--help` hint. */
  readonly commandPath: string | undefined;

  constructor(message: string, command?: { usage: string; path: string }) {
    super(message);
    this.usage = command?.usage;
    this.commandPath = command?.path;
  }
}

/**
 * What a failed `POST /secrets` is reported as: the server refuses a kind it does not have as
 * a `validation` issue on `kind`, which the CLI reports as `not_found` (exit code 3), as
 * docs/cli.md documents for a kind that does not exist (and as `coffer kind show` does).
 * Anything else is returned as it is.
 */
export function unknownKindAsNotFound(err: unknown): unknown {
  const e = err as { name?: unknown; code?: unknown; issues?: Issue[] } | null;
  if (e?.name !== 'CofferApiError' || e.code !== 'validation') return err;
  const issue = e.issues?.find((i) => i.path === 'kind');
  return issue === undefined ? err : new CliError('not_found', issue.message, { cause: err });
}
