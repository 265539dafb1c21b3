import { CofferError, isCofferError } from '../errors/coffer-error.js';
import type { SealBinding } from './keyring-types.js';

/**
 * Why a KMS key source could not wrap or unwrap a data key, as `details.reason` of the
 * `key_unavailable` error it throws. The first four are outages: they pass (a reveal fails
 * closed until the KMS is back, a re-wrap run stops and resumes later); the others need an
 * operator (a permission, a disabled or deleted key).
 */
export const keySourceFailureReasons = [
  /** The KMS could not be reached: DNS, connection refused or reset, TLS, wrong endpoint. */
  'unreachable',
  /** The KMS did not answer in time. */
  'timeout',
  /** The KMS kept throttling requests after retries with backoff. */
  'throttled',
  /** The KMS failed with a server error after retries (5xx, KeyUnavailableException). */
  'server_error',
  /** No valid credentials for the KMS (the vendor's credential chain came up empty or was refused). */
  'unauthenticated',
  /** The credentials may not use the key (or the encryption-context condition refused the call). */
  'permission_denied',
  /** The key does not exist (wrong id, wrong region or account, or deleted). */
  'key_not_found',
  /** The key exists but is disabled, pending deletion or pending import. */
  'key_disabled',
  /** The KMS refused the request as invalid (wrong key usage or spec, a bug). */
  'rejected',
] as const;

export type KeySourceFailureReason = (typeof keySourceFailureReasons)[number];

const outageReasons: ReadonlySet<string> = new Set(['unreachable', 'timeout', 'throttled', 'server_error']);

export interface KeySourceFailureInput {
  /** The source as operators know it, e.g. `AWS KMS key alias/coffer`. */
  source: string;
  /** What was being done: `describe`, `wrap`, `unwrap`, `rewrap`, `rotate` (or a phrase of your own). */
  operation: string;
  /** The KMS's id of the key involved (an ARN, a key name); named in the message. */
  keyId: string;
  /** Coffer's id of the key (as in blob headers and `status().keys`), when known. */
  kekId?: string | undefined;
  reason: KeySourceFailureReason;
  /** The vendor's error code (`AccessDeniedException`), never its message. */
  vendorCode?: string | undefined;
  attempts?: number | undefined;
  binding?: SealBinding | undefined;
}

const vendorCodePattern = /^[A-Za-z0-9_.:-]{1,80}$/;

const operationPhrases: Readonly<Record<string, string>> = {
  describe: 'be used (describing it failed)',
  wrap: 'wrap a data key',
  unwrap: 'unwrap a data key',
  rewrap: 're-wrap a data key',
  rotate: 'be rotated',
};

/**
 * The error a KMS key source throws when the KMS cannot wrap or unwrap: code `key_unavailable`
 * (HTTP 503), naming the key and why, with `details.reason`, `details.keyId` and
 * `details.vendorCode`. Never a vendor message (it may echo request data), never a `cause`.
 *
 * @example
 * throw keySourceFailure({ source: 'AWS KMS key alias/coffer', operation: 'unwrap', keyId: arn, reason: 'unreachable', vendorCode: 'ECONNREFUSED' });
 */
export function keySourceFailure(input: KeySourceFailureInput): CofferError {
  const vendorCode =
    input.vendorCode !== undefined && vendorCodePattern.test(input.vendorCode) ? input.vendorCode : undefined;
  const what =
    input.binding === undefined
      ? ''
      : ` for secret ${input.binding.secretId} version ${input.binding.version}`;
  const code = vendorCode === undefined ? '' : ` (${vendorCode})`;
  const tries = input.attempts !== undefined && input.attempts > 1 ? ` after ${input.attempts} attempts` : '';
  const verb = operationPhrases[input.operation] ?? input.operation;
  return new CofferError(
    'key_unavailable',
    `KMS key ${input.keyId} could not ${verb}${what}: ${describeReason(input.reason)}${code}${tries} (${input.source})`,
    {
      details: {
        reason: input.reason,
        keyId: input.keyId,
        ...(input.kekId === undefined ? {} : { kekId: input.kekId }),
        ...(vendorCode === undefined ? {} : { vendorCode }),
        ...(input.attempts === undefined ? {} : { attempts: input.attempts }),
        ...(input.binding === undefined
          ? {}
          : { secretId: input.binding.secretId, version: input.binding.version }),
      },
    },
  );
}

/**
 * Whether `err` is a KMS outage (`key_unavailable` for a reason that passes by itself), as
 * opposed to a missing key, a permission problem or tampered data.
 *
 * @example
 * if (isKeySourceOutage(err)) throw err; // stop this re-wrap run; it resumes later
 */
export function isKeySourceOutage(err: unknown): boolean {
  return isCofferError(err, 'key_unavailable') && outageReasons.has(String(err.details.reason));
}

function describeReason(reason: KeySourceFailureReason): string {
  switch (reason) {
    case 'unreachable':
      return 'the KMS cannot be reached';
    case 'timeout':
      return 'the KMS did not answer in time';
    case 'throttled':
      return 'the KMS kept throttling requests';
    case 'server_error':
      return 'the KMS failed with a server error';
    case 'unauthenticated':
      return 'no valid credentials for the KMS';
    case 'permission_denied':
      return 'permission denied by the KMS (check the key policy, IAM policy and encryption-context condition)';
    case 'key_not_found':
      return 'the KMS has no such key (check the key id, region and account)';
    case 'key_disabled':
      return 'the key is disabled, pending deletion or pending import';
    case 'rejected':
      return 'the KMS rejected the request';
  }
}
