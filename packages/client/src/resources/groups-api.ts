import type {
  CreateGroupInput,
  Group,
  GroupFilter,
  GroupMember,
  GroupWithMembers,
  UpdateGroupInput,
} from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** Groups of users. Admins manage them; a share to a group lets its members use a secret. */
export interface GroupsApi {
  /** `GET /groups`: by name; `query` is a name prefix. */
  list(filter?: GroupFilter & PageQuery & CallOptions): Promise<Page<Group>>;
  /** Every group {@link list} finds, page after page. */
  iterate(filter?: GroupFilter & { limit?: number } & CallOptions): AsyncGenerator<Group, void, undefined>;
  /** `POST /groups` (admins). */
  create(input: CreateGroupInput, options?: CallOptions): Promise<Group>;
  /** `GET /groups/{id}`: the group with its members (admins and members). */
  get(id: string, options?: CallOptions): Promise<GroupWithMembers>;
  /** `PATCH /groups/{id}` (admins). */
  update(id: string, input: UpdateGroupInput, options?: CallOptions): Promise<Group>;
  /** `DELETE /groups/{id}` (admins; not the builtin `system` group). */
  delete(id: string, options?: CallOptions): Promise<void>;
  /** `GET /groups/{id}/members`: one page, by username. */
  members(id: string, page?: PageQuery & CallOptions): Promise<Page<GroupMember>>;
  /** `PUT /groups/{id}/members/{userId}` (admins; idempotent). */
  addMember(id: string, userId: string, options?: CallOptions): Promise<void>;
  /** `DELETE /groups/{id}/members/{userId}` (admins). */
  removeMember(id: string, userId: string, options?: CallOptions): Promise<void>;
}

export function groupsApi(transport: Transport): GroupsApi {
  const api: GroupsApi = {
    list: (filter) => {
      const { query, call } = splitOptions(filter);
      return transport.call('GET /groups', { query, ...call });
    },
    iterate: (filter = {}) => {
      const { limit, signal, ...rest } = filter;
      return paginate((page) => api.list({ ...rest, ...page }), {
        ...(limit === undefined ? {} : { limit }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
    create: (input, options) => transport.call('POST /groups', { body: input, ...callOptions(options) }),
    get: (id, options) => transport.call('GET /groups/{id}', { path: { id }, ...callOptions(options) }),
    update: (id, input, options) =>
      transport.call('PATCH /groups/{id}', { path: { id }, body: input, ...callOptions(options) }),
    delete: async (id, options) => {
      await transport.call('DELETE /groups/{id}', { path: { id }, ...callOptions(options) });
    },
    members: (id, page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /groups/{id}/members', { path: { id }, query, ...call });
    },
    addMember: async (id, userId, options) => {
      await transport.call('PUT /groups/{id}/members/{userId}', {
        path: { id, userId },
        ...callOptions(options),
      });
    },
    removeMember: async (id, userId, options) => {
      await transport.call('DELETE /groups/{id}/members/{userId}', {
        path: { id, userId },
        ...callOptions(options),
      });
    },
  };
  return api;
}
