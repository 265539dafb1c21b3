import type { BackendDefinition, BackendInstance } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import type { Page, PageQuery } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** Where values live: configured backend instances and the types available (admins). */
export interface BackendsApi {
  /** `GET /backends`: instances with their capabilities, which is active, how many secrets each holds. */
  list(page?: PageQuery & CallOptions): Promise<Page<BackendInstance>>;
  /** `GET /backends/definitions`: backend types with the JSON Schema of their settings. */
  definitions(page?: PageQuery & CallOptions): Promise<Page<BackendDefinition>>;
  /** `GET /backends/{name}`. */
  get(name: string, options?: CallOptions): Promise<BackendInstance>;
}

export function backendsApi(transport: Transport): BackendsApi {
  return {
    list: (page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /backends', { query, ...call });
    },
    definitions: (page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /backends/definitions', { query, ...call });
    },
    get: (name, options) =>
      transport.call('GET /backends/{name}', { path: { name }, ...callOptions(options) }),
  };
}
