import { z } from 'zod';
import { type Backend, type BackendDefinition, defineBackend } from '../backends/backend.js';
import { memoryBackendDefinition } from '../backends/memory/memory-backend.js';

type Operations = Pick<Backend, 'put' | 'get' | 'delete' | 'list'>;

/**
 * A test backend type: the memory backend (config `{ store }`) with some of its operations
 * replaced by `wrap`, which gets the inner memory backend to delegate to. Tests use it for
 * stores that fail, answer late or wait for a signal.
 *
 * @example
 * const slow = wrappedMemoryBackend('slow', (inner) => ({
 *   async put(ref, values) { await inner.put(ref, values); await gate; },
 * }));
 */
export function wrappedMemoryBackend(
  id: string,
  wrap: (inner: Backend) => Partial<Operations>,
): BackendDefinition {
  const definition = defineBackend({
    id,
    displayName: id,
    description: `memory with test behaviour (${id})`,
    configSchema: z.object({ store: z.string() }).strict(),
    capabilities: { versioning: true, listing: true, labels: false, envelope: false },
    async create(config, context): Promise<Backend> {
      const inner = await memoryBackendDefinition.create({ store: config.store }, context);
      return {
        name: inner.name,
        type: id,
        capabilities: inner.capabilities,
        get: (ref) => inner.get(ref),
        delete: (ref) => inner.delete(ref),
        list: (options) => inner.list(options),
        put: (ref, values) => inner.put(ref, values),
        ...wrap(inner),
      };
    },
  });
  return definition as BackendDefinition;
}
