import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** A client error as Node's HTTP server reports it (`clientError`). */
type ClientError = Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number };

/** The largest request head the bridge reads (Node's default header limit). */
const maxHeadBytes = 16 * 1024;

/**
 * A Fastify `clientErrorHandler` that answers Vault's `LIST` requests. Vault clients such as
 * node-vault and hvac send LIST as an HTTP method, which Node's HTTP parser refuses before
 * any route sees it. This handler takes the refused request head, and when it is a `LIST`
 * under `prefix`, answers it as `GET <path>?list=true` through the app itself (same hooks,
 * authentication, audit), then closes the connection (the parser cannot go on after the
 * error). Any other client error gets what Fastify does by default (400, 408 or 431).
 *
 * @example
 * const app = Fastify({ clientErrorHandler: vaultListBridge() });
 */
export function vaultListBridge(options: { prefix?: string } = {}) {
  const prefix = options.prefix ?? '/v1/';
  const answered = new WeakSet<Socket>();
  return function clientErrorHandler(this: FastifyInstance, error: Error, socket: Socket): void {
    const err = error as ClientError;
    // The parser stays broken: more bytes from a socket already answered are not a new error.
    if (answered.has(socket)) return;
    const head = err.code === 'HPE_INVALID_METHOD' ? listHeadOf(err) : undefined;
    if (head === undefined || !head.url.startsWith(prefix)) {
      rejectClientError(this, err, socket);
      return;
    }
    answered.add(socket);
    this.inject({
      method: 'GET',
      url: withListParameter(head.url),
      headers: head.headers,
      remoteAddress: socket.remoteAddress ?? '127.0.0.1',
    }).then(
      (response) => {
        const headers = Object.entries(response.headers).filter(
          ([name]) => !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name),
        );
        writeAndClose(socket, response.statusCode, headers, response.rawPayload);
      },
      (failure: unknown) => {
        this.log.warn({ err: failure }, 'a LIST request could not be answered');
        writeAndClose(
          socket,
          503,
          [['content-type', 'application/json']],
          Buffer.from('{"errors":["the server is not available"]}'),
        );
      },
    );
  };
}

interface ListHead {
  url: string;
  headers: Record<string, string>;
}

/** The head of the `LIST` request the parser stopped at, or undefined when it is not complete. */
function listHeadOf(err: ClientError): ListHead | undefined {
  const raw = err.rawPacket;
  if (raw === undefined) return undefined;
  const text = raw.subarray(0, maxHeadBytes).toString('latin1');
  // The chunk may hold earlier requests; the parser stopped inside the method's name.
  const start = text.lastIndexOf('LIST ', err.bytesParsed ?? 0);
  if (start === -1) return undefined;
  const end = text.indexOf('\r\n\r\n', start);
  if (end === -1) return undefined;
  const [requestLine = '', ...lines] = text.slice(start, end).split('\r\n');
  const match = /^LIST (\/\S*) HTTP\/1\.[01]$/.exec(requestLine);
  if (match === null) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    // A LIST has no body; its framing headers would mislead the injected request.
    if (['content-length', 'transfer-encoding', 'connection', 'expect'].includes(name)) continue;
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { url: match[1]!, headers };
}

function withListParameter(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}list=true`;
}

function writeAndClose(socket: Socket, status: number, headers: [string, unknown][], body: Buffer): void {
  if (socket.destroyed || !socket.writable) return;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`];
  for (const [name, value] of headers) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(one)}`);
  }
  lines.push(`content-length: ${body.length}`, 'connection: close');
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}

/** Fastify's default answer to a client error, for everything that is not a Vault LIST. */
function rejectClientError(app: FastifyInstance, err: ClientError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Client Timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Exceeded maximum allowed HTTP header size']
        : [400, 'Client Error'];
  app.log.trace({ err }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
