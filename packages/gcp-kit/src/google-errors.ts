import type { ClassifiedFailure, KeySourceFailureReason, RemoteFailureReason } from '@coffer/core';
import { nodeErrorCode, retryAfterHeaderMs, retryVerdictFrom, transientNetworkCodes } from '@coffer/core';
import { GoogleRequestTimeout } from './gax-client-settings.js';

/** gRPC canonical codes by number, as google-gax puts them on `error.code`. */
const statusNames = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** A canonical status of google.rpc.Code (`NOT_FOUND`, `RESOURCE_EXHAUSTED`). */
export type GoogleStatus = (typeof statusNames)[number];

/**
 * The reasons a Google API failure comes to whatever the service: those a store's failures
 * (`RemoteFailureReason`) and a key source's (`KeySourceFailureReason`) have in common.
 */
export type GoogleFailureReason = Extract<RemoteFailureReason, KeySourceFailureReason>;

/**
 * What a failed Google API call means: which reason, the vendor's code (the canonical status
 * `RESOURCE_EXHAUSTED`, an OAuth error `invalid_grant` or a Node code), whether to retry, and
 * the wait RetryInfo or Retry-After asked for.
 */
export type GoogleFailure<Special extends string = never> = ClassifiedFailure<GoogleFailureReason | Special>;

/** What tells one service's errors apart from another's. */
export interface GoogleServiceErrors<Special extends string = never> {
  /**
   * The vendor code for an answer that did not come from the service (`NOT_SECRET_MANAGER`):
   * an HTML page of a proxy, a wrong endpoint.
   */
  notService: string;
  /**
   * Canonical statuses the service reads its own way (Cloud KMS's `FAILED_PRECONDITION` is a
   * disabled key), checked before the general rules. None of them is retried.
   */
  statuses: Readonly<Partial<Record<GoogleStatus, Special | GoogleFailureReason>>>;
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  statusDetails?: unknown;
  response?: { status?: unknown; data?: unknown; headers?: unknown };
  cause?: unknown;
}

const oauthErrors = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'invalid_request',
  'invalid_scope',
  'invalid_target',
  'unsupported_grant_type',
  'access_denied',
]);

/** Canonical status of an HTTP status, for answers without a google.rpc.Status body. */
const statusOfHttpTable: Readonly<Record<number, GoogleStatus>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function asShape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The first Node error code (a TLS one too) on the error or its causes. */
function nodeCode(err: unknown): string | undefined {
  return nodeErrorCode(err, (code) => /^(?:CERT|ERR_TLS)_/.test(code));
}

function durationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^([0-9]+(?:\.[0-9]+)?)s$/.exec(value);
    return match === null ? undefined : Number(match[1]) * 1000;
  }
  if (typeof value === 'object' && value !== null) {
    const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
    const s = Number(seconds ?? 0);
    const n = Number(nanos ?? 0);
    return Number.isFinite(s) && Number.isFinite(n) ? s * 1000 + n / 1e6 : undefined;
  }
  return undefined;
}

/** The delay a google.rpc.RetryInfo detail asks for. */
function retryInfoMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (typeof detail === 'object' && detail !== null && 'retryDelay' in detail) {
      const ms = durationMs((detail as { retryDelay: unknown }).retryDelay);
      if (ms !== undefined && ms >= 0) return ms;
    }
  }
  return undefined;
}

function statusOf(code: unknown): GoogleStatus | undefined {
  if (typeof code === 'number' && Number.isInteger(code)) return statusNames[code];
  if (typeof code === 'string') return statusNames.find((s) => s === code);
  return undefined;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || !text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function retryAfterMs(headers: unknown): number | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  const value =
    typeof get === 'function'
      ? (get.call(headers, 'retry-after') as unknown)
      : (headers as Record<string, unknown>)['retry-after'];
  return retryAfterHeaderMs(value);
}

/**
 * The canonical status of an answer: from a google-gax `GoogleError` (gRPC code number and
 * decoded details), or from an HTTP error the transport threw (status, the google.rpc.Status
 * JSON body as its text, Retry-After). `null` is an error answer that is not the service's.
 */
function statusAnswered(
  shape: ErrorShape,
): { status: GoogleStatus | null; afterMs?: number | undefined } | undefined {
  const http =
    typeof shape.response?.status === 'number'
      ? shape.response.status
      : typeof shape.code === 'number' && shape.code >= 100
        ? shape.code
        : undefined;
  if (http !== undefined) {
    if (http < 400) return undefined;
    const body = (parseJson(shape.message) ?? parseJson(shape.response?.data)) as
      | { error?: { status?: unknown; details?: unknown } }
      | undefined;
    const named = statusOf(body?.error?.status);
    const status =
      named !== undefined
        ? named
        : body === undefined && http < 500 && http !== 429
          ? null
          : (statusOfHttpTable[http] ?? (http >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'));
    return { status, afterMs: retryInfoMs(body?.error?.details) ?? retryAfterMs(shape.response?.headers) };
  }
  const grpc = statusOf(shape.code);
  if (grpc === undefined || grpc === 'OK') return undefined;
  return { status: grpc, afterMs: retryInfoMs(shape.statusDetails) };
}

/** The general meaning of a canonical status, after a service's own reading. */
function failureOfStatus<Special extends string>(
  status: GoogleStatus,
  afterMs: number | undefined,
): GoogleFailure<Special> {
  switch (status) {
    case 'RESOURCE_EXHAUSTED':
      return { kind: 'throttled', vendorCode: status, retry: true, afterMs };
    case 'UNAUTHENTICATED':
      return { kind: 'unauthenticated', vendorCode: status, retry: false };
    case 'PERMISSION_DENIED':
      return { kind: 'permission_denied', vendorCode: status, retry: false };
    case 'DEADLINE_EXCEEDED':
      return { kind: 'timeout', vendorCode: status, retry: true };
    case 'UNAVAILABLE':
    case 'INTERNAL':
    case 'UNKNOWN':
      return { kind: 'server_error', vendorCode: status, retry: true, afterMs };
    case 'CANCELLED':
      return { kind: 'unreachable', vendorCode: status, retry: true };
    default:
      return { kind: 'rejected', vendorCode: status, retry: false };
  }
}

/**
 * Classifies whatever a call through a Google Cloud client library threw: a google-gax
 * `GoogleError` (canonical code and details), an HTTP error of the REST transport, an
 * OAuth/STS refusal of the credential chain, a Node network error, or the request time limit
 * of {@link limitRequestTime}. Only the code leaves this function, never a message.
 *
 * @example
 * const kmsErrors = { notService: 'NOT_CLOUD_KMS', statuses: { NOT_FOUND: 'key_not_found' } } as const;
 * classifyGoogleError(Object.assign(new Error('Quota exceeded'), { code: 8 }), kmsErrors).retry; // true
 */
export function classifyGoogleError<Special extends string = never>(
  err: unknown,
  service: GoogleServiceErrors<Special>,
): GoogleFailure<Special> {
  const shape = asShape(err);
  const name = str(shape.name);
  if (err instanceof GoogleRequestTimeout || name === 'GoogleRequestTimeout') {
    return { kind: 'timeout', vendorCode: 'DEADLINE_EXCEEDED', retry: true };
  }
  const network = nodeCode(err);
  // the credential chain: an STS / OAuth token endpoint refusing the credentials
  const data = shape.response?.data;
  const oauth =
    typeof data === 'object' && data !== null ? str((data as { error?: unknown }).error) : undefined;
  if (oauth !== undefined && oauthErrors.has(oauth)) {
    return { kind: 'unauthenticated', vendorCode: oauth, retry: false };
  }
  const answer = network === undefined ? statusAnswered(shape) : undefined;
  if (answer !== undefined) {
    const { status, afterMs } = answer;
    if (status === null) return { kind: 'unreachable', vendorCode: service.notService, retry: false };
    const own = service.statuses[status];
    if (own !== undefined) return { kind: own, vendorCode: status, retry: false };
    return failureOfStatus(status, afterMs);
  }
  const message = str(shape.message) ?? '';
  if (/default credentials|credential_source|No authentication was provided/i.test(message)) {
    return { kind: 'unauthenticated', vendorCode: 'NO_CREDENTIALS', retry: false };
  }
  if (network === 'ETIMEDOUT' || name === 'TimeoutError') {
    return { kind: 'timeout', vendorCode: 'ETIMEDOUT', retry: true };
  }
  if (network !== undefined) {
    return { kind: 'unreachable', vendorCode: network, retry: transientNetworkCodes.has(network) };
  }
  if (name === 'SyntaxError') {
    // something answered that is not the service (an HTML page from a proxy)
    return { kind: 'unreachable', vendorCode: service.notService, retry: false };
  }
  return { kind: 'unreachable', vendorCode: undefined, retry: false };
}

/**
 * The retry verdict `withRetries` wants, from {@link classifyGoogleError}.
 *
 * @example
 * withRetries(call, { policy, classify: (err) => googleRetryVerdict(err, kmsErrors) });
 */
export const googleRetryVerdict = retryVerdictFrom(classifyGoogleError);
