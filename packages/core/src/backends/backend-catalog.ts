import { z } from 'zod';
import { requireAdmin } from '../access/require-admin.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import type { CofferDatabase } from '../storage/database.js';
import type { BackendCapabilities } from './backend.js';
import type { SourcedDefinition } from './backend-module-loader.js';
import type { BackendRegistry, BackendSet } from './backend-registry.js';

/** A kind of backend that can be configured, as listed for admins (CLI, API, web UI). */
export interface BackendDefinitionInfo {
  id: string;
  displayName: string;
  description: string;
  capabilities: BackendCapabilities;
  /** The settings an instance of it takes, as JSON Schema (what a form renders). */
  configSchema: Record<string, unknown>;
  /** `builtin`, `code` (given to createCoffer) or the path of the module it came from. */
  source: string;
}

/** A configured backend instance, as listed for admins. */
export interface BackendInstanceInfo {
  name: string;
  type: string;
  capabilities: BackendCapabilities;
  /** New values are written to it. */
  active: boolean;
  /** It mirrors the active backend. */
  backup: boolean;
  /** Secrets (live and deleted) whose values it holds. */
  secrets: number;
}

export interface BackendCatalog {
  /**
   * Every available backend definition with its config schema, and every configured instance
   * (admins only).
   *
   * @example
   * const { definitions, instances } = await coffer.backends.describe(asUser(adminId));
   */
  describe(actor: Actor): Promise<{ definitions: BackendDefinitionInfo[]; instances: BackendInstanceInfo[] }>;
  /**
   * The configured instances only (admins only): what `describe` says of them, without loading
   * the installed store packages' SDKs that `describe` lists as available definitions.
   *
   * @example
   * const instances = await coffer.backends.instances(asUser(adminId));
   */
  instances(actor: Actor): Promise<BackendInstanceInfo[]>;
}

export function createBackendCatalog(deps: {
  registry: BackendRegistry;
  backends: BackendSet;
  activeName: string;
  backupName: string | undefined;
  database: CofferDatabase;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: Pick<AuditLog, 'appendStandalone'>;
  /** Definitions of installed store packages that no instance uses (loaded on first ask). */
  installedStores?: () => Promise<SourcedDefinition[]>;
}): BackendCatalog {
  let installed: Promise<SourcedDefinition[]> | undefined;
  const admin = (actor: Actor) =>
    requireAdmin(deps, actor, { action: 'backend.migrate', target: { type: 'backend' }, write: false });
  async function instancesNow(): Promise<BackendInstanceInfo[]> {
    const counts = await deps.database.db
      .selectFrom('secrets')
      .select(['backend', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('backend')
      .execute();
    const bySecrets = new Map(counts.map((c) => [c.backend, Number(c.n)]));
    return deps.backends.all().map((b) => ({
      name: b.name,
      type: b.type,
      capabilities: { ...b.capabilities },
      active: b.name === deps.activeName,
      backup: b.name === deps.backupName,
      secrets: bySecrets.get(b.name) ?? 0,
    }));
  }
  return {
    async instances(actor) {
      await admin(actor);
      return instancesNow();
    },
    async describe(actor) {
      await admin(actor);
      installed ??= deps.installedStores?.() ?? Promise.resolve([]);
      const available = [
        ...deps.registry.list().map((definition) => ({
          definition,
          source: deps.registry.sourceOf(definition.id) ?? 'code',
        })),
        ...(await installed),
      ];
      return {
        definitions: available.map(({ definition: d, source }) => ({
          id: d.id,
          displayName: d.displayName,
          description: d.description,
          capabilities: { ...d.capabilities },
          configSchema: jsonSchemaOf(d.configSchema),
          source,
        })),
        instances: await instancesNow(),
      };
    },
  };
}

/** A config schema as JSON Schema (input side: defaults are optional); `{}` if it has no such form. */
export function jsonSchemaOf(schema: unknown): Record<string, unknown> {
  try {
    // A custom module may bring its own copy of zod; its schemas convert themselves.
    const own = (schema as { toJSONSchema?: (o: object) => Record<string, unknown> }).toJSONSchema;
    if (typeof own === 'function') return own.call(schema, { io: 'input', unrepresentable: 'any' });
    return z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}
