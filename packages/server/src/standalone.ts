// The standalone server, as `npm start` and `coffer server` run it: configuration from
// COFFER_* variables and an optional config file, the engine and the HTTP server, a banner
// with the URL (and, on the first start only, the admin's credentials), and a graceful
// shutdown on SIGTERM/SIGINT.
import { isCofferError } from '@coffer/core';
import { loadServerConfig } from './config/load-server-config.js';
import { type IdleMemory, releaseMemoryWhenIdle } from './idle-memory.js';
import { apiPrefix, type CofferServer, createCofferServer } from './server.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const fail = (lines: string[], code = 1): never => {
  for (const line of lines) process.stderr.write(`${line}\n`);
  process.exit(code);
};

function problemLines(err: unknown): string[] {
  if (isCofferError(err) && err.code === 'invalid_config' && Array.isArray(err.details.issues)) {
    return [
      'coffer: the configuration is invalid, so the server did not start:',
      ...err.details.issues.map((i) => `  ${i.path}: ${i.message}`),
    ];
  }
  if (isCofferError(err)) return [`coffer: the server did not start (${err.code}): ${err.message}`];
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return [`coffer: the address is already in use: ${e.message}`];
  if (e?.code === 'EACCES') return [`coffer: not allowed to listen there: ${e.message}`];
  return [`coffer: the server did not start: ${e?.message ?? String(err)}`];
}

/** The first admin's credentials, on the start that created the account; otherwise nothing. */
function firstAdminLines(server: CofferServer): string[] {
  const first = server.coffer.bootstrap;
  if (!first.created) return [];
  const lines = ['First start: an admin account was created.', `  username: ${first.username}`];
  if (server.coffer.config.adminPassword === undefined) {
    lines.push(`  password: ${first.password}`, '  This password is shown only now. Log in and change it.');
  } else {
    lines.push('  password: the one given in the configuration (COFFER_ADMIN_PASSWORD)');
  }
  return lines;
}

/**
 * Runs the standalone server in this process until SIGTERM or SIGINT, then exits the
 * process. A configuration problem is printed (every problem at once) and exits with 1.
 *
 * @example
 * await runStandaloneServer(); // what `npm start` does
 */
export async function runStandaloneServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let server: CofferServer | undefined;
  let url: string;
  let idleMemory: IdleMemory | undefined;
  try {
    const { config, warnings } = loadServerConfig(env);
    for (const warning of warnings) process.stderr.write(`coffer: warning: ${warning}\n`);
    if (config.server.releaseIdleMemory) idleMemory = watchIdleMemory(() => server);
    server = await createCofferServer(
      config,
      idleMemory === undefined ? {} : { onRequest: idleMemory.noteRequest },
    );
    // Printed before listening: should the listen fail, the generated password is not lost.
    const credentials = firstAdminLines(server);
    if (credentials.length > 0) out(credentials.join('\n'));
    url = await server.listen();
  } catch (err) {
    await server?.close().catch(() => {});
    fail(problemLines(err));
  }

  const running = server!;
  // One write, so the banner reaches a pipe whole (a reader sees all of it or none).
  const banner = [
    `Coffer is running at ${url!}`,
    `  API: ${url!}${apiPrefix}  (docs: ${url!}${apiPrefix}/docs)`,
    `  database: ${running.coffer.database.displayUrl}`,
  ];
  out(banner.join('\n'));

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) {
        process.stderr.write(`coffer: ${signal} again; exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      idleMemory?.stop();
      running.logger.info({ signal }, 'shutting down: finishing in-flight requests');
      running.close().then(
        () => {
          running.logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          running.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/**
 * Releases memory whenever the server goes quiet (`server.releaseIdleMemory`). Started before
 * the server exists, so that it can count the server's requests from the first one.
 */
function watchIdleMemory(server: () => CofferServer | undefined): IdleMemory {
  return releaseMemoryWhenIdle({
    releaseOther: () => server()?.coffer.database.releaseMemory(),
    onReleased: ({ heapTrimmed, ...figures }) =>
      server()?.logger.debug(
        {
          ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v)])),
          heapTrimmed,
        },
        'idle: memory released',
      ),
    onError: (err) => server()?.logger.warn({ err }, 'idle: releasing memory failed'),
  });
}
