import { z } from 'zod';
import { CofferError } from '../../errors/coffer-error.js';
import type { SecretValues } from '../../kinds/kind-types.js';
import type { Backend, BackendDefinition, ValueRef } from '../backend.js';
import { defineBackend } from '../backend.js';
import { decodeValues, encodeValues } from '../value-codec.js';

const memoryBackendConfig = z
  .object({
    /**
     * Instances naming the same store (in one process) share its values, e.g. a Coffer that a
     * test closes and opens again. Without it every instance has a store of its own.
     */
    store: z.string().min(1).max(200).optional(),
  })
  .strict();

const capabilities = { versioning: true, listing: true, labels: false, envelope: false } as const;

/** Values as encoded bytes by version, by secret id. */
type MemoryStore = Map<string, Map<number, Buffer>>;

const sharedStores = new Map<string, MemoryStore>();

/**
 * Values in process memory, gone when the process exits: for tests and ephemeral use. Values
 * are kept as encoded copies, so a caller changing a returned object changes nothing stored.
 *
 * @example
 * backends: { scratch: { type: 'memory' } }
 */
export const memoryBackendDefinition: BackendDefinition<z.infer<typeof memoryBackendConfig>> = defineBackend({
  id: 'memory',
  displayName: 'Memory',
  description: 'Values in process memory, lost when the process exits. For tests and ephemeral use.',
  configSchema: memoryBackendConfig,
  capabilities,
  create: (config, context) => {
    let store: MemoryStore;
    if (config.store === undefined) {
      store = new Map();
    } else {
      store = sharedStores.get(config.store) ?? new Map();
      sharedStores.set(config.store, store);
    }
    return new MemoryBackend(context.name, store);
  },
});

class MemoryBackend implements Backend {
  readonly type = 'memory';
  readonly capabilities = capabilities;
  readonly name: string;
  readonly #store: MemoryStore;

  constructor(name: string, store: MemoryStore) {
    this.name = name;
    this.#store = store;
  }

  async put(ref: ValueRef, values: SecretValues): Promise<void> {
    const bytes = encodeValues(values);
    let versions = this.#store.get(ref.secretId);
    if (versions === undefined) {
      versions = new Map();
      this.#store.set(ref.secretId, versions);
    }
    versions.set(ref.version, bytes);
  }

  async get(ref: ValueRef): Promise<SecretValues> {
    const bytes = this.#store.get(ref.secretId)?.get(ref.version);
    if (bytes === undefined) {
      throw new CofferError(
        'value_not_found',
        `backend ${this.name} holds no value for secret ${ref.secretId} version ${ref.version}`,
      );
    }
    return decodeValues(bytes, ref);
  }

  async delete(ref: ValueRef): Promise<void> {
    const versions = this.#store.get(ref.secretId);
    if (versions === undefined) return;
    versions.delete(ref.version);
    if (versions.size === 0) this.#store.delete(ref.secretId);
  }

  async list(options: { secretId?: string; after?: ValueRef; limit?: number } = {}): Promise<ValueRef[]> {
    const limit = options.limit ?? 1000;
    const after = options.after;
    const ids =
      options.secretId === undefined
        ? [...this.#store.keys()].sort()
        : this.#store.has(options.secretId)
          ? [options.secretId]
          : [];
    const refs: ValueRef[] = [];
    for (const secretId of ids) {
      if (after !== undefined && secretId < after.secretId) continue;
      const versions = [...this.#store.get(secretId)!.keys()].sort((a, b) => a - b);
      for (const version of versions) {
        if (after !== undefined && secretId === after.secretId && version <= after.version) continue;
        refs.push({ secretId, version });
        if (refs.length >= limit) return refs;
      }
    }
    return refs;
  }
}
