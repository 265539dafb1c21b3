import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The headers helmet sets with these options, worked out once. Without per-request options
 * (a CSP nonce function, say) helmet writes the same headers on every answer, so running its
 * middleware chain for each request (a dozen functions, 1-2% of a reveal) buys nothing.
 *
 * @example
 * const headers = securityHeaders({ frameguard: { action: 'deny' } });
 * app.addHook('onRequest', (req, reply, done) => { setHeaders(reply.raw, headers); done(); });
 */
export function securityHeaders(options: Readonly<HelmetOptions>): SecurityHeaders {
  // A header helmet removes (X-Powered-By) is recorded as undefined.
  const headers = new Map<string, string | undefined>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name, String(value));
    },
    removeHeader(name: string) {
      headers.set(name, undefined);
    },
  };
  let failure: unknown;
  let finished = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
    finished = true;
  });
  if (failure !== undefined) throw failure;
  if (!finished) throw new Error('helmet did not finish synchronously');
  return [...headers];
}

/** Headers to set (or, undefined, to remove) on every answer. */
export type SecurityHeaders = ReadonlyArray<readonly [string, string | undefined]>;

/** Writes headers from {@link securityHeaders} on a response. */
export function setHeaders(res: ServerResponse, headers: SecurityHeaders): void {
  for (const [name, value] of headers) {
    if (value === undefined) res.removeHeader(name);
    else res.setHeader(name, value);
  }
}
