import type { z } from 'zod';
import type { FieldIssue } from './coffer-error.js';

/**
 * Turns zod issues into {@link FieldIssue}s. Messages are zod's own descriptions of the
 * rule that failed; we never quote the offending input, because it may be a secret.
 */
export function fieldIssuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path: path === '' ? '(root)' : path, message: safeZodMessage(issue) };
  });
}

function safeZodMessage(issue: z.core.$ZodIssue): string {
  // zod's default messages describe the rule ("Too small: expected string to have >=1
  // characters"), but `invalid_value`/custom messages could embed input; keep them generic.
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field(s): ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}
