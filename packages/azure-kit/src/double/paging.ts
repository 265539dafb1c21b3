import { badParameter } from './key-vault-error.js';

/** Items per page of a list operation (`maxresults`) at most; 25 is also the default. */
export const maxPageSize = 25;

function encodeToken(marker: string): string {
  return Buffer.from(JSON.stringify({ NextMarker: marker }), 'utf8').toString('base64url');
}

function decodeToken(token: string | null): string | undefined {
  if (token === null || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { NextMarker?: unknown };
    if (typeof parsed.NextMarker === 'string') return parsed.NextMarker;
  } catch {
    // falls through to the refusal below
  }
  throw badParameter('The skip token is not valid.');
}

/** Page size from `maxresults`: 1 to 25, 25 when absent. */
function pageSize(text: string | null): number {
  if (text === null || text === '') return maxPageSize;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > maxPageSize) {
    throw badParameter(`Invalid value for maxresults: ${text}. It must be between 1 and ${maxPageSize}.`);
  }
  return n;
}

/**
 * One page of a Key Vault list operation over `keys` (sorted, as Key Vault orders them):
 * `maxresults` and the `$skiptoken` of the query, and the `nextLink` that carries on from it
 * (`<vaultUrl><path>?api-version=..&$skiptoken=..&maxresults=..`), null on the last page.
 *
 * @example
 * const { page, nextLink } = listPage(names, query, { vaultUrl, path: '/secrets', apiVersion });
 */
export function listPage(
  keys: readonly string[],
  query: URLSearchParams,
  link: { vaultUrl: string; path: string; apiVersion: string },
): { page: string[]; nextLink: string | null } {
  const size = pageSize(query.get('maxresults'));
  const after = decodeToken(query.get('$skiptoken'));
  const rest = keys.filter((k) => after === undefined || k > after);
  const page = rest.slice(0, size);
  return {
    page,
    nextLink:
      rest.length > size
        ? `${link.vaultUrl}${link.path}?api-version=${encodeURIComponent(link.apiVersion)}&$skiptoken=${encodeToken(page.at(-1)!)}&maxresults=${size}`
        : null,
  };
}
