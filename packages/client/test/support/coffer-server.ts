// The real server process for the SDK's tests, started by the server's own test support.
import { type CofferClient, createClient } from '@coffer/client';
import { type ServerProcess, startServer } from '../../../server/test/support/server-process.js';

export { cleanupServers } from '../../../server/test/support/server-process.js';

export const adminPassword = 'correct horse battery staple, for tests';

export interface TestCoffer {
  server: ServerProcess;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** A read-write token of the admin. */
  token: string;
  /** The admin, by that token. */
  admin: CofferClient;
}

/** A fresh server (SQLite in a temporary directory) with the admin's token. */
export async function startCoffer(env: Record<string, string> = {}): Promise<TestCoffer> {
  const server = await startServer({
    env: { COFFER_ADMIN_PASSWORD: adminPassword, COFFER_LOG_LEVEL: 'warn', ...env },
  });
  const session = createClient({ baseUrl: server.url });
  await session.auth.login({ username: 'admin', password: adminPassword });
  const { token } = await session.tokens.create({ name: 'sdk tests', scope: 'read-write' });
  await session.auth.logout();
  return { server, url: server.url, token, admin: createClient({ baseUrl: server.url, token }) };
}

/** A member with a password and a client logged in by token. */
export async function createMember(
  coffer: TestCoffer,
  username: string,
): Promise<{ id: string; client: CofferClient; password: string }> {
  const password = `${username} has a long password`;
  const user = await coffer.admin.users.create({ username, password, role: 'member' });
  const session = createClient({ baseUrl: coffer.url });
  await session.auth.login({ username, password });
  const { token } = await session.tokens.create({ name: 'tests', scope: 'read-write' });
  return { id: user.id, client: createClient({ baseUrl: coffer.url, token }), password };
}
