import type { Server as HttpServer } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A double's HTTP (or HTTPS) server, listening. */
export interface RunningServer<S extends HttpServer | HttpsServer = HttpServer> {
  server: S;
  /** `http://127.0.0.1:PORT`, or `https://` for an HTTPS server. */
  url: string;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

/**
 * Starts `server` listening on `host` (default 127.0.0.1) and `port` (default any free one),
 * keeping idle connections 5 s.
 *
 * @example
 * const running = await listenLocally(createServer(handler), undefined, 0);
 */
export async function listenLocally<S extends HttpServer | HttpsServer>(
  server: S,
  host?: string,
  port?: number,
): Promise<RunningServer<S>> {
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const scheme = server instanceof HttpsServer ? 'https' : 'http';
  return {
    server,
    url: `${scheme}://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
