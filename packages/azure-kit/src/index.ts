export {
  type KeyVaultClientParts,
  type KeyVaultConnectionSettings,
  keyVaultClientParts,
  requestTimeoutPolicy,
  trustedCertificates,
} from './azure-client-settings.js';
export {
  type AzureFailure,
  type AzureFailureReason,
  type AzureServiceErrors,
  type AzureVerdict,
  azureSdkRetryVerdict,
  classifyAzureSdkError,
} from './azure-errors.js';
