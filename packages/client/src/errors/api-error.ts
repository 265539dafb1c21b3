import type { Schemas } from '../generated/openapi.js';

/** A code the server puts in its problem documents (`docs/api.md`, "Errors"). */
export type ServerErrorCode = Schemas['Problem']['code'];

/**
 * Codes the client itself reports (with `status` 0, or the HTTP status it got):
 * - `network`: no answer (refused, reset, DNS, timeout) after the retries allowed;
 * - `unexpected_response`: an answer that is not Coffer's (an HTML error page of a proxy,
 *   a success without the expected JSON);
 * - `invalid_reference`: a `{{ ... }}` reference that is not `{{ secret-name.field }}`;
 * - `field_not_found`: a reference names a field the secret does not have.
 */
export type ClientErrorCode = 'network' | 'unexpected_response' | 'invalid_reference' | 'field_not_found';

/** Every code a {@link CofferApiError} can carry. */
export type CofferErrorCode = ServerErrorCode | ClientErrorCode;

/** The client's own codes, for exhaustive tables (`Record<CofferErrorCode, ...>`). */
export const clientErrorCodes: readonly ClientErrorCode[] = [
  'network',
  'unexpected_response',
  'invalid_reference',
  'field_not_found',
];

/** One offending field of a validation error (or one failed reference of `resolve`). */
export interface ErrorIssue {
  path: string;
  message: string;
}

export interface CofferApiErrorInit {
  status: number;
  code: CofferErrorCode;
  message: string;
  issues?: ErrorIssue[];
  details?: Record<string, unknown>;
  method?: string;
  path?: string;
  cause?: unknown;
}

/**
 * An error from the Coffer API: the server's problem document (`status`, its stable `code`,
 * `message` from `detail`, `issues`, `details`), or a client-side failure with one of the
 * {@link ClientErrorCode}s. Branch on `code`, never on `message`. Messages never hold a secret
 * value or a credential: the server's `detail` never does, and the client adds only the method
 * and path.
 *
 * @example
 * try {
 *   await client.secrets.updateValues('mail', { values: { port: 465 } }, { ifVersion: 3 });
 * } catch (err) {
 *   if (isCofferApiError(err, 'version_conflict')) console.log(err.details?.currentVersion);
 *   else throw err;
 * }
 */
export class CofferApiError extends Error {
  override readonly name = 'CofferApiError';
  /** The HTTP status, or 0 when there was no (usable) answer. */
  readonly status: number;
  readonly code: CofferErrorCode;
  /** Each offending field (validation errors, failed references). */
  readonly issues: ErrorIssue[] | undefined;
  /** Structured context: `expectedVersion`/`currentVersion`, `retryAfterSeconds`, ... */
  readonly details: Record<string, unknown> | undefined;
  /** The request that failed, e.g. `PATCH` and `/secrets/mail/values` (relative to the API). */
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(init: CofferApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.issues = init.issues;
    this.details = init.details;
    this.method = init.method;
    this.path = init.path;
  }
}

/**
 * Whether `err` is a {@link CofferApiError}, optionally with one of the given codes.
 *
 * @example
 * if (isCofferApiError(err, 'not_found')) return undefined;
 */
export function isCofferApiError<C extends CofferErrorCode>(
  err: unknown,
  ...codes: C[]
): err is CofferApiError & { code: C } {
  if (!(err instanceof CofferApiError)) return false;
  return codes.length === 0 || (codes as CofferErrorCode[]).includes(err.code);
}
