import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import type { Backend, BackendContext, BackendDefinition } from './backend.js';

/** The configuration of one backend instance: its definition's id plus that definition's settings. */
export interface BackendInstanceConfig {
  type: string;
  [setting: string]: unknown;
}

/** Backend definitions by id. */
export interface BackendRegistry {
  get(id: string): BackendDefinition | undefined;
  list(): BackendDefinition[];
}

/**
 * A registry of backend definitions; a duplicate id is a configuration error.
 *
 * @example
 * const registry = createBackendRegistry([sqlBackendDefinition, myDefinition]);
 */
export function createBackendRegistry(definitions: readonly BackendDefinition[]): BackendRegistry {
  const byId = new Map<string, BackendDefinition>();
  for (const definition of definitions) {
    if (byId.has(definition.id)) {
      throw new CofferError('invalid_config', `two backend definitions share the id "${definition.id}"`);
    }
    byId.set(definition.id, definition);
  }
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
  };
}

/** The backend instances a Coffer runs with, by configured name. */
export interface BackendSet {
  /** The instance new values are written to. */
  readonly active: Backend;
  get(name: string): Backend | undefined;
  /** Like get, but a secret pointing at an unconfigured backend is a clear error. */
  require(name: string): Backend;
  all(): Backend[];
  close(): Promise<void>;
}

/**
 * Validates every instance's settings against its definition (reporting every problem at
 * once, naming `backends.<name>.<setting>`) and creates the instances.
 */
export async function createBackendSet(
  registry: BackendRegistry,
  configs: Readonly<Record<string, BackendInstanceConfig>>,
  activeName: string,
  context: Omit<BackendContext, 'name'>,
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
      issues.push(...fieldIssuesFromZod(result.error, `backends.${name}`));
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
  if (issues.length > 0) {
    throw new CofferError(
      'invalid_config',
      `invalid backend configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      {
        details: { issues },
      },
    );
  }
  const instances = new Map<string, Backend>();
  for (const [name, definition, settings] of parsed) {
    instances.set(name, await definition.create(settings, { ...context, name }));
  }
  const active = instances.get(activeName)!;
  return {
    active,
    get: (name) => instances.get(name),
    require(name) {
      const backend = instances.get(name);
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
