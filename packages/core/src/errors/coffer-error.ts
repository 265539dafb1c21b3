import type { ErrorCode } from './error-catalog.js';

/** One problem with one input field (or setting), as reported in `details.issues`. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `values.port` or `backends.files.directory`. */
  path: string;
  /** Why the field is wrong, in words a user can act on. Never contains the field's value. */
  message: string;
}

export interface CofferErrorDetails {
  issues?: FieldIssue[];
  [key: string]: unknown;
}

export interface CofferErrorOptions {
  cause?: unknown;
  details?: CofferErrorDetails;
}

/**
 * The single error type Coffer throws. `code` is stable; `message` is for humans and never
 * contains a secret value; `details` is structured and safe to send to a client.
 *
 * @example
 * throw new CofferError('not_found', `secret ${id} not found`);
 */
export class CofferError extends Error {
  override readonly name = 'CofferError';
  readonly code: ErrorCode;
  readonly details: CofferErrorDetails;

  constructor(code: ErrorCode, message: string, options: CofferErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** A validation error listing every offending field. */
  static validation(issues: FieldIssue[], message?: string): CofferError {
    const summary = message ?? issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    return new CofferError('validation', summary, { details: { issues } });
  }
}

/** True when `err` is a {@link CofferError}, optionally with the given code. */
export function isCofferError(err: unknown, code?: ErrorCode): err is CofferError {
  return err instanceof CofferError && (code === undefined || err.code === code);
}
