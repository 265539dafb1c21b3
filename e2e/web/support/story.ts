// What every browser story starts with: whether it can run here, and a real server process with
// an admin whose password the browser logs in with and whose API token the test's own calls use.
import { randomBytes } from 'node:crypto';
import { type CofferClient, createClient } from '@coffer/client';
import { type ServerProcess, startServer } from '../../../packages/server/test/support/server-process.js';
import { assertWebBuilt, browserUnavailable } from './browser.js';

export { cleanupServers, type ServerProcess } from '../../../packages/server/test/support/server-process.js';

/** A step of a story: it drives a real browser, so it gets a minute. */
export const step = { timeout: 60_000 };

/**
 * Whether to skip the browser tests, having printed why. Outside CI a missing Chromium skips
 * them; under CI it throws (see {@link browserUnavailable}), failing the file.
 */
export function skipBrowserTests(): boolean {
  const unavailable = browserUnavailable();
  if (unavailable !== undefined) console.warn(`skipping the browser tests: ${unavailable}`);
  return unavailable !== undefined;
}

export interface AdminServer {
  server: ServerProcess;
  /** The admin's password, fresh for each server: what the browser logs in with. */
  adminPassword: string;
  /** A client for the test's own calls, through a read-write API token of the admin's. */
  admin: CofferClient;
}

/**
 * Starts the server serving the built UI (see {@link assertWebBuilt}; log level warn, plus `env`)
 * with a fresh admin password, and makes the admin a read-write API token named `tokenName` for
 * the test's own calls. `clientName`, when given, is what those calls are audited as coming from.
 */
export async function startCoffer(options: {
  tokenName: string;
  env?: Record<string, string>;
  clientName?: string;
}): Promise<AdminServer> {
  assertWebBuilt();
  const adminPassword = `admin-${randomBytes(8).toString('hex')}`;
  const server = await startServer({
    env: { COFFER_ADMIN_PASSWORD: adminPassword, COFFER_LOG_LEVEL: 'warn', ...options.env },
  });
  const named = options.clientName === undefined ? {} : { clientName: options.clientName };
  const session = createClient({ baseUrl: server.url, ...named });
  await session.auth.login({ username: 'admin', password: adminPassword });
  const { token } = await session.tokens.create({ name: options.tokenName, scope: 'read-write' });
  return { server, adminPassword, admin: createClient({ baseUrl: server.url, ...named, token }) };
}
