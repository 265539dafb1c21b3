import type { Kind, SecretValues } from '../kinds/kind-types.js';

/**
 * What a masked secret field shows. A client that sends it back unchanged in an update keeps
 * the stored value: the round trip that lets a form edit one field without ever seeing (or
 * overwriting) the password.
 */
export const MASK = '••••••••';

/** The values with every secret field replaced by the mask, and the names of those fields. */
export function maskValues(
  kind: Kind,
  values: SecretValues,
): { values: SecretValues; maskedFields: string[] } {
  const masked: SecretValues = {};
  const maskedFields: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (kind.isSecretField(name)) {
      masked[name] = MASK;
      maskedFields.push(name);
    } else {
      masked[name] = value;
    }
  }
  return { values: masked, maskedFields };
}

/** True when a submitted field value is the mask (and so means "keep what is stored"). */
export function isMask(value: unknown): boolean {
  return value === MASK;
}
