export { ENVELOPE_MAGIC, ENVELOPE_VERSION, envelopeKekId, envelopeOverhead } from './envelope.js';
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
  type KeySourceConfig,
  type KeySourceOptions,
  keySourceConfigSchema,
  parseKeySourceConfig,
} from './key-source-config.js';
export type { KeyMaterial, KeySource, KeySourceContext, LoadedKeys } from './key-source-types.js';
export { DEFAULT_RELOAD_INTERVAL_MS, type OpenKeyringOptions, openKeyring } from './keyring.js';
export type { KeyInfo, Keyring, KeyringStatus, SealBinding, SealedBlob } from './keyring-types.js';
