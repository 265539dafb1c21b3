import type { KeySourceFailureReason, RetryVerdict } from '@coffer/core';

/** What a failed Key Vault call means: which reason, the vendor's code, whether to retry. */
export interface KeyVaultFailure {
  /**
   * A key source failure reason, or `bad_parameter` (Key Vault refused the request as invalid: on
   * `unwrapKey`, a wrapped key that does not decrypt under the key version).
   */
  kind: KeySourceFailureReason | 'bad_parameter';
  /** Key Vault's error code (`KeyNotFound`), its inner code (`ForbiddenByRbac`), an Entra code (`AADSTS7000215`) or a Node code. */
  vendorCode: string | undefined;
  retry: boolean;
  /** Milliseconds the service asked us to wait (Retry-After), when it did. */
  afterMs?: number | undefined;
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  details?: unknown;
  response?: { headers?: { get?(name: string): string | undefined } };
  errorResponse?: { error?: unknown; errorDescription?: unknown };
  errors?: unknown;
  message?: unknown;
  cause?: unknown;
}

const transientNetworkCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'EAI_AGAIN']);
const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const oauthErrors = [
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'invalid_request',
  'invalid_scope',
  'unsupported_grant_type',
  'access_denied',
];

function asShape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The first Node-style error code on the error or its causes. */
function nodeCode(err: unknown, depth = 0): string | undefined {
  const shape = asShape(err);
  const code = str(shape.code);
  if (code !== undefined && (/^E[A-Z_]+$/.test(code) || tlsCodes.has(code))) return code;
  return depth < 5 && shape.cause !== undefined ? nodeCode(shape.cause, depth + 1) : undefined;
}

function retryAfterMs(shape: ErrorShape): number | undefined {
  const value = shape.response?.headers?.get?.('retry-after');
  if (typeof value !== 'string' || value === '') return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** The inner error code of a Key Vault error body (`ForbiddenByRbac`, `KeyDisabled`). */
function innerCode(shape: ErrorShape): string | undefined {
  const details = shape.details as {
    error?: { innerError?: { code?: unknown }; innererror?: { code?: unknown } };
  };
  return str(details?.error?.innerError?.code) ?? str(details?.error?.innererror?.code);
}

/** The code an Entra ID refusal names: the `AADSTS` number, else the OAuth error; never its text. */
function entraCode(shape: ErrorShape): string {
  const texts = [shape.errorResponse?.errorDescription, shape.errorResponse?.error, shape.message];
  for (const text of texts) {
    const match = typeof text === 'string' ? /\bAADSTS[0-9]{4,8}\b/.exec(text) : null;
    if (match !== null) return match[0];
  }
  for (const text of texts) {
    if (typeof text !== 'string') continue;
    const found = oauthErrors.find((e) => text.includes(e));
    if (found !== undefined) return found;
  }
  return 'AuthenticationError';
}

function answered(status: number, shape: ErrorShape): KeyVaultFailure {
  const code = str(shape.code);
  const inner = innerCode(shape);
  const afterMs = retryAfterMs(shape);
  // an answer without a Key Vault error body comes from something else (a proxy, a wrong URL)
  const fromKeyVault = code !== undefined && /^[A-Za-z][A-Za-z0-9_.]{0,79}$/.test(code);
  if (status === 429) return { kind: 'throttled', vendorCode: code ?? 'Throttled', retry: true, afterMs };
  if (status >= 500) {
    return { kind: 'server_error', vendorCode: code ?? String(status), retry: status !== 501, afterMs };
  }
  if (!fromKeyVault) return { kind: 'unreachable', vendorCode: `HTTP${status}`, retry: false };
  switch (status) {
    case 400:
      return { kind: 'bad_parameter', vendorCode: code, retry: false };
    case 401:
      return { kind: 'unauthenticated', vendorCode: code, retry: false };
    case 403:
      if (inner === 'KeyDisabled' || inner === 'KeyExpired') {
        return { kind: 'key_disabled', vendorCode: inner, retry: false };
      }
      if (inner === 'KeyOperationForbidden') return { kind: 'rejected', vendorCode: inner, retry: false };
      return { kind: 'permission_denied', vendorCode: inner ?? code, retry: false };
    case 404:
      return { kind: 'key_not_found', vendorCode: code, retry: false };
    case 408:
      return { kind: 'timeout', vendorCode: code, retry: true };
    case 409:
      // a deleted key (recoverable) blocks its name
      return { kind: 'key_disabled', vendorCode: inner ?? code, retry: false };
    default:
      return { kind: 'rejected', vendorCode: inner ?? code, retry: false };
  }
}

/**
 * Classifies whatever a Key Vault call threw: a `RestError` with Key Vault's error body (status,
 * code, inner code, Retry-After), a refusal of the credential chain (`AuthenticationError`,
 * `CredentialUnavailableError`), a Node network or TLS error, the request timeout (`AbortError`),
 * or the SDK's own check of a key it fetched (an expired key, a key operation the key does not
 * allow). Only codes leave this function, never a message.
 *
 * @example
 * classifyKeyVaultError(Object.assign(new Error('x'), { name: 'RestError', statusCode: 404, code: 'KeyNotFound' })).kind; // 'key_not_found'
 */
export function classifyKeyVaultError(err: unknown): KeyVaultFailure {
  const shape = asShape(err);
  const name = str(shape.name);
  if (name === 'AbortError' || name === 'TimeoutError')
    return { kind: 'timeout', vendorCode: 'Timeout', retry: true };
  if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError') {
    const inner = Array.isArray(shape.errors) ? shape.errors : [];
    const refused = inner.find((e) => str(asShape(e).name) === 'AuthenticationError');
    if (refused !== undefined) {
      return { kind: 'unauthenticated', vendorCode: entraCode(asShape(refused)), retry: false };
    }
    return { kind: 'unauthenticated', vendorCode: 'CredentialUnavailable', retry: false };
  }
  if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError') {
    return { kind: 'unauthenticated', vendorCode: entraCode(shape), retry: false };
  }
  const network = nodeCode(err);
  if (network !== undefined) {
    if (network === 'ETIMEDOUT') return { kind: 'timeout', vendorCode: network, retry: true };
    return { kind: 'unreachable', vendorCode: network, retry: transientNetworkCodes.has(network) };
  }
  if (typeof shape.statusCode === 'number' && shape.statusCode >= 400)
    return answered(shape.statusCode, shape);
  if (name === 'RestError') {
    // sent but never answered: a reset the client saw without a Node code, or a body that is not JSON
    const code = str(shape.code);
    return {
      kind: 'unreachable',
      vendorCode: code === 'PARSE_ERROR' ? 'NOT_KEY_VAULT' : 'REQUEST_SEND_ERROR',
      retry: code !== 'PARSE_ERROR',
    };
  }
  const message = str(shape.message) ?? '';
  // CryptographyClient checks a key it fetched before calling Key Vault
  if (/expired at|can't be used before/.test(message))
    return { kind: 'key_disabled', vendorCode: 'KeyExpired', retry: false };
  if (/is not supported on key|Unable to support operation/.test(message)) {
    return { kind: 'rejected', vendorCode: 'KeyOperationForbidden', retry: false };
  }
  if (name === 'SyntaxError') return { kind: 'unreachable', vendorCode: 'NOT_KEY_VAULT', retry: false };
  return { kind: 'unreachable', vendorCode: undefined, retry: false };
}

/** The retry verdict `withRetries` wants. */
export function keyVaultRetryVerdict(err: unknown): RetryVerdict {
  const failure = classifyKeyVaultError(err);
  return failure.retry
    ? { retry: true, ...(failure.afterMs === undefined ? {} : { afterMs: failure.afterMs }) }
    : { retry: false };
}
