import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DoubleCredential, verifySigV4 } from './sigv4-verifier.js';
import { AwsError } from './sm-errors.js';
import type { SecretsManagerStore } from './sm-store.js';
import { QuotaThrottle } from './sm-throttle.js';

/** What an injected fault does to a request. */
export type FaultAction =
  /** Answer with this AWS error (e.g. 500 InternalServiceError, 400 ThrottlingException). */
  | { kind: 'error'; status: number; code: string; retryAfterSeconds?: number }
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' };

interface PendingFault {
  action: FaultAction;
  remaining: number;
  operation: string | undefined;
}

/** Fault injection and request counts of a running double. */
export class FaultPlan {
  readonly #pending: PendingFault[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` requests (of `operation`, or of any) meet `action`. */
  inject(action: FaultAction, options: { count?: number; operation?: string } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, operation: options.operation });
  }

  /** Drops every fault not yet used. */
  clear(): void {
    this.#pending.length = 0;
  }

  /** Requests seen (every one that reached the double, refused ones too), of `operation` or in all. */
  requestCount(operation?: string): number {
    if (operation !== undefined) return this.#counts.get(operation) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  /** Counts a request and takes the fault it meets, if any. */
  take(operation: string): FaultAction | undefined {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const at = this.#pending.findIndex((f) => f.operation === undefined || f.operation === operation);
    if (at === -1) return undefined;
    const fault = this.#pending[at]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.#pending.splice(at, 1);
    return fault.action;
  }
}

export interface SecretsManagerServerOptions {
  store: SecretsManagerStore;
  credentials: ReadonlyMap<string, DoubleCredential>;
  faults: FaultPlan;
  /** Enforce the service's request quotas with ThrottlingException (default true). */
  throttle?: boolean;
  host?: string;
  port?: number;
}

const maxBodyBytes = 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': String(Buffer.byteLength(text)),
    'x-amzn-requestid': randomUUID(),
    ...extra,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: AwsError): void {
  send(
    res,
    err.status,
    { __type: err.type, message: err.message, Message: err.message },
    {
      'x-amzn-errortype': `${err.type}:`,
      ...(err.retryAfterSeconds === undefined ? {} : { 'retry-after': String(err.retryAfterSeconds) }),
    },
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes)
      throw new AwsError('RequestEntityTooLargeException', 'Request body too large.', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * An HTTP server speaking Secrets Manager's AWS JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`, SigV4-signed, JSON in and out, errors as
 * `{"__type", "message"}` with the service's status codes.
 */
export async function startSecretsManagerServer(
  options: SecretsManagerServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const throttle = options.throttle === false ? undefined : new QuotaThrottle();
  const region = options.store.region;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
    const fault = options.faults.take(operation === '' ? '(unknown)' : operation);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (res.destroyed) return;
    try {
      const body = await readBody(req);
      if (fault?.kind === 'error') {
        throw new AwsError(fault.code, 'Injected failure.', fault.status, fault.retryAfterSeconds);
      }
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
        throw new AwsError('UnknownOperationException', '', 404);
      }
      const credential = verifySigV4(
        { method: req.method, url: req.url ?? '/', headers: req.headers, body },
        { region, service: 'secretsmanager', credentials: options.credentials },
      );
      if (operation === '') throw new AwsError('UnknownOperationException', '');
      const contentType = String(req.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/x-amz-json-1.1')) {
        throw new AwsError('SerializationException', 'Expected Content-Type application/x-amz-json-1.1.');
      }
      if (credential.allow !== undefined && !credential.allow.has(operation)) {
        throw new AwsError(
          'AccessDeniedException',
          `User: arn:aws:iam::${options.store.accountId}:user/${credential.accessKeyId} is not authorized to perform: secretsmanager:${operation} because no identity-based policy allows the secretsmanager:${operation} action`,
        );
      }
      if (throttle !== undefined && !throttle.admit(operation)) {
        throw new AwsError('ThrottlingException', 'Rate exceeded');
      }
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new AwsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new AwsError('SerializationException', 'Expected a JSON object.');
      }
      send(res, 200, options.store.handle(operation, input as Record<string, unknown>));
    } catch (err) {
      if (err instanceof AwsError) sendError(res, err);
      else sendError(res, new AwsError('InternalServiceError', 'An error occurred on the server side.', 500));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
