import type { CreateUserInput, SetPasswordInput, UpdateUserInput, User, UserFilter } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** Users and service accounts (`type: 'service_account'`: bots that use tokens). */
export interface UsersApi {
  /** `GET /users`: by username; `query` is a prefix of the username or display name. */
  list(filter?: UserFilter & PageQuery & CallOptions): Promise<Page<User>>;
  /** Every user {@link list} finds, page after page. */
  iterate(filter?: UserFilter & { limit?: number } & CallOptions): AsyncGenerator<User, void, undefined>;
  /** `POST /users` (admins). */
  create(input: CreateUserInput, options?: CallOptions): Promise<User>;
  /** `GET /users/{id}`. */
  get(id: string, options?: CallOptions): Promise<User>;
  /** `PATCH /users/{id}`: admins anything (`disabled: true` ends sessions); users their own name and email. */
  update(id: string, input: UpdateUserInput, options?: CallOptions): Promise<User>;
  /** `POST /users/{id}/password`: ends every session of the user. */
  setPassword(id: string, input: SetPasswordInput, options?: CallOptions): Promise<void>;
  /** `DELETE /users/{id}/sessions`: logs the user out everywhere. */
  endSessions(id: string, options?: CallOptions): Promise<{ ended: number }>;
}

export function usersApi(transport: Transport): UsersApi {
  const api: UsersApi = {
    list: (filter) => {
      const { query, call } = splitOptions(filter);
      return transport.call('GET /users', { query, ...call });
    },
    iterate: (filter = {}) => {
      const { limit, signal, ...rest } = filter;
      return paginate((page) => api.list({ ...rest, ...page }), {
        ...(limit === undefined ? {} : { limit }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
    create: (input, options) => transport.call('POST /users', { body: input, ...callOptions(options) }),
    get: (id, options) => transport.call('GET /users/{id}', { path: { id }, ...callOptions(options) }),
    update: (id, input, options) =>
      transport.call('PATCH /users/{id}', { path: { id }, body: input, ...callOptions(options) }),
    setPassword: async (id, input, options) => {
      await transport.call('POST /users/{id}/password', {
        path: { id },
        body: input,
        ...callOptions(options),
      });
    },
    endSessions: (id, options) =>
      transport.call('DELETE /users/{id}/sessions', { path: { id }, ...callOptions(options) }),
  };
  return api;
}
