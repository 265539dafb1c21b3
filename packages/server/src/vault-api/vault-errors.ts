import { type ErrorCode, type FieldIssue, isCofferError } from '@coffer/core';
import { problemOf } from '../http/problem.js';

/**
 * An error the Vault door answers as Vault does: a status and `{"errors": [...]}`. For the
 * door's own refusals (a namespace, response wrapping, a Vault feature Coffer does not have);
 * core errors are translated by {@link vaultErrorOf}.
 *
 * @example
 * throw new VaultHttpError(400, ['response wrapping is not supported by Coffer']);
 */
export class VaultHttpError extends Error {
  readonly status: number;
  readonly errors: readonly string[];

  constructor(status: number, errors: readonly string[]) {
    super(errors[0] ?? `status ${status}`);
    this.status = status;
    this.errors = errors;
  }
}

/** Vault's own words for a failed check-and-set; clients and scripts match on it. */
export const casMismatchMessage = 'check-and-set parameter did not match the current version';

/** What Vault says for a missing or unknown token, and for any access it refuses. */
export const permissionDenied = 'permission denied';

/** A check-and-set that does not hold: 400 with Vault's message. */
export function casMismatch(): VaultHttpError {
  return new VaultHttpError(400, [casMismatchMessage]);
}

/** A write without `options.cas` to a secret (or mount) whose `cas_required` is set: Vault's words. */
export function casRequired(): VaultHttpError {
  return new VaultHttpError(400, ['check-and-set parameter required for this call']);
}

/**
 * The Vault status of every core error code. Typed as `Record<ErrorCode, number>`, so a new
 * code does not compile until it has a status here. Vault answers 403 to a missing or bad
 * token (clients such as hvac's `is_authenticated` rely on it), 400 to every invalid request,
 * 412 to a request that should be retried after a short wait, and 404 with no message.
 */
export const vaultStatusOf = {
  validation: 400,
  not_found: 404,
  already_exists: 400,
  conflict: 412,
  version_conflict: 400,
  forbidden: 403,
  unauthenticated: 403,
  integrity: 500,
  key_unavailable: 503,
  key_mismatch: 503,
  backend_unavailable: 503,
  database_unavailable: 503,
  value_not_found: 500,
  payload_too_large: 413,
  rate_limited: 429,
  precondition_required: 400,
  invalid_config: 500,
  unsupported: 400,
  // Share links never open through this door; listed because the table covers every code.
  share_link_expired: 404,
  share_link_used: 404,
  share_link_revoked: 404,
  share_link_wrong_key: 403,
  share_link_wrong_passphrase: 403,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** Vault's field names where Coffer's issues name its own (`values.x` is `data.x` here). */
function vaultPath(path: string): string {
  if (path.startsWith('values.')) return `data.${path.slice('values.'.length)}`;
  if (path === 'values') return 'data';
  if (path.startsWith('labels.')) return `custom_metadata.${path.slice('labels.'.length)}`;
  if (path === 'labels') return 'custom_metadata';
  return path;
}

/**
 * Turns anything thrown while serving a Vault request into Vault's answer. Messages are
 * core's (value-free by design) or the framework's fixed texts; a 500 says only "internal
 * error", and `log` says whether the error deserves a log line.
 *
 * @example
 * vaultErrorOf(new CofferError('not_found', 'secret "x" not found')); // { status: 404, errors: [], log: false }
 */
export function vaultErrorOf(err: unknown): { status: number; errors: string[]; log: boolean } {
  if (err instanceof VaultHttpError) return { status: err.status, errors: [...err.errors], log: false };
  const { problem, log } = problemOf(err, { conditional: false });
  if (!isCofferError(err)) {
    // Malformed requests keep the status the framework gave them (400, 413, 415).
    const status = Math.min(problem.status, 500);
    return { status, errors: [status === 500 ? 'internal error' : problem.detail], log };
  }
  // Several visible secrets of one name is no race to retry: it needs another path.
  const ambiguous = problem.code === 'conflict' && Array.isArray(err.details.ids);
  const status = ambiguous ? 400 : vaultStatusOf[problem.code];
  if (status === 404) return { status, errors: [], log };
  if (status === 403) {
    return {
      status,
      errors: problem.code === 'forbidden' ? [permissionDenied, problem.detail] : [permissionDenied],
      log,
    };
  }
  if (status >= 500 && (problem.code === 'internal' || problem.code === 'invalid_config')) {
    return { status, errors: ['internal error'], log };
  }
  if (problem.code === 'version_conflict') return { status, errors: [casMismatchMessage], log };
  const issues = (problem.issues ?? []) as FieldIssue[];
  if (issues.length > 0)
    return { status, errors: issues.map((i) => `${vaultPath(i.path)}: ${i.message}`), log };
  return { status, errors: [problem.detail], log };
}
