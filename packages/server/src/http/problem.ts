import {
  CofferError,
  type ErrorCode,
  type FieldIssue,
  isCofferError,
  isDatabaseUnavailable,
  isUnstorableText,
} from '@coffer/core';

/**
 * The HTTP status of every error code. Typed as `Record<ErrorCode, number>`, so a code added
 * to the core catalog does not compile until it has a status here. One context changes a
 * status: `version_conflict` is 412 when the client sent `If-Match` (see {@link statusFor}).
 *
 * @example
 * httpStatusOf.not_found; // 404
 */
export const httpStatusOf = {
  validation: 422,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  version_conflict: 409,
  forbidden: 403,
  unauthenticated: 401,
  integrity: 500,
  key_unavailable: 503,
  key_mismatch: 503,
  backend_unavailable: 503,
  database_unavailable: 503,
  value_not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  precondition_required: 428,
  invalid_config: 500,
  unsupported: 422,
  share_link_expired: 410,
  share_link_used: 410,
  share_link_revoked: 410,
  share_link_wrong_key: 403,
  share_link_wrong_passphrase: 403,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** A short human title per code, the problem document's `title`. */
export const problemTitles = {
  validation: 'Invalid request',
  not_found: 'Not found',
  already_exists: 'Already exists',
  conflict: 'Conflict',
  version_conflict: 'Version conflict',
  forbidden: 'Forbidden',
  unauthenticated: 'Unauthenticated',
  integrity: 'Integrity check failed',
  key_unavailable: 'Key unavailable',
  key_mismatch: 'Key mismatch',
  backend_unavailable: 'Backend unavailable',
  database_unavailable: 'Database unavailable',
  value_not_found: 'Value not found',
  payload_too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  precondition_required: 'Precondition required',
  invalid_config: 'Invalid configuration',
  unsupported: 'Unsupported',
  share_link_expired: 'Share link expired',
  share_link_used: 'Share link used up',
  share_link_revoked: 'Share link revoked',
  share_link_wrong_key: 'Wrong share link key',
  share_link_wrong_passphrase: 'Wrong share link passphrase',
  internal: 'Internal error',
} as const satisfies Record<ErrorCode, string>;

/**
 * An RFC 9457 problem document, sent as `application/problem+json`.
 *
 * @example
 * { type: 'urn:coffer:error:not_found', title: 'Not found', status: 404, code: 'not_found',
 *   detail: 'secret "smtp" not found' }
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  /** For `validation` (and some others): each offending field or setting and why. */
  issues?: FieldIssue[];
  /** Other structured, non-secret context from the error (e.g. the current version). */
  details?: Record<string, unknown>;
}

export const problemContentType = 'application/problem+json; charset=utf-8';

/**
 * An error that already knows its HTTP status: for request problems that have no core
 * equivalent status (malformed JSON is 400, an unsupported media type 415).
 */
export class HttpProblem extends CofferError {
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string, issues?: FieldIssue[]) {
    super(code, message, issues === undefined ? {} : { details: { issues } });
    this.status = status;
  }
}

/** What the handler needs to know about the request an error came from. */
export interface ProblemContext {
  /** The client made the write conditional with `If-Match`. */
  conditional: boolean;
}

/** The status for a core error in its request context. */
export function statusFor(code: ErrorCode, context: ProblemContext): number {
  if (code === 'version_conflict' && context.conditional) return 412;
  return httpStatusOf[code];
}

const genericInternal = 'An unexpected error occurred. The server log has the details.';

/**
 * Turns anything thrown while handling a request into a problem document. Core errors keep
 * their (value-free) message; framework errors for malformed requests get their own status;
 * everything else is a 500 with a generic message, and `log` says whether it deserves an
 * error log line.
 */
export function problemOf(err: unknown, context: ProblemContext): { problem: Problem; log: boolean } {
  if (err instanceof HttpProblem) return { problem: build(err.code, err.status, err), log: false };
  if (isCofferError(err)) {
    const status = statusFor(err.code, context);
    if (err.code === 'internal') return { problem: internal(), log: true };
    return { problem: build(err.code, status, err), log: status >= 500 };
  }
  const framework = frameworkProblem(err);
  if (framework !== undefined) return { problem: framework, log: false };
  if (isDatabaseUnavailable(err)) {
    return {
      problem: build(
        'database_unavailable',
        503,
        new CofferError('database_unavailable', 'the database cannot be reached right now; retry shortly', {
          details: { retryAfterSeconds: 1 },
        }),
      ),
      // One warning per request says it; the driver's error adds nothing during an outage.
      log: false,
    };
  }
  if (isUnstorableText(err)) {
    return {
      problem: build(
        'validation',
        400,
        new CofferError('validation', 'text must not contain a NUL character (\\u0000)'),
      ),
      log: false,
    };
  }
  return { problem: internal(), log: true };
}

function build(code: ErrorCode, status: number, err: CofferError): Problem {
  const { issues, ...rest } = err.details;
  const problem: Problem = {
    type: `urn:coffer:error:${code}`,
    title: problemTitles[code],
    status,
    code,
    detail: err.message,
  };
  if (Array.isArray(issues) && issues.length > 0) problem.issues = issues;
  if (Object.keys(rest).length > 0) problem.details = rest;
  return problem;
}

function internal(): Problem {
  return {
    type: 'urn:coffer:error:internal',
    title: problemTitles.internal,
    status: 500,
    code: 'internal',
    detail: genericInternal,
  };
}

/** Fastify's own errors for malformed requests; their messages are fixed texts, never input. */
const frameworkMessages: Record<string, { status: number; code: ErrorCode; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    detail: 'the request body is larger than the server accepts',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'validation',
    detail: 'the request body must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'validation',
    detail: 'the request body size does not match Content-Length',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'validation',
    detail: 'the body is empty but Content-Type says application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'validation',
    detail: 'the request body is not valid JSON',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'validation', detail: 'the request URL is malformed' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'validation', detail: 'the request is malformed' },
};

function frameworkProblem(err: unknown): Problem | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  const known = typeof code === 'string' ? frameworkMessages[code] : undefined;
  if (known !== undefined) {
    return {
      type: `urn:coffer:error:${known.code}`,
      title: known.status === 415 ? 'Unsupported media type' : problemTitles[known.code],
      status: known.status,
      code: known.code,
      detail: known.detail,
    };
  }
  // Any other client error Fastify raises (its messages could quote input, so they are
  // not passed on).
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const status = statusCode === 413 ? 413 : 400;
    const problemCode: ErrorCode = status === 413 ? 'payload_too_large' : 'validation';
    return {
      type: `urn:coffer:error:${problemCode}`,
      title: problemTitles[problemCode],
      status,
      code: problemCode,
      detail: 'the request is malformed',
    };
  }
  return undefined;
}
