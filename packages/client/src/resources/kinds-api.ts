import type { Kind } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** Kinds: the types of secrets, with the JSON Schema a form is rendered from. */
export interface KindsApi {
  /** `GET /kinds`: one page of kinds, by id. */
  list(page?: PageQuery & CallOptions): Promise<Page<Kind>>;
  /** Every kind, page after page. */
  iterate(options?: { limit?: number } & CallOptions): AsyncGenerator<Kind, void, undefined>;
  /** `GET /kinds/{id}`. */
  get(id: string, options?: CallOptions): Promise<Kind>;
}

export function kindsApi(transport: Transport): KindsApi {
  const api: KindsApi = {
    list: (page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /kinds', { query, ...call });
    },
    iterate: (options) => paginate((page) => api.list(page), options),
    get: (id, options) => transport.call('GET /kinds/{id}', { path: { id }, ...callOptions(options) }),
  };
  return api;
}
