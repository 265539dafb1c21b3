import type { CofferClient, Group, User } from '@coffer/client';
import { CliError } from '../errors/cli-error.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user by username or id. */
export async function findUser(client: CofferClient, nameOrId: string): Promise<User> {
  if (uuid.test(nameOrId)) return client.users.get(nameOrId);
  const page = await client.users.list({ query: nameOrId, includeDisabled: true, limit: 1000 });
  const user = page.items.find((u) => u.username === nameOrId);
  if (user === undefined) throw new CliError('not_found', `no user named ${JSON.stringify(nameOrId)}`);
  return user;
}

/** A group by name or id. */
export async function findGroup(client: CofferClient, nameOrId: string): Promise<Group> {
  if (uuid.test(nameOrId)) return client.groups.get(nameOrId);
  const page = await client.groups.list({ query: nameOrId, limit: 1000 });
  const group = page.items.find((g) => g.name === nameOrId);
  if (group === undefined) throw new CliError('not_found', `no group named ${JSON.stringify(nameOrId)}`);
  return group;
}
