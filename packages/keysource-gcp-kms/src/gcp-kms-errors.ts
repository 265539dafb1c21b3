import type { RetryVerdict } from '@coffer/core';
import {
  classifyGoogleError,
  type GoogleFailure,
  type GoogleServiceErrors,
  googleRetryVerdict,
} from '@coffer/gcp-kit';

/** The kinds of Cloud KMS failure read from its own statuses. */
type CloudKmsKind = 'key_not_found' | 'key_disabled' | 'invalid_argument';

/**
 * What a failed Cloud KMS call means: which reason, the vendor's code, whether to retry. Besides
 * the key source failure reasons, `invalid_argument`: Cloud KMS refused the request as invalid
 * (on `decrypt`, a ciphertext that is not authentic under its additional authenticated data).
 */
export type CloudKmsFailure = GoogleFailure<CloudKmsKind>;

/** How Cloud KMS's canonical statuses read, besides the general rules of the GCP kit. */
export const cloudKmsErrors: GoogleServiceErrors<CloudKmsKind> = {
  notService: 'NOT_CLOUD_KMS',
  statuses: {
    NOT_FOUND: 'key_not_found',
    // a version (or the primary) that is disabled, scheduled for destruction or destroyed
    FAILED_PRECONDITION: 'key_disabled',
    INVALID_ARGUMENT: 'invalid_argument',
  },
};

/**
 * Classifies whatever a Cloud KMS call threw (the GCP kit's rules with Cloud KMS's statuses).
 * Only the code leaves this function, never a message.
 *
 * @example
 * classifyCloudKmsError(Object.assign(new Error('x'), { code: 9 })).kind; // 'key_disabled'
 */
export function classifyCloudKmsError(err: unknown): CloudKmsFailure {
  return classifyGoogleError(err, cloudKmsErrors);
}

/** The retry verdict `withRetries` wants. */
export function cloudKmsRetryVerdict(err: unknown): RetryVerdict {
  return googleRetryVerdict(err, cloudKmsErrors);
}
