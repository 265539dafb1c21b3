import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally, type RunningServer } from '@coffer/core/doubles';
import { AwsError } from './aws-error.js';
import type { FaultPlan } from './fault-plan.js';
import { QuotaThrottle, type RateQuota } from './quota-throttle.js';
import { type DoubleCredential, verifySigV4 } from './sigv4-verifier.js';

export interface AwsJsonServerOptions {
  /** The `X-Amz-Target` prefix, with its dot: `secretsmanager.`, `AmazonSSM.`. */
  targetPrefix: string;
  /** The SigV4 service name in the credential scope: `secretsmanager`, `ssm`. */
  signingService: string;
  region: string;
  accountId: string;
  /** Serves one operation; throws {@link AwsError} for the service's errors. */
  handle(operation: string, input: Record<string, unknown>): unknown;
  credentials: ReadonlyMap<string, DoubleCredential>;
  faults: FaultPlan;
  /** The service's request quotas by operation; enforced with ThrottlingException unless `throttle` is false. */
  quotas: Readonly<Record<string, RateQuota>>;
  throttle?: boolean;
  /** The IAM action prefix in AccessDenied messages (default: the signing service). */
  iamPrefix?: string;
  /** The `__type` of the service's 500 (`InternalServiceError` for Secrets Manager; default `InternalServerError`). */
  internalErrorType?: string;
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
 * An HTTP server speaking the AWS JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: <prefix><Operation>`, SigV4-signed, JSON in and out, errors as
 * `{"__type", "message"}` with the service's status codes, request quotas, and faults.
 *
 * @example
 * const { url, close } = await startAwsJsonServer({ targetPrefix: 'AmazonSSM.', signingService: 'ssm', ... });
 */
export async function startAwsJsonServer(options: AwsJsonServerOptions): Promise<RunningServer> {
  const throttle = options.throttle === false ? undefined : new QuotaThrottle(options.quotas);
  const iam = options.iamPrefix ?? options.signingService;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(options.targetPrefix)
      ? target.slice(options.targetPrefix.length)
      : '';
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
        { region: options.region, service: options.signingService, credentials: options.credentials },
      );
      if (operation === '') throw new AwsError('UnknownOperationException', '');
      const contentType = String(req.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/x-amz-json-1.1')) {
        throw new AwsError('SerializationException', 'Expected Content-Type application/x-amz-json-1.1.');
      }
      if (credential.allow !== undefined && !credential.allow.has(operation)) {
        throw new AwsError(
          'AccessDeniedException',
          `User: arn:aws:iam::${options.accountId}:user/${credential.accessKeyId} is not authorized to perform: ${iam}:${operation} because no identity-based policy allows the ${iam}:${operation} action`,
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
      send(res, 200, options.handle(operation, input as Record<string, unknown>));
    } catch (err) {
      if (err instanceof AwsError) sendError(res, err);
      else {
        const type = options.internalErrorType ?? 'InternalServerError';
        sendError(res, new AwsError(type, 'An error occurred on the server side.', 500));
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  return listenLocally(server, options.host, options.port);
}
