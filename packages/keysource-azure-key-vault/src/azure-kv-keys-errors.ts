import {
  type AzureFailure,
  type AzureServiceErrors,
  azureSdkRetryVerdict,
  classifyAzureSdkError,
} from '@coffer/azure-kit';
import type { RetryVerdict } from '@coffer/core';

/** The kinds of Key Vault failure read from the keys API's own answers. */
type KeysKind = 'key_not_found' | 'key_disabled' | 'bad_parameter';

/**
 * What a failed Key Vault call means: which reason, the vendor's code, whether to retry. Besides
 * the key source failure reasons, `bad_parameter`: Key Vault refused the request as invalid (on
 * `unwrapKey`, a wrapped key that does not decrypt under the key version).
 */
export type KeyVaultFailure = AzureFailure<KeysKind>;

/** How the keys API's answers read, besides the general rules of the Azure kit. */
export const keyVaultKeysErrors: AzureServiceErrors<KeysKind> = {
  notFound: 'key_not_found',
  answer: (status, code, inner) => {
    if (status === 400) return { kind: 'bad_parameter', vendorCode: code };
    if (status === 403 && (inner === 'KeyDisabled' || inner === 'KeyExpired')) {
      return { kind: 'key_disabled', vendorCode: inner };
    }
    if (status === 403 && inner === 'KeyOperationForbidden') return { kind: 'rejected', vendorCode: inner };
    // a deleted key (recoverable) blocks its name
    if (status === 409) return { kind: 'key_disabled', vendorCode: inner ?? code };
    return undefined;
  },
  // CryptographyClient checks a key it fetched before calling Key Vault
  local: (message) => {
    if (/expired at|can't be used before/.test(message))
      return { kind: 'key_disabled', vendorCode: 'KeyExpired' };
    if (/is not supported on key|Unable to support operation/.test(message)) {
      return { kind: 'rejected', vendorCode: 'KeyOperationForbidden' };
    }
    return undefined;
  },
};

/**
 * Classifies whatever a Key Vault call threw (the Azure kit's rules with the keys API's codes),
 * the SDK's own check of a key it fetched included (an expired key, a key operation the key
 * does not allow). Only codes leave this function, never a message.
 *
 * @example
 * classifyKeyVaultError(Object.assign(new Error('x'), { name: 'RestError', statusCode: 404, code: 'KeyNotFound' })).kind; // 'key_not_found'
 */
export function classifyKeyVaultError(err: unknown): KeyVaultFailure {
  return classifyAzureSdkError(err, keyVaultKeysErrors);
}

/** The retry verdict `withRetries` wants. */
export function keyVaultRetryVerdict(err: unknown): RetryVerdict {
  return azureSdkRetryVerdict(err, keyVaultKeysErrors);
}
