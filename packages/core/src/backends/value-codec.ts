import { CofferError } from '../errors/coffer-error.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { ValueRef } from './backend.js';

/** Values as bytes, for backends that store blobs. */
export function encodeValues(values: SecretValues): Buffer {
  return Buffer.from(JSON.stringify(values), 'utf8');
}

/**
 * Bytes back to values. Bytes that opened (so they were authentic) but are not a values
 * object mean a bug or foreign data: an integrity error that names the ref, not the bytes.
 */
export function decodeValues(bytes: Buffer, ref: ValueRef): SecretValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CofferError(
      'integrity',
      `stored value of secret ${ref.secretId} version ${ref.version} is not a values object`,
    );
  }
  for (const v of Object.values(parsed)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new CofferError(
        'integrity',
        `stored value of secret ${ref.secretId} version ${ref.version} has a field of an unsupported type`,
      );
    }
  }
  return parsed as SecretValues;
}
