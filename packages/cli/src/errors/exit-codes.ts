import type { CofferErrorCode } from '@coffer/client';

/**
 * The exit codes of `coffer`, documented in docs/cli.md. Scripts branch on these, so they
 * never change meaning.
 *
 * @example
 * coffer secret get mail --field host || [ $? -eq 3 ] && echo "no such secret"
 */
export const exitCodes = {
  ok: 0,
  /** Anything else: an internal server error, broken stored data, an aborted prompt, a file error. */
  error: 1,
  /** The command line is wrong (unknown option, missing argument, bad value syntax). */
  usage: 2,
  notFound: 3,
  /** Not logged in, a revoked or expired token, or not allowed. */
  denied: 4,
  /** It exists already, the version moved on, or the state forbids it. */
  conflict: 5,
  /** The input is not valid: a field the server refused, a file in the wrong shape, a bad reference. */
  invalid: 6,
  /** The server (or a backend or key behind it) cannot be reached; try again later. */
  unavailable: 7,
  /** A check ran and failed: `audit verify` found a broken chain, `secret test` failed. */
  checkFailed: 8,
  /** `coffer run`: the command was found but could not be executed (as in shells). */
  cannotExecute: 126,
  /** `coffer run`: the command was not found (as in shells). */
  commandNotFound: 127,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/**
 * The exit code for each error code of the server and of the SDK. Keyed by the SDK's
 * `CofferErrorCode`, so a new code does not compile until it has an exit code here (and a
 * test checks it has a line in docs/cli.md).
 */
export const exitCodeOfErrorCode = {
  validation: exitCodes.invalid,
  payload_too_large: exitCodes.invalid,
  unsupported: exitCodes.invalid,
  not_found: exitCodes.notFound,
  value_not_found: exitCodes.notFound,
  forbidden: exitCodes.denied,
  unauthenticated: exitCodes.denied,
  already_exists: exitCodes.conflict,
  conflict: exitCodes.conflict,
  version_conflict: exitCodes.conflict,
  precondition_required: exitCodes.conflict,
  backend_unavailable: exitCodes.unavailable,
  database_unavailable: exitCodes.unavailable,
  key_unavailable: exitCodes.unavailable,
  key_mismatch: exitCodes.unavailable,
  rate_limited: exitCodes.unavailable,
  integrity: exitCodes.error,
  invalid_config: exitCodes.error,
  internal: exitCodes.error,
  // The SDK's own codes.
  network: exitCodes.unavailable,
  unexpected_response: exitCodes.unavailable,
  invalid_reference: exitCodes.invalid,
  field_not_found: exitCodes.notFound,
  // A share link that no longer opens is gone for good; a wrong key or passphrase is refused.
  share_link_expired: exitCodes.notFound,
  share_link_used: exitCodes.notFound,
  share_link_revoked: exitCodes.notFound,
  share_link_wrong_key: exitCodes.denied,
  share_link_wrong_passphrase: exitCodes.denied,
} as const satisfies Record<CofferErrorCode, ExitCode>;

/**
 * Codes of failures the CLI finds itself, before or without asking the server. They are
 * printed like the server's codes (`coffer: <code>: <message>`).
 */
export const cliErrorCodes = {
  usage: exitCodes.usage,
  not_logged_in: exitCodes.denied,
  file: exitCodes.error,
  aborted: exitCodes.error,
  check_failed: exitCodes.checkFailed,
  migration_failed: exitCodes.error,
  rotation_failed: exitCodes.error,
  format: exitCodes.invalid,
  not_found: exitCodes.notFound,
  already_exists: exitCodes.conflict,
  command_not_found: exitCodes.commandNotFound,
  cannot_execute: exitCodes.cannotExecute,
  /** `coffer run --fallback-only`: no offline snapshot of this command for this login. */
  fallback_missing: exitCodes.notFound,
  /** The offline snapshot is older than its time to live. */
  fallback_expired: exitCodes.unavailable,
  /** The offline snapshot was changed, or made on another machine or by another login. */
  fallback_invalid: exitCodes.error,
  /** `coffer login --sso`: the sign-in was cancelled, refused (a disabled user, ...) or did not validate. */
  sso_failed: exitCodes.denied,
  /** `coffer login --sso`: the identity provider could not be reached. */
  sso_unavailable: exitCodes.unavailable,
} as const satisfies Record<string, ExitCode>;

export type CliErrorCode = keyof typeof cliErrorCodes;

/** The exit code of a server error code; unknown codes (a newer server) are generic errors. */
export function exitCodeOf(code: string): ExitCode {
  if (Object.hasOwn(exitCodeOfErrorCode, code)) return exitCodeOfErrorCode[code as CofferErrorCode];
  if (Object.hasOwn(cliErrorCodes, code)) return cliErrorCodes[code as CliErrorCode];
  return exitCodes.error;
}
