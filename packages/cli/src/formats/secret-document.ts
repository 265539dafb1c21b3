import { CliError, type Issue } from '../errors/cli-error.js';
import type { FieldValue } from './dotenv-format.js';

/** A secret as `coffer export` writes it to JSON or YAML and `coffer import` reads it. */
export interface SecretDocumentEntry {
  name: string;
  kind: string;
  description?: string;
  labels?: Record<string, string>;
  values: Record<string, FieldValue>;
}

/**
 * The JSON/YAML document of secrets, keyed by name:
 * `{ "mail": { "kind": "smtp", "labels": {...}, "values": { "host": ..., "port": 587 } } }`,
 * or with `valuesOnly` just `{ "mail": { "host": ..., "port": 587 } }`. Numbers and booleans
 * stay numbers and booleans.
 */
export function toDocument(
  entries: readonly SecretDocumentEntry[],
  options: { valuesOnly?: boolean } = {},
): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (const entry of entries) {
    if (options.valuesOnly) {
      document[entry.name] = entry.values;
      continue;
    }
    document[entry.name] = {
      kind: entry.kind,
      ...(entry.description ? { description: entry.description } : {}),
      ...(entry.labels && Object.keys(entry.labels).length > 0 ? { labels: entry.labels } : {}),
      values: entry.values,
    };
  }
  return document;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isFieldValue = (v: unknown): v is FieldValue =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';

/**
 * Reads a document written by {@link toDocument}, in either form: an entry with a `values`
 * object is the full form (`kind`, `description`, `labels` beside it), any other entry is a
 * map of values and gets `defaultKind`. Every problem is reported at once, by path.
 */
export function fromDocument(document: unknown, defaultKind: string): SecretDocumentEntry[] {
  if (!isObject(document)) {
    throw new CliError('format', 'the file must hold an object of secrets by name, e.g. {"mail": {...}}');
  }
  const issues: Issue[] = [];
  const entries: SecretDocumentEntry[] = [];
  for (const [name, body] of Object.entries(document)) {
    if (!isObject(body)) {
      issues.push({ path: name, message: 'must be an object (the values, or kind and values)' });
      continue;
    }
    const full = isObject(body.values);
    const rawValues = full ? (body.values as Record<string, unknown>) : body;
    const values: Record<string, FieldValue> = {};
    for (const [field, value] of Object.entries(rawValues)) {
      if (isFieldValue(value)) values[field] = value;
      else
        issues.push({
          path: `${name}.${full ? 'values.' : ''}${field}`,
          message: 'must be a string, number or boolean',
        });
    }
    const entry: SecretDocumentEntry = { name, kind: defaultKind, values };
    if (full) {
      if (body.kind !== undefined) {
        if (typeof body.kind === 'string') entry.kind = body.kind;
        else issues.push({ path: `${name}.kind`, message: 'must be a string' });
      }
      if (body.description !== undefined) {
        if (typeof body.description === 'string') entry.description = body.description;
        else issues.push({ path: `${name}.description`, message: 'must be a string' });
      }
      if (body.labels !== undefined) {
        if (isObject(body.labels) && Object.values(body.labels).every((v) => typeof v === 'string')) {
          entry.labels = body.labels as Record<string, string>;
        } else issues.push({ path: `${name}.labels`, message: 'must be an object of strings' });
      }
      for (const key of Object.keys(body)) {
        if (!['kind', 'description', 'labels', 'values'].includes(key)) {
          issues.push({
            path: `${name}.${key}`,
            message: 'unknown key (expected kind, description, labels, values)',
          });
        }
      }
    }
    entries.push(entry);
  }
  if (issues.length > 0) {
    throw new CliError('format', `the file has ${issues.length} problem(s)`, { issues });
  }
  return entries;
}
