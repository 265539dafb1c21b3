import {
  type AzureServiceErrors,
  azureSdkRetryVerdict,
  classifyAzureSdkError,
  type AzureFailure as KitFailure,
} from '@coffer/azure-kit';
import type { RetryVerdict } from '@coffer/core';

/** The kinds of Key Vault failure the backend handles itself. */
type SecretsKind = 'not_found' | 'disabled' | 'deleted' | 'busy' | 'conflict';

/**
 * What a failed Key Vault call means: which reason, the vendor's code, whether to retry.
 * `not_found`, `disabled` (a disabled version), `deleted` (the name is pending deletion:
 * `ObjectIsDeletedButRecoverable`), `busy` (being deleted or recovered: retry later) and
 * `conflict` are handled by the backend; the rest are reasons.
 */
export type AzureFailure = KitFailure<SecretsKind>;

/** How the secrets API's answers read, besides the general rules of the Azure kit. */
export const keyVaultSecretsErrors: AzureServiceErrors<SecretsKind> = {
  notFound: 'not_found',
  answer: (status, code, inner) => {
    if (status === 403 && inner === 'SecretDisabled') return { kind: 'disabled', vendorCode: inner };
    if (status !== 409) return undefined;
    if (inner === 'ObjectIsDeletedButRecoverable') return { kind: 'deleted', vendorCode: inner };
    if (inner === 'ObjectIsBeingDeleted' || inner === 'ObjectIsBeingRecovered') {
      return { kind: 'busy', vendorCode: inner };
    }
    return { kind: 'conflict', vendorCode: inner ?? code };
  },
};

/**
 * Classifies whatever a Key Vault call threw (the Azure kit's rules with the secrets API's
 * codes). Only codes leave this function, never a message.
 *
 * @example
 * classifyAzureError(Object.assign(new Error('Too many'), { name: 'RestError', statusCode: 429 })).retry; // true
 */
export function classifyAzureError(err: unknown): AzureFailure {
  return classifyAzureSdkError(err, keyVaultSecretsErrors);
}

/** The retry verdict `withRetries` wants. */
export function azureRetryVerdict(err: unknown): RetryVerdict {
  return azureSdkRetryVerdict(err, keyVaultSecretsErrors);
}
