import { CofferError, type FieldIssue } from '@coffer/core';
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { HttpProblem } from './problem.js';

/**
 * Turns zod issues into field issues. Messages describe the rule that failed and never quote
 * the input, which may be a secret value.
 */
export function issuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path: path === '' ? '(root)' : path, message: safeMessage(issue) };
  });
}

function safeMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'undefined' ? 'is not allowed here' : `expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field(s): ${issue.keys.map((k) => k.slice(0, 64)).join(', ')}`;
    case 'invalid_union':
      return 'has the wrong type';
    default:
      return issue.message;
  }
}

/**
 * Fastify's validator compiler for zod schemas. A failure is a CofferError `validation`
 * (422) naming every offending field; a bad path parameter is a 400, because the URL itself
 * is wrong. The parsed value (with coercions and defaults) replaces the request part.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  return (data: unknown) => {
    // Fastify hands `null` for an absent body; our bodies are JSON objects (the parser
    // refuses anything else), so null can only mean "no body".
    const input = httpPart === 'body' && data === null ? undefined : data;
    const result = schema.safeParse(input);
    if (result.success) return { value: result.data };
    const issues = issuesFromZod(result.error, httpPart === 'headers' ? 'headers' : '');
    const error =
      httpPart === 'params'
        ? new HttpProblem(400, 'validation', `the URL is not valid: ${summary(issues)}`, issues)
        : CofferError.validation(issues, `the request is not valid: ${summary(issues)}`);
    return { error };
  };
};

function summary(issues: FieldIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
  return issues.length > 5 ? `${shown.join('; ')}; and ${issues.length - 5} more` : shown.join('; ');
}
