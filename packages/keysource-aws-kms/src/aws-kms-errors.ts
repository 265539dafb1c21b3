import { type AwsServiceErrors, classifyAwsError } from '@coffer/aws-store-kit';

/** Failures particular to KMS, told apart before the general AWS rules. */
export type KmsSpecial = 'key_disabled' | 'invalid_ciphertext' | 'key_usage';

/**
 * How KMS's errors read: NotFoundException is a missing key (or alias); a disabled key or one
 * pending deletion or import cannot be used until an operator acts; a ciphertext that does not
 * decrypt (tampered, wrong encryption context, another key) is an integrity failure, never retried.
 * KeyUnavailableException, KMSInternalException and DependencyTimeoutException are 5xx and retried.
 */
export const kmsErrors: AwsServiceErrors<KmsSpecial> = {
  notFound: new Set(['NotFoundException']),
  special: (name) => {
    switch (name) {
      case 'DisabledException':
      case 'KMSInvalidStateException':
        return 'key_disabled';
      case 'InvalidCiphertextException':
      case 'IncorrectKeyException':
        return 'invalid_ciphertext';
      case 'InvalidKeyUsageException':
      case 'UnsupportedOperationException':
        return 'key_usage';
      default:
        return undefined;
    }
  },
};

/**
 * Classifies whatever a KMS call threw.
 *
 * @example
 * classifyKmsError(Object.assign(new Error('x'), { name: 'DisabledException', $metadata: { httpStatusCode: 400 } })).kind; // 'key_disabled'
 */
export function classifyKmsError(err: unknown) {
  return classifyAwsError(err, kmsErrors);
}
