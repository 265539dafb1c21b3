import type { RetryVerdict } from '@coffer/core';
import {
  classifyGoogleError,
  type GoogleFailure,
  type GoogleServiceErrors,
  googleRetryVerdict,
} from '@coffer/gcp-kit';

/** The kinds of Secret Manager failure the backend handles itself. */
type SecretManagerKind = 'not_found' | 'already_exists' | 'failed_precondition' | 'aborted';

/**
 * What a failed Secret Manager call means: which reason, the vendor's code, whether to retry.
 * `not_found`, `already_exists`, `failed_precondition` (a destroyed or disabled version) and
 * `aborted` (an etag that no longer matches) are handled by the backend; the rest are reasons.
 */
export type GcpFailure = GoogleFailure<SecretManagerKind>;

/** How Secret Manager's canonical statuses read, besides the general rules of the GCP kit. */
export const secretManagerErrors: GoogleServiceErrors<SecretManagerKind> = {
  notService: 'NOT_SECRET_MANAGER',
  statuses: {
    NOT_FOUND: 'not_found',
    ALREADY_EXISTS: 'already_exists',
    FAILED_PRECONDITION: 'failed_precondition',
    ABORTED: 'aborted',
    DATA_LOSS: 'server_error',
  },
};

/**
 * Classifies whatever a Secret Manager call threw (the GCP kit's rules with Secret Manager's
 * statuses). Only the code leaves this function, never a message.
 *
 * @example
 * classifyGcpError(Object.assign(new Error('Quota exceeded'), { code: 8 })).retry; // true
 */
export function classifyGcpError(err: unknown): GcpFailure {
  return classifyGoogleError(err, secretManagerErrors);
}

/** The retry verdict `withRetries` wants. */
export function gcpRetryVerdict(err: unknown): RetryVerdict {
  return googleRetryVerdict(err, secretManagerErrors);
}
