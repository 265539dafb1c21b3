import { existsSync } from 'node:fs';
import { z } from 'zod';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type DataKeyCacheSettings, dataKeyCacheSettingsSchema } from './data-key-cache.js';
import {
  type ExternalKeySource,
  KEY_SOURCE_TYPE_PATTERN,
  type KeySourceDefinition,
} from './external-key-source.js';
import { type KeyEnvSourceOptions, keyEnvSource, keyEnvSourceConfigSchema } from './key-env-source.js';
import { type KeyFileSourceOptions, keyFileSource, keyFileSourceConfigSchema } from './key-file-source.js';
import { loadKeySourceDefinition } from './key-source-packages.js';
import type { KeySource } from './key-source-types.js';
import { invalidConfig } from './keyring-errors.js';

const localSchemas = { file: keyFileSourceConfigSchema, env: keyEnvSourceConfigSchema };

type LocalKeySourceConfig =
  | z.output<typeof keyFileSourceConfigSchema>
  | z.output<typeof keyEnvSourceConfigSchema>;

/**
 * The `keyring` settings of a KMS key source (`source: 'aws-kms'`, ...): `cache` is the keyring's
 * (see `dataKeyCacheSettingsSchema`), every other setting the key source package's, checked by its
 * own schema when the source is opened.
 */
export interface ExternalKeySourceConfig {
  readonly source: string;
  readonly [setting: string]: unknown;
}

/**
 * The `keyring` settings: which key source to use and its settings. Defaults to the key file.
 * The key file and environment sources are checked here; a KMS source's settings are checked by
 * its package's schema when it is opened ({@link openKeySource}).
 *
 * @example
 * keySourceConfigSchema.parse({ source: 'env', variable: 'COFFER_MASTER_KEY' });
 * keySourceConfigSchema.parse({ source: 'aws-kms', keyId: 'alias/coffer', region: 'eu-west-1' });
 */
export const keySourceConfigSchema = z
  .looseObject({
    source: z
      .string()
      .regex(KEY_SOURCE_TYPE_PATTERN, 'must be file, env, or a KMS key source type such as aws-kms')
      .default('file'),
  })
  .transform((value, ctx): LocalKeySourceConfig | ExternalKeySourceConfig => {
    const local = localSchemas[value.source as keyof typeof localSchemas];
    if (local === undefined) return value;
    const parsed = local.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: undefined });
    return z.NEVER;
  })
  .default({ source: 'file' });

/** Parsed `keyring` settings. */
export type KeySourceConfig = z.output<typeof keySourceConfigSchema>;

/** What any key source may need besides its config. */
export type KeySourceOptions = KeyFileSourceOptions & KeyEnvSourceOptions;

/** Whether the settings name the key file or the environment variable (as opposed to a KMS). */
export function isLocalKeySourceConfig(config: KeySourceConfig): config is LocalKeySourceConfig {
  return config.source === 'file' || config.source === 'env';
}

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
 * The key source a config names, for the key file and the environment variable. KMS sources come
 * from packages and need {@link openKeySource}.
 *
 * @example
 * const source = createKeySource(parseKeySourceConfig(settings.keyring), { dataDir });
 */
export function createKeySource(config: KeySourceConfig, options: KeySourceOptions = {}): KeySource {
  if (config.source === 'file') {
    return keyFileSource(config as z.output<typeof keyFileSourceConfigSchema>, options);
  }
  if (config.source === 'env')
    return keyEnvSource(config as z.output<typeof keyEnvSourceConfigSchema>, options);
  throw invalidConfig(
    [{ path: 'keyring.source', message: `${config.source} is a KMS key source; open it with openKeySource` }],
    `keyring.source: ${config.source} is a KMS key source; open it with openKeySource`,
  );
}

/** What {@link openKeySource} needs besides the settings. */
export interface OpenKeySourceOptions extends KeySourceOptions {
  logger?: Logger;
  clock?: Clock;
  /** Key source definitions from code, looked up by id before any package is loaded. */
  definitions?: readonly KeySourceDefinition[];
  /** Where key source packages are resolved from (default: the working directory, then Coffer's own). */
  cwd?: string;
}

/**
 * An opened key source; for a KMS source also the bounds of its data key cache, and the key file
 * or variable (`keyring.previous`) whose keys still open values sealed before the move to the KMS.
 */
export type OpenedKeySource =
  | { readonly source: KeySource; readonly cache?: undefined; readonly previous?: undefined }
  | {
      readonly source: ExternalKeySource;
      readonly cache: DataKeyCacheSettings;
      readonly previous?: KeySource;
    };

/**
 * The key source the `keyring` settings name: the key file or environment variable, or a KMS key
 * source from its package (`aws-kms` → `@coffer/keysource-aws-kms`, see `keySourcePackages`) or
 * from `definitions`. A KMS source's settings are validated by the package's schema; every problem
 * is reported at once as `invalid_config` naming `keyring.<setting>`.
 *
 * @example
 * const { source, cache } = await openKeySource(config.keyring, { dataDir, logger });
 * const keyring = await openKeyring({ source, cache, database, deploymentId, logger });
 */
export async function openKeySource(
  config: KeySourceConfig,
  options: OpenKeySourceOptions = {},
): Promise<OpenedKeySource> {
  if (isLocalKeySourceConfig(config)) return { source: createKeySource(config, options) };
  const definition =
    options.definitions?.find((d) => d.id === config.source) ??
    (await loadKeySourceDefinition(config.source, options.cwd));
  const { source: _type, cache: rawCache, previous: rawPrevious, ...settings } = config;
  const issues: FieldIssue[] = [];
  const cache = dataKeyCacheSettingsSchema.safeParse(rawCache);
  if (!cache.success) issues.push(...fieldIssuesFromZod(cache.error, 'keyring.cache'));
  const previous = rawPrevious === undefined ? undefined : previousSchema.safeParse(rawPrevious);
  if (previous?.success === false) issues.push(...fieldIssuesFromZod(previous.error, 'keyring.previous'));
  const parsed = definition.configSchema.safeParse(settings);
  if (!parsed.success) issues.push(...fieldIssuesFromZod(parsed.error, 'keyring'));
  if (!cache.success || !parsed.success || previous?.success === false) throw invalidConfig(issues);
  const source = await definition.create(parsed.data, {
    logger: options.logger ?? silentLogger(),
    clock: options.clock ?? systemClock,
  });
  return {
    source,
    cache: Object.freeze(cache.data),
    ...(previous?.success === true
      ? { previous: existingKeysOnly(createKeySource(previous.data, options)) }
      : {}),
  };
}

/** `keyring.previous`: the key file or variable a deployment used before it moved to a KMS. */
const previousSchema = z
  .looseObject({ source: z.enum(['file', 'env']) })
  .transform((value, ctx): LocalKeySourceConfig => {
    const parsed = localSchemas[value.source].safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: undefined });
    return z.NEVER;
  });

/**
 * The previous key source reads its keys but never makes one: a key file that is not there is a
 * mistake in `keyring.previous.path`, not a first start.
 */
function existingKeysOnly(source: KeySource): KeySource {
  return {
    ...source,
    canRotate: false,
    async load(context) {
      if (source.status.type === 'file' && !existsSync(source.status.path)) {
        throw invalidConfig([
          { path: 'keyring.previous.path', message: `there is no key file at ${source.status.path}` },
        ]);
      }
      return source.load(context);
    },
    rotate: () =>
      Promise.reject(
        new CofferError('unsupported', `${source.description} only opens values sealed before the KMS`),
      ),
  };
}
