import type { CallOptions } from './http/transport.js';

/** One page of a list: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Where a page starts (`nextCursor` of the previous one) and how long it is (1 to 1000). */
export interface PageQuery {
  cursor?: string;
  limit?: number;
}

/**
 * Every item of a paged list, fetching page after page as the loop asks for more (stop early
 * with `break`). Works with any list method of the client.
 *
 * @example
 * for await (const version of paginate((page) => client.secrets.versions('mail', page))) {
 *   console.log(version.version, version.changedFields);
 * }
 */
export async function* paginate<T>(
  fetchPage: (page: PageQuery & CallOptions) => Promise<Page<T>>,
  options: { limit?: number } & CallOptions = {},
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage({
      ...(cursor === undefined ? {} : { cursor }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
