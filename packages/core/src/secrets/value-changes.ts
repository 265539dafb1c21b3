import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import type { Kind, SecretValues } from '../kinds/kind-types.js';
import { isMask } from './masking.js';

/** Largest encoded size of one secret's values. */
export const maxValuesBytes = 1024 * 1024;

/**
 * The values an update produces: the stored values, with `set` applied (a secret field set
 * to the mask keeps its stored value) and `remove` taken out. Validation is the kind's job.
 */
export function mergeValues(
  kind: Kind,
  stored: SecretValues,
  set: Record<string, unknown> | undefined,
  remove: readonly string[] | undefined,
): Record<string, unknown> {
  const issues: FieldIssue[] = [];
  const next: Record<string, unknown> = { ...stored };
  for (const [name, value] of Object.entries(set ?? {})) {
    if (isMask(value) && kind.isSecretField(name)) {
      if (!(name in stored)) {
        issues.push({
          path: `values.${name}`,
          message: 'the mask was sent back but no value is stored to keep',
        });
      }
      continue;
    }
    next[name] = value;
  }
  for (const name of remove ?? []) {
    if (set !== undefined && name in set) {
      issues.push({ path: `removeKeys.${name}`, message: 'is both set and removed' });
    }
    delete next[name];
  }
  if (issues.length > 0) throw CofferError.validation(issues);
  return next;
}

/** Rejects the mask as a new value: it is only meaningful when a value is already stored. */
export function rejectMasks(kind: Kind, values: Record<string, unknown>): void {
  const issues = Object.entries(values)
    .filter(([name, value]) => isMask(value) && kind.isSecretField(name))
    .map(([name]) => ({ path: `values.${name}`, message: 'the mask is not a value; send the real value' }));
  if (issues.length > 0) throw CofferError.validation(issues);
}

/** Field names whose values differ (added, removed or changed), sorted. */
export function changedFields(before: SecretValues, after: SecretValues): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

/** Throws `payload_too_large` when values would not fit. */
export function assertValuesSize(values: SecretValues): void {
  if (Buffer.byteLength(JSON.stringify(values), 'utf8') > maxValuesBytes) {
    throw new CofferError('payload_too_large', `a secret's values may be at most ${maxValuesBytes} bytes`);
  }
}
