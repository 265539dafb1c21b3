import { z } from 'zod';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import { type KeyEnvSourceOptions, keyEnvSource, keyEnvSourceConfigSchema } from './key-env-source.js';
import { type KeyFileSourceOptions, keyFileSource, keyFileSourceConfigSchema } from './key-file-source.js';
import type { KeySource } from './key-source-types.js';
import { invalidConfig } from './keyring-errors.js';

/**
 * The `keyring` settings: which key source to use and its settings. Defaults to the key file.
 *
 * @example
 * keySourceConfigSchema.parse({ source: 'env', variable: 'COFFER_MASTER_KEY' });
 */
export const keySourceConfigSchema = z
  .discriminatedUnion('source', [keyFileSourceConfigSchema, keyEnvSourceConfigSchema])
  .default({ source: 'file' });

/** Parsed `keyring` settings. */
export type KeySourceConfig = z.output<typeof keySourceConfigSchema>;

/** What any key source may need besides its config. */
export type KeySourceOptions = KeyFileSourceOptions & KeyEnvSourceOptions;

type KeySourceFactory<S extends KeySourceConfig['source']> = (
  config: Extract<KeySourceConfig, { source: S }>,
  options: KeySourceOptions,
) => KeySource;

const keySourceFactories = {
  file: keyFileSource,
  env: keyEnvSource,
} satisfies { [S in KeySourceConfig['source']]: KeySourceFactory<S> };

/**
 * Parses the `keyring` settings, reporting every problem at once as `invalid_config`.
 *
 * @example
 * const config = parseKeySourceConfig(rawConfig.keyring);
 */
export function parseKeySourceConfig(input: unknown): KeySourceConfig {
  const parsed = keySourceConfigSchema.safeParse(input);
  if (!parsed.success) throw invalidConfig(fieldIssuesFromZod(parsed.error, 'keyring'));
  return Object.freeze(parsed.data);
}

/**
 * The key source a config names.
 *
 * @example
 * const source = createKeySource(parseKeySourceConfig(settings.keyring), { dataDir });
 */
export function createKeySource(config: KeySourceConfig, options: KeySourceOptions = {}): KeySource {
  // TypeScript cannot tie the looked-up factory to the narrowed config; `satisfies` above does.
  const factory = keySourceFactories[config.source] as KeySourceFactory<KeySourceConfig['source']>;
  return factory(config, options);
}
