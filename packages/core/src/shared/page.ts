import { CofferError } from '../errors/coffer-error.js';

/** One page of a list. `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  /** An opaque cursor from a previous page's `nextCursor`. */
  cursor?: string | null;
  /** Items per page, 1 to 1000; default 100. */
  limit?: number;
}

export const defaultPageSize = 100;
export const maxPageSize = 1000;

/** The page size a request asks for, validated. */
export function pageLimit(request: PageRequest): number {
  const limit = request.limit ?? defaultPageSize;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
    throw CofferError.validation([{ path: 'limit', message: `must be an integer from 1 to ${maxPageSize}` }]);
  }
  return limit;
}

/**
 * Keyset cursors are the sort key of the last item, as base64url JSON. They are opaque to
 * clients; a cursor that does not decode to the expected shape is a validation error.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((part, i) => typeof part !== shape[i])) {
    throw CofferError.validation([{ path: 'cursor', message: 'is not a cursor this list returned' }]);
  }
  return key as (string | number)[];
}
