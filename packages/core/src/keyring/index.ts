export {
  DataKeyCache,
  type DataKeyCacheSettings,
  dataKeyCacheSettingsSchema,
  defaultDataKeyCacheSettings,
} from './data-key-cache.js';
export {
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  EXTERNAL_ENVELOPE_VERSION,
  envelopeKekId,
  envelopeOverhead,
  type WrappedDataKey,
} from './envelope.js';
export {
  defineKeySource,
  type ExternalKey,
  type ExternalKeySource,
  type ExternalKeySourceContext,
  externalKekId,
  isExternalKeySource,
  KEY_SOURCE_TYPE_PATTERN,
  type KeySourceDefinition,
  type WrapContext,
} from './external-key-source.js';
export {
  type OpenExternalKeyringOptions,
  openExternalKeyring,
  WRAP_CONTEXT_KEYS,
} from './external-keyring.js';
export {
  DEFAULT_KEY_VARIABLE,
  derivePassphraseKey,
  type KeyEnvSourceConfig,
  type KeyEnvSourceOptions,
  keyEnvSource,
  keyEnvSourceConfigSchema,
  MIN_PASSPHRASE_LENGTH,
  PASSPHRASE_KDF,
} from './key-env-source.js';
export {
  KEY_FILE_NAME,
  type KeyFileSourceConfig,
  type KeyFileSourceOptions,
  keyFileSource,
  keyFileSourceConfigSchema,
  resolveKeyFilePath,
} from './key-file-source.js';
export { fingerprintKeyId, isKeyId, KEY_ID_PATTERN } from './key-id.js';
export {
  createKeySource,
  type ExternalKeySourceConfig,
  isLocalKeySourceConfig,
  type KeySourceConfig,
  type KeySourceOptions,
  keySourceConfigSchema,
  type OpenedKeySource,
  type OpenKeySourceOptions,
  openKeySource,
  parseKeySourceConfig,
} from './key-source-config.js';
export {
  isKeySourceOutage,
  type KeySourceFailureInput,
  type KeySourceFailureReason,
  keySourceFailure,
  keySourceFailureReasons,
} from './key-source-failure.js';
export { isKeySourceDefinition, keySourcePackages, loadKeySourceDefinition } from './key-source-packages.js';
export type { KeyMaterial, KeySource, KeySourceContext, LoadedKeys } from './key-source-types.js';
export { DEFAULT_RELOAD_INTERVAL_MS, type OpenKeyringOptions, openKeyring } from './keyring.js';
export type { KeyInfo, Keyring, KeyringStatus, SealBinding, SealedBlob } from './keyring-types.js';
