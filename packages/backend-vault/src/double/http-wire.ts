import net from 'node:net';

/**
 * A small HTTP/1.1 server on plain sockets. Vault's API uses the `LIST` method, which Node's
 * HTTP parser refuses (it knows a fixed set of methods), so the double parses requests itself:
 * request line, headers, a body by Content-Length or chunked, keep-alive, `Expect: 100-continue`.
 */

export interface WireRequest {
  method: string;
  /** The request target: path and query. */
  target: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface WireResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** What the handler may do instead of answering: drop the connection without a word. */
export const dropConnection = Symbol('drop');

export type WireHandler = (request: WireRequest) => Promise<WireResponse | typeof dropConnection>;

const reasons: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  307: 'Temporary Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

const maxHeaderBytes = 64 * 1024;

class ParseError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads one chunked body from `buf` at `start`; undefined when more bytes are needed. */
function readChunked(buf: Buffer, start: number, limit: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  let total = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new ParseError(400, 'bad chunk size');
    at = lineEnd + 2;
    if (size === 0) {
      // trailers end with an empty line
      const end = buf.indexOf('\r\n', at);
      if (end === -1) return undefined;
      if (end === at) return { body: Buffer.concat(parts), end: end + 2 };
      const trailersEnd = buf.indexOf('\r\n\r\n', at);
      if (trailersEnd === -1) return undefined;
      return { body: Buffer.concat(parts), end: trailersEnd + 4 };
    }
    total += size;
    if (total > limit) throw new ParseError(413, 'http: request body too large');
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * Starts the server on 127.0.0.1. Requests on one connection are answered in order.
 *
 * @example
 * const server = await startWireServer(async (req) => ({ status: 200, body: req.method }), { port: 0 });
 */
export async function startWireServer(
  handler: WireHandler,
  options: { port?: number; maxBodyBytes: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    let continued = false;
    const write = (res: WireResponse, keepAlive: boolean, head = false) => {
      const body = res.body === undefined ? Buffer.alloc(0) : Buffer.from(res.body);
      const lines = [`HTTP/1.1 ${res.status} ${reasons[res.status] ?? 'Status'}`];
      for (const [k, v] of Object.entries(res.headers ?? {})) lines.push(`${k}: ${v}`);
      lines.push(`Date: ${new Date().toUTCString()}`);
      lines.push(`Content-Length: ${body.length}`);
      lines.push(`Connection: ${keepAlive ? 'keep-alive' : 'close'}`);
      socket.write(
        Buffer.concat([
          Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
          head ? Buffer.alloc(0) : body,
        ]),
      );
      if (!keepAlive) socket.end();
    };
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          const headEnd = buf.indexOf('\r\n\r\n');
          if (headEnd === -1) {
            if (buf.length > maxHeaderBytes) throw new ParseError(431, 'headers too large');
            return;
          }
          const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
          const [method, target, version] = (head[0] ?? '').split(' ');
          if (
            method === undefined ||
            target === undefined ||
            version === undefined ||
            !/^HTTP\/1\.[01]$/.test(version)
          ) {
            throw new ParseError(400, 'bad request line');
          }
          const headers: Record<string, string> = {};
          for (const line of head.slice(1)) {
            const colon = line.indexOf(':');
            if (colon <= 0) throw new ParseError(400, 'bad header');
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim();
            headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
          }
          let body: Buffer;
          let end: number;
          if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
            const chunked = readChunked(buf, headEnd + 4, options.maxBodyBytes);
            if (chunked === undefined) {
              if (headers.expect?.toLowerCase() === '100-continue' && !continued) {
                continued = true;
                socket.write('HTTP/1.1 100 Continue\r\n\r\n');
              }
              return;
            }
            body = chunked.body;
            end = chunked.end;
          } else {
            const length = Number(headers['content-length'] ?? '0');
            if (!Number.isSafeInteger(length) || length < 0) throw new ParseError(400, 'bad content-length');
            if (length > options.maxBodyBytes) throw new ParseError(413, 'http: request body too large');
            if (buf.length < headEnd + 4 + length) {
              if (headers.expect?.toLowerCase() === '100-continue' && !continued) {
                continued = true;
                socket.write('HTTP/1.1 100 Continue\r\n\r\n');
              }
              return;
            }
            body = buf.subarray(headEnd + 4, headEnd + 4 + length);
            end = headEnd + 4 + length;
          }
          buf = buf.subarray(end);
          continued = false;
          const keepAlive =
            version === 'HTTP/1.1'
              ? headers.connection?.toLowerCase() !== 'close'
              : headers.connection?.toLowerCase() === 'keep-alive';
          const answer = await handler({ method, target, headers, body: Buffer.from(body) });
          if (answer === dropConnection) {
            socket.destroy();
            return;
          }
          if (socket.destroyed) return;
          write(answer, keepAlive, method.toUpperCase() === 'HEAD');
          if (!keepAlive) return;
        }
      } catch (err) {
        const status = err instanceof ParseError ? err.status : 500;
        write(
          {
            status,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ errors: [(err as Error).message] }),
          },
          false,
        );
      } finally {
        busy = false;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      void pump().then(() => {
        // bytes that arrived while a request was being answered
        if (!busy && buf.indexOf('\r\n\r\n') !== -1 && !socket.destroyed) void pump();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
