import type { RemoteFailureReason, RetryVerdict } from '@coffer/core';

/** What a failed Kubernetes API call means: which reason, the vendor's code, whether to retry. */
export interface KubernetesFailure {
  /**
   * `not_found`, `already_exists`, `conflict` (a stale resourceVersion or a failed precondition)
   * and `expired` (a continue token too old) are handled by the backend; the rest are reasons.
   */
  kind: 'not_found' | 'already_exists' | 'conflict' | 'expired' | RemoteFailureReason;
  /**
   * The Status `reason` (`Forbidden`, `TooManyRequests`), a Node error code, or
   * `NotKubernetes` for an answer that is no Kubernetes Status (a proxy's page).
   */
  vendorCode: string | undefined;
  retry: boolean;
  /** Milliseconds the API server asked us to wait (Retry-After, details.retryAfterSeconds). */
  afterMs?: number | undefined;
  /** For `not_found`: the kind of object that was missing (`secrets`, `namespaces`). */
  missing?: string | undefined;
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  body?: unknown;
  headers?: unknown;
  cause?: unknown;
}

interface StatusBody {
  kind?: unknown;
  reason?: unknown;
  code?: unknown;
  details?: { kind?: unknown; retryAfterSeconds?: unknown; causes?: unknown };
}

const transientNetworkCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const timeoutCodes = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
/** Files of the credential chain (a service-account token, a client key) that cannot be read. */
const credentialFileCodes = new Set(['ENOENT', 'EACCES', 'EISDIR']);

function asShape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The first Node error code on the error or its causes (fetch wraps socket errors). */
function systemCode(err: unknown, depth = 0): string | undefined {
  const shape = asShape(err);
  const code = str(shape.code);
  if (code !== undefined && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
  return depth < 5 && shape.cause !== undefined ? systemCode(shape.cause, depth + 1) : undefined;
}

/** The error's or a cause's name, looking for a timeout (AbortSignal.timeout rejects with one). */
function hasTimeoutName(err: unknown, depth = 0): boolean {
  const shape = asShape(err);
  if (shape.name === 'TimeoutError' || shape.name === 'KubernetesRequestTimeout') return true;
  return depth < 5 && shape.cause !== undefined ? hasTimeoutName(shape.cause, depth + 1) : false;
}

function parseStatus(body: unknown): StatusBody | undefined {
  let value = body;
  if (typeof body === 'string') {
    if (!body.trimStart().startsWith('{')) return undefined;
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const status = value as StatusBody;
  return status.kind === 'Status' ? status : undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

function retryAfterMs(headers: unknown, status: StatusBody | undefined): number | undefined {
  const header = headerValue(headers, 'retry-after');
  if (header !== undefined) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const seconds = Number(status?.details?.retryAfterSeconds);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Whether an Invalid (422) answer is the 1 MiB data limit. */
function isSizeLimit(status: StatusBody): boolean {
  const causes = status.details?.causes;
  return (
    Array.isArray(causes) &&
    causes.some(
      (c) =>
        typeof c === 'object' &&
        c !== null &&
        (c as { reason?: unknown }).reason === 'FieldValueTooLong' &&
        (c as { field?: unknown }).field === 'data',
    )
  );
}

/** An HTTP answer of the API server (client-node's ApiException: status, body, headers). */
function classifyAnswer(http: number, body: unknown, headers: unknown): KubernetesFailure {
  const status = parseStatus(body);
  const reason = str(status?.reason);
  const afterMs = retryAfterMs(headers, status);
  // 401 answers reach us without a body (client-node drops it): the status code says it all
  if (http === 401) return { kind: 'unauthenticated', vendorCode: reason ?? 'Unauthorized', retry: false };
  if (status === undefined && http !== 429 && http < 500) {
    // something answered that is not an API server (a proxy, a web page): no Status body
    return { kind: 'unreachable', vendorCode: 'NotKubernetes', retry: false };
  }
  switch (reason ?? '') {
    case 'NotFound': {
      const missing = str(status?.details?.kind);
      return { kind: 'not_found', vendorCode: reason, retry: false, missing };
    }
    case 'AlreadyExists':
      return { kind: 'already_exists', vendorCode: reason, retry: false };
    case 'Conflict':
      return { kind: 'conflict', vendorCode: reason, retry: false };
    case 'Expired':
    case 'Gone':
      return { kind: 'expired', vendorCode: reason, retry: false };
    case 'Forbidden':
      return { kind: 'permission_denied', vendorCode: reason, retry: false };
    case 'Unauthorized':
      return { kind: 'unauthenticated', vendorCode: reason, retry: false };
    case 'TooManyRequests':
      return { kind: 'throttled', vendorCode: reason, retry: true, afterMs };
    case 'Timeout':
    case 'ServerTimeout':
      return { kind: 'timeout', vendorCode: reason, retry: true, afterMs };
    case 'InternalError':
    case 'ServiceUnavailable':
      return { kind: 'server_error', vendorCode: reason, retry: true, afterMs };
    case 'RequestEntityTooLarge':
      return { kind: 'limit_exceeded', vendorCode: reason, retry: false };
    case 'Invalid':
      return {
        kind: status !== undefined && isSizeLimit(status) ? 'limit_exceeded' : 'rejected',
        vendorCode: reason,
        retry: false,
      };
    default:
      break;
  }
  if (http === 429)
    return { kind: 'throttled', vendorCode: reason ?? 'TooManyRequests', retry: true, afterMs };
  if (http === 504) return { kind: 'timeout', vendorCode: reason ?? String(http), retry: true, afterMs };
  if (http >= 500) return { kind: 'server_error', vendorCode: reason ?? String(http), retry: true, afterMs };
  if (http === 403) return { kind: 'permission_denied', vendorCode: reason ?? 'Forbidden', retry: false };
  if (http === 404) return { kind: 'not_found', vendorCode: reason ?? 'NotFound', retry: false };
  if (http === 409) return { kind: 'conflict', vendorCode: reason ?? 'Conflict', retry: false };
  if (http === 410) return { kind: 'expired', vendorCode: reason ?? 'Gone', retry: false };
  if (http === 413)
    return { kind: 'limit_exceeded', vendorCode: reason ?? 'RequestEntityTooLarge', retry: false };
  return { kind: 'rejected', vendorCode: reason ?? String(http), retry: false };
}

/**
 * Classifies whatever a Kubernetes API call threw: an `ApiException` of client-node (the HTTP
 * status, the `Status` body as text, the headers), a network or TLS error from node-fetch, the
 * backend's own request timeout, or a credential file that cannot be read. Only codes leave
 * this function, never a message: the API server's messages echo object names and the
 * exception's message repeats the whole body.
 *
 * @example
 * classifyKubernetesError(Object.assign(new Error('...'), { code: 429, body: '{"kind":"Status","reason":"TooManyRequests"}', headers: { 'retry-after': '1' } }));
 * // { kind: 'throttled', vendorCode: 'TooManyRequests', retry: true, afterMs: 1000 }
 */
export function classifyKubernetesError(err: unknown): KubernetesFailure {
  const shape = asShape(err);
  if (typeof shape.code === 'number' && shape.code >= 100 && shape.code < 600) {
    return classifyAnswer(shape.code, shape.body, shape.headers);
  }
  if (hasTimeoutName(err)) return { kind: 'timeout', vendorCode: 'RequestTimeout', retry: true };
  const code = systemCode(err);
  if (code !== undefined) {
    if (timeoutCodes.has(code)) return { kind: 'timeout', vendorCode: code, retry: true };
    if (transientNetworkCodes.has(code)) return { kind: 'unreachable', vendorCode: code, retry: true };
    if (tlsCodes.has(code)) return { kind: 'unreachable', vendorCode: code, retry: false };
    if (credentialFileCodes.has(code)) return { kind: 'unauthenticated', vendorCode: code, retry: false };
    return { kind: 'unreachable', vendorCode: code, retry: false };
  }
  if (shape.name === 'SyntaxError') {
    // a 2xx answer that is not JSON: something other than an API server answered
    return { kind: 'unreachable', vendorCode: 'NotKubernetes', retry: false };
  }
  return { kind: 'unreachable', vendorCode: undefined, retry: false };
}

/** The retry verdict `withRetries` wants. */
export function kubernetesRetryVerdict(err: unknown): RetryVerdict {
  const failure = classifyKubernetesError(err);
  return failure.retry
    ? { retry: true, ...(failure.afterMs === undefined ? {} : { afterMs: failure.afterMs }) }
    : { retry: false };
}
