import type { SecretValues } from '@coffer/core';
import { VaultHttpError } from './vault-errors.js';

/**
 * The field that lists which of a version's fields hold JSON. Vault KV keeps any JSON value
 * under a key (objects, lists, null); a Coffer value is a string, number or boolean. The door
 * keeps such a value as its JSON text and names the field here (a JSON list of field names), so
 * a read gives back exactly what was written, and a string that merely looks like JSON stays a
 * string. Vault clients cannot write this field themselves.
 */
export const jsonFieldsField = 'vault.json-fields';

type Scalar = string | number | boolean;

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number';
}

/**
 * Vault data as Coffer values: strings, numbers and booleans as they are; every other JSON value
 * as its JSON text, listed in {@link jsonFieldsField}.
 *
 * @example
 * toCofferValues({ user: 'u', tags: ['a'] }); // { user: 'u', tags: '["a"]', 'vault.json-fields': '["tags"]' }
 */
export function toCofferValues(data: Record<string, unknown>): Record<string, unknown> {
  if (Object.hasOwn(data, jsonFieldsField)) {
    throw new VaultHttpError(400, [
      `data.${jsonFieldsField}: the field name is reserved by Coffer (it lists the fields that hold JSON)`,
    ]);
  }
  const values: Record<string, unknown> = {};
  const json: string[] = [];
  for (const [name, value] of Object.entries(data)) {
    if (isScalar(value)) {
      values[name] = value;
    } else {
      values[name] = JSON.stringify(value);
      json.push(name);
    }
  }
  if (json.length > 0) values[jsonFieldsField] = JSON.stringify(json.sort());
  return values;
}

/**
 * Coffer values as Vault data: the fields {@link jsonFieldsField} names are parsed back, the
 * list itself is left out. A field it names that is not JSON any more (changed through Coffer's
 * own API) is given as stored.
 *
 * @example
 * fromCofferValues({ tags: '["a"]', 'vault.json-fields': '["tags"]' }); // { tags: ['a'] }
 */
export function fromCofferValues(values: SecretValues): Record<string, unknown> {
  const listed = jsonFieldNames(values);
  if (listed === undefined) return { ...values };
  const data: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name === jsonFieldsField) continue;
    if (listed.has(name) && typeof value === 'string') {
      try {
        data[name] = JSON.parse(value);
        continue;
      } catch {
        // not JSON (any more): as stored
      }
    }
    data[name] = value;
  }
  return data;
}

/** The names {@link jsonFieldsField} lists, or undefined when the values have no such field. */
export function jsonFieldNames(values: Readonly<Record<string, unknown>>): Set<string> | undefined {
  const raw = values[jsonFieldsField];
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return new Set(Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string') : []);
  } catch {
    return new Set();
  }
}

/** Whether a merge patch needs the current values to apply (a nested value merges into one). */
export function needsDeepMerge(patch: Record<string, unknown>): boolean {
  return Object.values(patch).some((v) => v !== null && !isScalar(v));
}

/**
 * RFC 7396 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
 *
 * @example
 * mergePatch({ a: { b: 1, c: 2 } }, { a: { c: null, d: 3 } }); // { a: { b: 1, d: 3 } }
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
