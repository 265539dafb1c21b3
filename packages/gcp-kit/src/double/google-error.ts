/** HTTP status of each canonical code, after google.rpc.Code's HTTP mapping. */
export const httpStatusOf: Readonly<Record<string, number>> = Object.freeze({
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
});

/**
 * A google.rpc.Status error as Google's JSON APIs send it:
 * `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT", "details": [...]}}`.
 *
 * @example
 * throw new GoogleApiError('NOT_FOUND', `${name} not found.`);
 */
export class GoogleApiError extends Error {
  override readonly name = 'GoogleApiError';
  readonly httpStatus: number;
  constructor(
    readonly status: string,
    message: string,
    readonly details: readonly Record<string, unknown>[] = [],
  ) {
    super(message);
    this.httpStatus = httpStatusOf[status] ?? 500;
  }

  /** The response body. */
  toJSON(): { error: { code: number; message: string; status: string; details?: unknown[] } } {
    return {
      error: {
        code: this.httpStatus,
        message: this.message,
        status: this.status,
        ...(this.details.length === 0 ? {} : { details: [...this.details] }),
      },
    };
  }
}

/**
 * The google.rpc.RetryInfo detail that asks a client to wait.
 *
 * @example
 * new GoogleApiError('UNAVAILABLE', 'Try later.', [retryInfo(2)]);
 */
export function retryInfo(retryDelaySeconds: number): Record<string, unknown> {
  return { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryDelaySeconds}s` };
}

/**
 * The ErrorInfo and RetryInfo details a quota refusal of `service` carries.
 *
 * @example
 * quotaDetails('cloudkms.googleapis.com', 'cloudkms.googleapis.com/read_requests', 3);
 */
export function quotaDetails(
  service: string,
  metric: string,
  retryDelaySeconds: number,
): Record<string, unknown>[] {
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'RATE_LIMIT_EXCEEDED',
      domain: 'googleapis.com',
      metadata: { service, quota_metric: metric },
    },
    retryInfo(retryDelaySeconds),
  ];
}
