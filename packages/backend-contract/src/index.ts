// The public surface of @coffer/backend-contract, listed by name.

export {
  type BackendContractOptions,
  type BackendUnderTest,
  type ContractSkip,
  runBackendContract,
} from './backend-contract.js';
export { type ContractCaseName, contractCaseNames } from './contract-cases.js';
export {
  type ContractContext,
  type ContractContextOptions,
  createContractContext,
} from './contract-context.js';
export { type KeySourceCaseName, keySourceCaseNames } from './key-source-cases.js';
export {
  type AddedKmsKey,
  type KeySourceContractOptions,
  type KeySourceContractSkip,
  type KmsKeyVersions,
  type KmsOperations,
  type KmsUnderTest,
  runKeySourceContract,
  type WrappedKeyTampering,
} from './key-source-contract.js';
export {
  type RealKmsChecksOptions,
  type RealKmsSourceContext,
  runRealKmsChecks,
} from './key-source-real.js';
