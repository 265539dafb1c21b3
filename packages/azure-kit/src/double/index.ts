export {
  type DebianAzureSdkCheck,
  type DebianScriptRun,
  debianAzureSdkPresent,
  debianPython,
  runDebianAzureScript,
} from './debian-azure-sdk.js';
export {
  CertificateFile,
  type DoubleIdentity,
  doubleIdentities,
  doubleIdentity,
  doubleVaultSettings,
} from './double-identities.js';
export { type DoubleMainOptions, type RunnableDouble, runDoubleMain } from './double-main.js';
export {
  type DoublePrincipal,
  doublePrincipal,
  EntraTenant,
  type IssuedToken,
  keyVaultResource,
} from './entra-tenant.js';
export { type FaultAction, FaultPlan } from './fault-plan.js';
export { badParameter, KeyVaultError } from './key-vault-error.js';
export {
  type KeyVaultApi,
  type KeyVaultServerOptions,
  type RunningVault,
  startKeyVaultServer,
  type VaultOperation,
  type VaultRequest,
} from './key-vault-server.js';
export { listPage, maxPageSize } from './paging.js';
export { createSelfSignedCertificate, type SelfSignedCertificate } from './self-signed-cert.js';
export { type ThrottleLimit, type ThrottleLimits, VaultThrottle } from './vault-throttle.js';
