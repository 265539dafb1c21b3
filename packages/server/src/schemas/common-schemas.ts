import { errorCodes } from '@coffer/core';
import { z } from 'zod';

/** The problem document every error response carries (`application/problem+json`). */
export const problemSchema = z
  .object({
    type: z.string().describe('`urn:coffer:error:<code>`'),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(errorCodes as [string, ...string[]]).describe('Stable; clients branch on it'),
    detail: z.string().describe('For humans; never contains a secret value'),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Each offending field and why (validation errors)'),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document.' });

/** Error responses as documented on every route. */
export const errorResponses = {
  '4xx': {
    description: 'A problem with the request (see the `code`)',
    content: { 'application/problem+json': { schema: problemSchema } },
  },
  '5xx': {
    description: 'A problem on the server; `internal` carries a generic message',
    content: { 'application/problem+json': { schema: problemSchema } },
  },
} as const;

/** `cursor` and `limit`, which every list route takes. */
export const pageQueryShape = {
  cursor: z.string().min(1).max(2000).optional().describe('`nextCursor` of the previous page'),
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int('must be a whole number from 1 to 1000')
    .min(1, 'must be a whole number from 1 to 1000')
    .max(1000, 'must be a whole number from 1 to 1000')
    .optional()
    .describe('Items per page, 1 to 1000 (default 100)'),
};

export const pageQuery = z.strictObject(pageQueryShape);

/** A page of a list: `nextCursor` is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** A boolean in a query string: `true`/`false` (or `1`/`0`). */
export const queryBoolean = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** Routes without query parameters still refuse unknown ones. */
export const noQuery = z.strictObject({});

/** A body that may be absent or `{}`, and nothing else. */
export const emptyBody = z.strictObject({}).optional();

/** An id or name in a path segment. */
export const pathSegment = z.string().min(1).max(256);

export const idParams = z.strictObject({ id: pathSegment });

/** Headers a conditional write reads; other headers pass through untouched. */
export const ifMatchHeaders = z.looseObject({
  'if-match': z
    .string()
    .max(200)
    .optional()
    .describe(
      'An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds',
    ),
});

/** 204 responses have no body. */
export const noContent = z.null().describe('No content');
