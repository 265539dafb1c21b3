import type { FieldIssue } from '../errors/coffer-error.js';
import { hasControlCharacters } from '../shared/control-characters.js';

/**
 * Secret names: 1 to 128 letters, digits, `_` and `-`, starting with a letter or digit. No
 * dots, so a reference `{{ name.field }}` always splits at its first dot; no slashes or
 * spaces, so names are safe in URLs, file names and shell arguments unquoted.
 */
export const secretNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a reference is a secret id rather than a name (so names may never look like one). */
export function looksLikeId(ref: string): boolean {
  return uuidPattern.test(ref);
}

export function secretNameIssues(name: unknown, path = 'name'): FieldIssue[] {
  if (typeof name !== 'string') return [{ path, message: 'must be a string' }];
  if (name.length === 0 || name.length > 128) return [{ path, message: 'must be 1 to 128 characters long' }];
  if (!secretNamePattern.test(name)) {
    return [
      {
        path,
        message: "may contain only letters, digits, '_' and '-', and must start with a letter or digit",
      },
    ];
  }
  if (looksLikeId(name)) return [{ path, message: 'must not look like a secret id' }];
  return [];
}

/** Label names look like Kubernetes label keys: lowercase, digits, `.`, `_`, `-`, `/`. */
const labelNamePattern = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
export const maxLabels = 64;

export function labelIssues(labels: unknown, path = 'labels'): FieldIssue[] {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    return [{ path, message: 'must be an object of label names to string values' }];
  }
  const entries = Object.entries(labels);
  const issues: FieldIssue[] = [];
  if (entries.length > maxLabels) issues.push({ path, message: `at most ${maxLabels} labels` });
  for (const [name, value] of entries) {
    if (!labelNamePattern.test(name)) {
      issues.push({
        path: `${path}.${name}`,
        message: "label names are 1 to 63 lowercase letters, digits, '.', '_', '-' or '/'",
      });
    }
    if (typeof value !== 'string' || value.length > 255) {
      issues.push({ path: `${path}.${name}`, message: 'label values are strings of at most 255 characters' });
    } else if (hasControlCharacters(value)) {
      issues.push({ path: `${path}.${name}`, message: 'label values must not contain control characters' });
    }
  }
  return issues;
}

export function descriptionIssues(description: unknown, path = 'description'): FieldIssue[] {
  if (typeof description !== 'string') return [{ path, message: 'must be a string' }];
  if (description.length > 1000) return [{ path, message: 'must be at most 1000 characters long' }];
  if (hasControlCharacters(description, true)) {
    return [{ path, message: 'must not contain control characters other than tabs and line breaks' }];
  }
  return [];
}
