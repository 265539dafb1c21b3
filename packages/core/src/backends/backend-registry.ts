import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import type { Logger } from '../logging/logger.js';
import type { Backend, BackendContext, BackendDefinition } from './backend.js';
import type { SourcedDefinition } from './backend-module-loader.js';
import { withBackup } from './backup-backend.js';
import { guardBackend } from './guarded-backend.js';

/** The configuration of one backend instance: its definition's id plus that definition's settings. */
export interface BackendInstanceConfig {
  type: string;
  [setting: string]: unknown;
}

/** Backend definitions by id, each with where it came from. */
export interface BackendRegistry {
  get(id: string): BackendDefinition | undefined;
  list(): BackendDefinition[];
  /** `builtin`, `code` (passed to createCoffer) or the path of the module that defined it. */
  sourceOf(id: string): string | undefined;
}

/**
 * A registry of backend definitions; a duplicate id is a configuration error naming both sources.
 *
 * @example
 * const registry = createBackendRegistry([{ definition: sqlBackendDefinition, source: 'builtin' }]);
 */
export function createBackendRegistry(
  entries: readonly (SourcedDefinition | BackendDefinition)[],
): BackendRegistry {
  const byId = new Map<string, SourcedDefinition>();
  for (const entry of entries) {
    const sourced = 'definition' in entry ? entry : { definition: entry, source: 'code' };
    const existing = byId.get(sourced.definition.id);
    if (existing !== undefined) {
      throw new CofferError(
        'invalid_config',
        `two backend definitions share the id "${sourced.definition.id}" (${existing.source} and ${sourced.source})`,
      );
    }
    byId.set(sourced.definition.id, sourced);
  }
  return {
    get: (id) => byId.get(id)?.definition,
    list: () => [...byId.values()].map((e) => e.definition),
    sourceOf: (id) => byId.get(id)?.source,
  };
}

/** The backend instances a Coffer runs with, by configured name. */
export interface BackendSet {
  /** The instance new values are written to (with its backup, when one is configured). */
  readonly active: Backend;
  /** The configured instance mirroring the active one, if any. */
  readonly backup: Backend | undefined;
  /** The instance by name; the active one comes with its backup. */
  get(name: string): Backend | undefined;
  /** Like get, but a secret pointing at an unconfigured backend is a clear error. */
  require(name: string): Backend;
  /** Every configured instance once, without the backup pairing. */
  all(): Backend[];
  close(): Promise<void>;
}

export interface BackendSetOptions {
  /** The instance that mirrors every write to the active one; reads fall back to it. */
  backup?: string | undefined;
  logger: Logger;
}

/**
 * Validates every instance's settings against its definition (reporting every problem at
 * once, naming `backends.<name>.<setting>` and, for custom definitions, the module) and
 * creates the instances, each wrapped so its errors come out as `CofferError`s.
 */
export async function createBackendSet(
  registry: BackendRegistry,
  configs: Readonly<Record<string, BackendInstanceConfig>>,
  activeName: string,
  context: Omit<BackendContext, 'name'>,
  options: BackendSetOptions = { logger: context.logger },
): Promise<BackendSet> {
  const issues: FieldIssue[] = [];
  const parsed: [string, BackendDefinition, unknown][] = [];
  for (const [name, config] of Object.entries(configs)) {
    const definition = registry.get(config.type);
    if (definition === undefined) {
      const known = registry
        .list()
        .map((d) => d.id)
        .join(', ');
      issues.push({
        path: `backends.${name}.type`,
        message: `unknown backend type "${config.type}"; known: ${known}`,
      });
      continue;
    }
    const { type: _type, ...settings } = config;
    const result = definition.configSchema.safeParse(settings);
    if (!result.success) {
      const source = registry.sourceOf(definition.id);
      const from =
        source === 'builtin' || source === 'code'
          ? ''
          : ` (backend type "${definition.id}" from module ${source})`;
      issues.push(
        ...fieldIssuesFromZod(result.error, `backends.${name}`).map((i) => ({
          ...i,
          message: `${i.message}${from}`,
        })),
      );
      continue;
    }
    parsed.push([name, definition, result.data]);
  }
  if (!(activeName in configs)) {
    issues.push({
      path: 'backend',
      message: `names no configured backend; configured: ${Object.keys(configs).join(', ')}`,
    });
  }
  const backupName = options.backup;
  if (backupName !== undefined) {
    if (!(backupName in configs)) {
      issues.push({
        path: 'backup',
        message: `names no configured backend; configured: ${Object.keys(configs).join(', ')}`,
      });
    } else if (backupName === activeName) {
      issues.push({ path: 'backup', message: 'must be another backend than the active one' });
    }
  }
  if (issues.length > 0) {
    throw new CofferError(
      'invalid_config',
      `invalid backend configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  const instances = new Map<string, Backend>();
  try {
    for (const [name, definition, settings] of parsed) {
      let backend: Backend;
      try {
        backend = await definition.create(settings, { ...context, name });
      } catch (err) {
        const source = registry.sourceOf(definition.id);
        const from = source === 'builtin' || source === 'code' ? '' : ` from module ${source}`;
        const message = `backend "${name}" (type ${definition.id}${from}) could not start: ${messageOf(err)}`;
        throw new CofferError('invalid_config', message, {
          cause: err,
          details: { issues: [{ path: `backends.${name}`, message }] },
        });
      }
      instances.set(name, guardBackend(backend));
    }
  } catch (err) {
    for (const backend of instances.values()) await backend.close?.().catch(() => {});
    throw err;
  }
  const primary = instances.get(activeName)!;
  const backup = backupName === undefined ? undefined : instances.get(backupName);
  const active = backup === undefined ? primary : withBackup(primary, backup, options.logger);
  const get = (name: string) => (name === activeName ? active : instances.get(name));
  return {
    active,
    backup,
    get,
    require(name) {
      const backend = get(name);
      if (backend === undefined) {
        throw new CofferError(
          'backend_unavailable',
          `backend "${name}" holds values of this secret but is not configured; add it under backends`,
        );
      }
      return backend;
    },
    all: () => [...instances.values()],
    async close() {
      for (const backend of instances.values()) await backend.close?.();
    },
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
