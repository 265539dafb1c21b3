import type { ClassifiedFailure, RemoteFailureReason } from '@coffer/core';
import { nodeErrorCode, retryAfterHeaderMs, retryVerdictFrom, transientNetworkCodes } from '@coffer/core';

/**
 * What a failed AWS call means: which reason (`not_found` told apart from every reason a
 * `backend_unavailable` carries), the vendor's code (the AWS error code `ThrottlingException` or
 * the Node error code `ECONNREFUSED`), whether to retry, and the Retry-After wait.
 */
export type AwsFailure<Special extends string = never> = ClassifiedFailure<
  'not_found' | Special | RemoteFailureReason
>;

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

const unauthenticatedCodes = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'ExpiredToken',
  'RequestExpired',
  'CredentialsProviderError',
  'TokenProviderError',
]);
const permissionCodes = new Set(['AccessDeniedException', 'AccessDenied', 'NotAuthorized']);
const throttlingCodes = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'TooManyUpdates',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
const timeoutCodes = new Set([
  'TimeoutError',
  'ETIMEDOUT',
  'AbortError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const permanentNetworkCodes = new Set(['ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED']);
const limitCodes = new Set([
  'LimitExceededException',
  'ServiceQuotaExceededException',
  'ParameterLimitExceeded',
  'ParameterMaxVersionLimitExceeded',
  'HierarchyLevelLimitExceededException',
  'TooManyTagsError',
]);
const rejectedCodes = new Set([
  'InvalidRequestException',
  'InvalidParameterException',
  'ValidationException',
  'ResourceExistsException',
  'MalformedPolicyDocumentException',
  'PreconditionNotMetException',
  'EncryptionFailure',
  'DecryptionFailure',
  'InvalidNextTokenException',
  'SerializationException',
  'UnknownOperationException',
  'ParameterAlreadyExists',
  'InvalidKeyId',
  'HierarchyTypeMismatchException',
  'ParameterPatternMismatchException',
  'UnsupportedParameterType',
  'InvalidAllowedPatternException',
  'InvalidFilterKey',
  'InvalidFilterOption',
  'InvalidFilterValue',
  'InvalidResourceId',
  'InvalidResourceType',
  'InvalidTypeNameException',
]);

/** What tells one service's errors apart: its not-found codes, and any codes of its own. */
export interface AwsServiceErrors<Special extends string = never> {
  /** Codes meaning "the thing asked for is not there" (`ResourceNotFoundException`, `ParameterNotFound`). */
  notFound: ReadonlySet<string>;
  /** Codes that mean something particular to one service, checked before the general rules. */
  special?: (name: string, message: string) => Special | undefined;
}

function asShape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The first Node error code (or `CERT_HAS_EXPIRED`) on the error or its causes. */
function nodeCode(err: unknown): string | undefined {
  return nodeErrorCode(err, (code) => code === 'CERT_HAS_EXPIRED');
}

function retryAfterMs(shape: ErrorShape): number | undefined {
  return retryAfterHeaderMs(shape.$response?.headers?.['retry-after']);
}

/**
 * Classifies whatever an AWS SDK call threw. It reads the error's name, code, status and (only
 * to tell a wrong region from a wrong key, or a service's special case) its message; none of
 * that leaves this function except the vendor code.
 *
 * @example
 * classifyAwsError(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), ssmErrors).retry; // true
 */
export function classifyAwsError<Special extends string = never>(
  err: unknown,
  service: AwsServiceErrors<Special>,
): AwsFailure<Special> {
  const shape = asShape(err);
  const name = str(shape.name);
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  const isService = status !== undefined || shape.$fault !== undefined;
  const afterMs = retryAfterMs(shape);
  const network = nodeCode(err);

  if (isService && name !== undefined) {
    if (service.notFound.has(name)) return { kind: 'not_found', vendorCode: name, retry: false };
    const special = service.special?.(name, str(shape.message) ?? '');
    if (special !== undefined) return { kind: special, vendorCode: name, retry: false };
    if (throttlingCodes.has(name) || status === 429) {
      return { kind: 'throttled', vendorCode: name, retry: true, afterMs };
    }
    if (unauthenticatedCodes.has(name)) {
      // A key signed for another region is refused as a bad signature; say it is the region.
      const message = str(shape.message) ?? '';
      const wrongRegion = /scoped to a valid region|scoped to correct region/i.test(message);
      return { kind: wrongRegion ? 'unreachable' : 'unauthenticated', vendorCode: name, retry: false };
    }
    if (permissionCodes.has(name) || status === 403) {
      return { kind: 'permission_denied', vendorCode: name, retry: false };
    }
    if (limitCodes.has(name)) return { kind: 'limit_exceeded', vendorCode: name, retry: false };
    if (rejectedCodes.has(name)) return { kind: 'rejected', vendorCode: name, retry: false };
    if (
      (status !== undefined && status >= 500) ||
      shape.$fault === 'server' ||
      name === 'InternalServiceError' ||
      name === 'InternalServerError'
    ) {
      return { kind: 'server_error', vendorCode: name, retry: true, afterMs };
    }
    if (status !== undefined && status >= 400) return { kind: 'rejected', vendorCode: name, retry: false };
  }
  if (name !== undefined && unauthenticatedCodes.has(name)) {
    return { kind: 'unauthenticated', vendorCode: name, retry: false };
  }
  if ((name !== undefined && timeoutCodes.has(name)) || network === 'ETIMEDOUT') {
    return {
      kind: 'timeout',
      vendorCode: name === 'AbortError' ? 'TimeoutError' : (name ?? network),
      retry: true,
    };
  }
  if (network !== undefined && transientNetworkCodes.has(network)) {
    return { kind: 'unreachable', vendorCode: network, retry: true };
  }
  if (network !== undefined && permanentNetworkCodes.has(network)) {
    return { kind: 'unreachable', vendorCode: network, retry: false };
  }
  if (name === 'Error' || name === undefined) {
    // a service that answered something that is not Secrets Manager (an HTML page, a proxy)
    return { kind: 'unreachable', vendorCode: network, retry: false };
  }
  return { kind: 'server_error', vendorCode: name, retry: false };
}

/** The retry verdict `withRetries` wants. */
export const awsRetryVerdict = retryVerdictFrom(classifyAwsError);
