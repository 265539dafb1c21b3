import type { FieldValue } from '../api/types';
import type { FreeFormRow } from '../forms/free-form-fields';

/** Free-form rows → values (rows without a name are left out). */
export function valuesOfRows(rows: readonly FreeFormRow[]): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const row of rows) if (row.key.trim() !== '') values[row.key.trim()] = row.value;
  return values;
}

/** Free-form rows as edited → the update: changed or new rows, and names removed or renamed. */
export function changesOfRows(
  rows: readonly FreeFormRow[],
  loadedKeys: readonly string[],
): {
  values: Record<string, FieldValue>;
  removeKeys: string[];
} {
  const values: Record<string, FieldValue> = {};
  const kept = new Set<string>();
  for (const row of rows) {
    const key = row.key.trim();
    if (key === '') continue;
    kept.add(key);
    if (row.original === key && row.value === row.originalValue) continue;
    values[key] = row.value;
  }
  const removeKeys = loadedKeys.filter((k) => !kept.has(k));
  return { values, removeKeys };
}
