import type { CreatedToken, CreateTokenInput, TokenFilter, TokenInfo } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** API tokens for the CLI, the SDK and service accounts. */
export interface TokensApi {
  /** `GET /tokens`: the caller's tokens (admins: `userId`'s); never the token itself. */
  list(filter?: TokenFilter & PageQuery & CallOptions): Promise<Page<TokenInfo>>;
  /** Every token {@link list} finds, page after page. */
  iterate(
    filter?: TokenFilter & { limit?: number } & CallOptions,
  ): AsyncGenerator<TokenInfo, void, undefined>;
  /** `POST /tokens`: the token is in this answer only; keep it safe. */
  create(input: CreateTokenInput, options?: CallOptions): Promise<CreatedToken>;
  /** `DELETE /tokens/{id}`: revoked at once. */
  revoke(id: string, options?: CallOptions): Promise<TokenInfo>;
}

export function tokensApi(transport: Transport): TokensApi {
  const api: TokensApi = {
    list: (filter) => {
      const { query, call } = splitOptions(filter);
      return transport.call('GET /tokens', { query, ...call });
    },
    iterate: (filter = {}) => {
      const { limit, signal, ...rest } = filter;
      return paginate((page) => api.list({ ...rest, ...page }), {
        ...(limit === undefined ? {} : { limit }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
    create: (input, options) => transport.call('POST /tokens', { body: input, ...callOptions(options) }),
    revoke: (id, options) => transport.call('DELETE /tokens/{id}', { path: { id }, ...callOptions(options) }),
  };
  return api;
}
