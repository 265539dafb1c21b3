import type { ClassifiedFailure, KeySourceFailureReason, RemoteFailureReason } from '@coffer/core';
import { nodeErrorCode, retryAfterHeaderMs, retryVerdictFrom, transientNetworkCodes } from '@coffer/core';

/**
 * The reasons a failed Azure call comes to whatever the service: those a store's failures
 * (`RemoteFailureReason`) and a key source's (`KeySourceFailureReason`) have in common.
 */
export type AzureFailureReason = Extract<RemoteFailureReason, KeySourceFailureReason>;

/**
 * What a failed Key Vault call means: which reason, the vendor's code (Key Vault's error code
 * `SecretNotFound`, its inner code `ForbiddenByRbac`, an Entra code `AADSTS7000215` or a Node
 * code), whether to retry, and the Retry-After wait.
 */
export type AzureFailure<Special extends string = never> = ClassifiedFailure<AzureFailureReason | Special>;

/** A reading of a failure that is never retried: its kind and the code it goes by. */
export interface AzureVerdict<Special extends string = never> {
  kind: AzureFailureReason | Special;
  vendorCode: string;
}

/** What tells one Key Vault API's errors apart (secrets from keys). */
export interface AzureServiceErrors<Special extends string = never> {
  /** The kind of a 404 with Key Vault's error body (`not_found`, `key_not_found`). */
  notFound: Special | AzureFailureReason;
  /**
   * How the service reads an answer of Key Vault (a 4xx other than 408 and 429, with Key Vault's
   * error body) before the general rules: a disabled object, a name pending deletion. Its
   * `code` and the body's inner code (`ForbiddenByRbac`, `SecretDisabled`) tell them apart.
   */
  answer?(status: number, code: string, inner: string | undefined): AzureVerdict<Special> | undefined;
  /**
   * Checks the SDK makes itself before calling Key Vault (a key it fetched that has expired), read
   * from the message of an error that is not an answer; the message never goes further.
   */
  local?(message: string): AzureVerdict<Special> | undefined;
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

/** The first Node-style error code (a TLS one too) on the error or its causes. */
function nodeCode(err: unknown): string | undefined {
  return nodeErrorCode(err, (code) => tlsCodes.has(code));
}

function retryAfterMs(shape: ErrorShape): number | undefined {
  return retryAfterHeaderMs(shape.response?.headers?.get?.('retry-after'));
}

/** The inner error code of a Key Vault error body (`ForbiddenByRbac`, `KeyDisabled`). */
function innerCode(shape: ErrorShape): string | undefined {
  const details = shape.details as {
    error?: { innerError?: { code?: unknown }; innererror?: { code?: unknown } };
  };
  return str(details?.error?.innerError?.code) ?? str(details?.error?.innererror?.code);
}

/**
 * The code an Entra ID refusal names: the `AADSTS` number, else the OAuth error. Only a code
 * that matches one of these patterns is taken out of the description, never its text.
 */
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

function answered<Special extends string>(
  status: number,
  shape: ErrorShape,
  service: AzureServiceErrors<Special>,
): AzureFailure<Special> {
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
  const own = status === 408 ? undefined : service.answer?.(status, code, inner);
  if (own !== undefined) return { ...own, retry: false };
  switch (status) {
    case 401:
      return { kind: 'unauthenticated', vendorCode: code, retry: false };
    case 403:
      return { kind: 'permission_denied', vendorCode: inner ?? code, retry: false };
    case 404:
      return { kind: service.notFound, vendorCode: code, retry: false };
    case 408:
      return { kind: 'timeout', vendorCode: code, retry: true };
    default:
      return { kind: 'rejected', vendorCode: inner ?? code, retry: false };
  }
}

/**
 * Classifies whatever a call through an Azure SDK client threw: a `RestError` with Key Vault's
 * error body (status, code, inner code, Retry-After), a refusal of the credential chain
 * (`AuthenticationError`, `CredentialUnavailableError`), a Node network or TLS error, the
 * request timeout (`AbortError`), or a check the SDK made itself. Only codes leave this
 * function, never a message.
 *
 * @example
 * const secrets = { notFound: 'not_found' } as const;
 * classifyAzureSdkError(Object.assign(new Error('Too many'), { name: 'RestError', statusCode: 429 }), secrets).retry; // true
 */
export function classifyAzureSdkError<Special extends string = never>(
  err: unknown,
  service: AzureServiceErrors<Special>,
): AzureFailure<Special> {
  const shape = asShape(err);
  const name = str(shape.name);
  if (name === 'AbortError' || name === 'TimeoutError')
    return { kind: 'timeout', vendorCode: 'Timeout', retry: true };
  if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError') {
    // no credential of the chain could be used (nothing configured), or all of them failed
    const inner = Array.isArray(shape.errors) ? shape.errors : [];
    const refused = inner.find((e) => str(asShape(e).name) === 'AuthenticationError');
    if (refused !== undefined)
      return { kind: 'unauthenticated', vendorCode: entraCode(asShape(refused)), retry: false };
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
    return answered(shape.statusCode, shape, service);
  if (name === 'RestError') {
    // sent but never answered: a reset the client saw without a Node code, or a body that is not JSON
    const code = str(shape.code);
    return {
      kind: 'unreachable',
      vendorCode: code === 'PARSE_ERROR' ? 'NOT_KEY_VAULT' : 'REQUEST_SEND_ERROR',
      retry: code !== 'PARSE_ERROR',
    };
  }
  const local = service.local?.(str(shape.message) ?? '');
  if (local !== undefined) return { ...local, retry: false };
  if (name === 'SyntaxError') return { kind: 'unreachable', vendorCode: 'NOT_KEY_VAULT', retry: false };
  return { kind: 'unreachable', vendorCode: undefined, retry: false };
}

/**
 * The retry verdict `withRetries` wants, from {@link classifyAzureSdkError}.
 *
 * @example
 * withRetries(call, { policy, classify: (err) => azureSdkRetryVerdict(err, secrets) });
 */
export const azureSdkRetryVerdict = retryVerdictFrom(classifyAzureSdkError);
