import { CofferError } from '../../errors/coffer-error.js';
import type { ValueRef } from '../backend.js';

/**
 * Why a call to an external store failed, as `details.reason` of the `backend_unavailable`
 * error a remote backend throws. Clients (and operators reading the log) tell a permission
 * problem from an outage from a quota by this field; the code stays `backend_unavailable`.
 */
export const remoteFailureReasons = [
  /** The store refused the credentials or the caller lacks a permission (AccessDenied, 403). */
  'permission_denied',
  /** No credentials could be found or they are malformed/expired (the vendor's chain came up empty). */
  'unauthenticated',
  /** The store could not be reached: DNS, connection refused or reset, TLS, wrong region or endpoint. */
  'unreachable',
  /** The store throttled us and retries with backoff did not get through. */
  'throttled',
  /** The store did not answer in time. */
  'timeout',
  /** The store answered 5xx (after retries). */
  'server_error',
  /** The store refused the request as invalid (a bug or a store-side rule, e.g. a name pending deletion). */
  'rejected',
  /** A store limit was hit (too many versions, too many labels, a quota). */
  'limit_exceeded',
] as const;

export type RemoteFailureReason = (typeof remoteFailureReasons)[number];

export interface RemoteFailureInput {
  /** The backend instance's name. */
  backend: string;
  /** The backend type (`aws-secrets-manager`). */
  type: string;
  /** What was being done: `put`, `get`, `delete`, `list`. */
  operation: string;
  ref?: ValueRef | undefined;
  reason: RemoteFailureReason;
  /**
   * The vendor's error code or class (`ThrottlingException`, `PERMISSION_DENIED`, `403`), quoted in
   * the message. Never the vendor's message, which may echo request data.
   */
  vendorCode?: string | undefined;
  /** Attempts made, when retries were involved. */
  attempts?: number | undefined;
}

const vendorCodePattern = /^[A-Za-z0-9_.:-]{1,80}$/;

/**
 * The error a remote backend throws when its store fails: code `backend_unavailable`, with
 * `details.reason` (see {@link remoteFailureReasons}) and `details.vendorCode`. The message names
 * the backend, the operation, the ref and the vendor's code, never a vendor message or a value,
 * and no `cause` is kept (the log prints causes).
 *
 * @example
 * throw remoteFailure({ backend: this.name, type: this.type, operation: 'get', ref, reason: 'permission_denied', vendorCode: 'AccessDeniedException' });
 */
export function remoteFailure(input: RemoteFailureInput): CofferError {
  const vendorCode =
    input.vendorCode !== undefined && vendorCodePattern.test(input.vendorCode) ? input.vendorCode : undefined;
  const what = input.ref === undefined ? '' : ` secret ${input.ref.secretId} version ${input.ref.version}`;
  const why = describeReason(input.reason);
  const code = vendorCode === undefined ? '' : ` (${vendorCode})`;
  const tries = input.attempts !== undefined && input.attempts > 1 ? ` after ${input.attempts} attempts` : '';
  return new CofferError(
    'backend_unavailable',
    `backend ${input.backend} (${input.type}) failed to ${input.operation}${what}: ${why}${code}${tries}`,
    {
      details: {
        backend: input.backend,
        reason: input.reason,
        ...(vendorCode === undefined ? {} : { vendorCode }),
        ...(input.attempts === undefined ? {} : { attempts: input.attempts }),
      },
    },
  );
}

function describeReason(reason: RemoteFailureReason): string {
  switch (reason) {
    case 'permission_denied':
      return 'permission denied by the store';
    case 'unauthenticated':
      return 'no valid credentials for the store';
    case 'unreachable':
      return 'the store cannot be reached';
    case 'throttled':
      return 'the store kept throttling requests';
    case 'timeout':
      return 'the store did not answer in time';
    case 'server_error':
      return 'the store failed with a server error';
    case 'rejected':
      return 'the store rejected the request';
    case 'limit_exceeded':
      return 'a store limit was reached';
  }
}

/**
 * The error for a value larger than a store accepts, thrown before any call is made.
 *
 * @example
 * if (bytes > 65_536) throw valueTooLarge(this.name, ref, bytes, 65_536, 'AWS Secrets Manager SecretString');
 */
export function valueTooLarge(
  backend: string,
  ref: ValueRef,
  bytes: number,
  limit: number,
  what: string,
): CofferError {
  return new CofferError(
    'payload_too_large',
    `the values of secret ${ref.secretId} version ${ref.version} take ${bytes} bytes once encoded; backend ${backend} stores at most ${limit} (${what})`,
    { details: { backend, bytes, limit } },
  );
}

/** The usual not-found for a ref, naming the ref and never a value. */
export function valueNotFound(backend: string, ref: ValueRef): CofferError {
  return new CofferError(
    'value_not_found',
    `backend ${backend} holds no value for secret ${ref.secretId} version ${ref.version}`,
  );
}
