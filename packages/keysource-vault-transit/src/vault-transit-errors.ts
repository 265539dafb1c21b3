import {
  classifyVaultAnswer,
  classifyVaultError,
  type VaultFailure,
  type VaultResponse,
} from '@coffer/backend-vault';
import type { KeySourceFailureReason } from '@coffer/core';

/**
 * What a failed Transit call means: a key source failure reason, `forbidden` (a 403, told apart
 * into a missing policy or a bad token by the Vault session), or `invalid_ciphertext` (Vault could
 * not open a wrapped key: tampered, cut, or of another key), which Coffer reports as `integrity`.
 */
export interface TransitFailure {
  kind: KeySourceFailureReason | 'forbidden' | 'invalid_ciphertext';
  /** The HTTP status (`400`), a fixed condition (`sealed`, `key_too_old`) or a Node error code. */
  vendorCode: string | undefined;
  retry: boolean;
  afterMs?: number | undefined;
}

/** Vault's error strings, read to classify; never copied anywhere. */
function messagesOf(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string').join('\n') : '';
}

/**
 * Classifies a non-2xx Transit answer. Transit answers most refusals as 400 with a message:
 * a missing key (`encryption key not found`), a ciphertext below `min_decryption_version`
 * (`disallowed by policy (too old)`), a ciphertext that does not open (`invalid ciphertext`,
 * `message authentication failed`); everything else follows the Vault store's rules (403, 404,
 * 429 and 5xx, sealed).
 *
 * @example
 * classifyTransitAnswer({ status: 400, headers: {}, body: { errors: ['encryption key not found'] }, json: true }).kind; // 'key_not_found'
 */
export function classifyTransitAnswer(res: VaultResponse): TransitFailure {
  const text = messagesOf(res.body);
  if (res.json && (res.status === 400 || res.status === 404)) {
    if (/encryption key not found|no existing key named|key not found|could not find key/i.test(text)) {
      return { kind: 'key_not_found', vendorCode: 'key_not_found', retry: false };
    }
    if (/disallowed by policy \(too old\)/i.test(text)) {
      return { kind: 'key_disabled', vendorCode: 'key_version_too_old', retry: false };
    }
    if (/less than the minimum encryption key version/i.test(text)) {
      return { kind: 'key_disabled', vendorCode: 'key_version_too_old', retry: false };
    }
    if (
      /invalid ciphertext|message authentication failed|unable to decrypt|illegal base64 data at input|could not decode/i.test(
        text,
      )
    ) {
      return { kind: 'invalid_ciphertext', vendorCode: 'invalid_ciphertext', retry: false };
    }
  }
  const failure = classifyVaultAnswer(res);
  return { ...failure, kind: keySourceReason(failure.kind) };
}

/** Classifies whatever a Transit call threw: an answer, a login failure, the timeout, a network error. */
export function classifyTransitError(err: unknown): TransitFailure {
  if (err instanceof TransitStatusError) return err.failure;
  const failure = classifyVaultError(err);
  return {
    kind: keySourceReason(failure.kind),
    vendorCode: failure.vendorCode,
    retry: failure.retry,
    ...(failure.afterMs === undefined ? {} : { afterMs: failure.afterMs }),
  };
}

function keySourceReason(kind: VaultFailure['kind']): TransitFailure['kind'] {
  switch (kind) {
    case 'not_found':
      return 'key_not_found';
    case 'cas_mismatch':
    case 'limit_exceeded':
      return 'rejected';
    default:
      return kind;
  }
}

/** A non-2xx Transit answer, classified. Vault's message is read once to classify and never kept. */
export class TransitStatusError extends Error {
  override readonly name = 'TransitStatusError';
  constructor(
    readonly status: number,
    readonly failure: TransitFailure,
  ) {
    super(`Vault Transit answered ${status}`);
  }
}
