import type { RemoteFailureReason, RetryVerdict } from '@coffer/core';
import { VaultRequestTimeout, type VaultResponse } from './vault-http.js';

/**
 * What a failed Vault call means. `not_found`, `forbidden` (403: a missing policy or a bad token,
 * told apart by the backend) and `cas_mismatch` (another writer came first) are handled by the
 * backend; the rest are {@link RemoteFailureReason}s.
 */
export interface VaultFailure {
  kind: 'not_found' | 'forbidden' | 'cas_mismatch' | RemoteFailureReason;
  /** The HTTP status (`403`), a few fixed conditions (`sealed`, `cas_mismatch`) or a Node code. */
  vendorCode: string | undefined;
  retry: boolean;
  /** Milliseconds Vault asked us to wait (Retry-After), when it did. */
  afterMs?: number | undefined;
}

/**
 * A non-2xx answer from Vault. It keeps the status and the classification only: Vault's
 * `{"errors":[...]}` messages can quote request data, so they are read once to classify and
 * never kept.
 */
export class VaultStatusError extends Error {
  override readonly name = 'VaultStatusError';
  readonly failure: VaultFailure;
  constructor(
    readonly status: number,
    failure: VaultFailure,
  ) {
    super(`Vault answered ${status}`);
    this.failure = failure;
  }
}

const transientNetworkCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Vault's error strings, read to classify; never copied anywhere. */
function messagesOf(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
}

/**
 * Classifies a non-2xx answer. Vault answers every error as `{"errors":[...]}` with a status:
 * 400 invalid request (a check-and-set mismatch among them), 403 permission denied (also for an
 * unknown or expired token), 404 nothing at the path, 405 unsupported operation, 412 a node that
 * has not caught up with `X-Vault-Index` yet, 429 a rate limit quota, 500 an internal error,
 * 502 an upstream error, 503 sealed or a standby that cannot serve.
 *
 * @example
 * classifyVaultAnswer({ status: 429, headers: { 'retry-after': '1' }, body: { errors: [] }, json: true }).retry; // true
 */
export function classifyVaultAnswer(res: VaultResponse): VaultFailure {
  const code = String(res.status);
  const text = messagesOf(res.body).join('\n');
  if (!res.json && res.status < 500 && res.status !== 429 && res.status !== 412) {
    // an HTML or text page: something that is not Vault (a proxy, a wrong address)
    return { kind: 'unreachable', vendorCode: 'NOT_VAULT', retry: false };
  }
  switch (res.status) {
    case 400:
      if (/check-and-set parameter did not match/.test(text)) {
        return { kind: 'cas_mismatch', vendorCode: 'cas_mismatch', retry: false };
      }
      if (/check-and-set parameter required/.test(text)) {
        return { kind: 'rejected', vendorCode: 'cas_required', retry: false };
      }
      if (/missing client token/.test(text)) {
        return { kind: 'unauthenticated', vendorCode: 'missing_token', retry: false };
      }
      return { kind: 'rejected', vendorCode: code, retry: false };
    case 401:
      return { kind: 'unauthenticated', vendorCode: code, retry: false };
    case 403:
      return { kind: 'forbidden', vendorCode: code, retry: false };
    case 404:
      return { kind: 'not_found', vendorCode: code, retry: false };
    case 412:
      return { kind: 'server_error', vendorCode: code, retry: true };
    case 413:
      return { kind: 'limit_exceeded', vendorCode: code, retry: false };
    case 429:
      return {
        kind: 'throttled',
        vendorCode: code,
        retry: true,
        afterMs: retryAfterMs(res.headers['retry-after']),
      };
    case 503:
      return {
        kind: 'server_error',
        vendorCode: /sealed/i.test(text) ? 'sealed' : code,
        retry: true,
        afterMs: retryAfterMs(res.headers['retry-after']),
      };
    default:
      if (res.status >= 500) return { kind: 'server_error', vendorCode: code, retry: true };
      return { kind: 'rejected', vendorCode: code, retry: false };
  }
}

function nodeCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
  const cause = (err as { cause?: unknown }).cause;
  return depth < 5 && cause !== undefined ? nodeCode(cause, depth + 1) : undefined;
}

/**
 * Classifies whatever a call threw: a {@link VaultStatusError}, the request timeout, or a Node
 * network or TLS error (by its code alone).
 */
export function classifyVaultError(err: unknown): VaultFailure {
  if (err instanceof VaultStatusError) return err.failure;
  if (err instanceof VaultRequestTimeout) return { kind: 'timeout', vendorCode: 'timeout', retry: true };
  const code = nodeCode(err);
  if (code === 'ETIMEDOUT') return { kind: 'timeout', vendorCode: code, retry: true };
  if (code !== undefined && transientNetworkCodes.has(code)) {
    return { kind: 'unreachable', vendorCode: code, retry: true };
  }
  // DNS failures, unreachable hosts, and every TLS refusal (unknown CA, wrong name, expired)
  return { kind: 'unreachable', vendorCode: code, retry: false };
}

/** The retry verdict `withRetries` wants. */
export function vaultRetryVerdict(err: unknown): RetryVerdict {
  const failure = classifyVaultError(err);
  return failure.retry
    ? { retry: true, ...(failure.afterMs === undefined ? {} : { afterMs: failure.afterMs }) }
    : { retry: false };
}
