import type {
  CreatedShareLink,
  CreateShareLinkInput,
  OpenedShareLink,
  ShareLink,
  ShareLinkPreview,
} from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import type { Page, PageQuery } from '../pagination.js';
import { callOptions, splitOptions } from './resource-support.js';

/** A share link as a recipient holds it: the whole link, its `/s/...` path, or its id and key. */
export type ShareLinkRef = string | { id: string; key: string };

/**
 * The id and key of a share link (`https://coffer.example.com/s/<id>#<key>`, or its path
 * `/s/<id>#<key>`). Throws a `TypeError` naming what is missing, never echoing the key.
 *
 * @example
 * parseShareLink('https://coffer.example.com/s/5f0c...#q1w2...') // { id: '5f0c...', key: 'q1w2...' }
 */
export function parseShareLink(link: ShareLinkRef): { id: string; key: string } {
  if (typeof link !== 'string') return { id: link.id, key: link.key };
  const match = /(?:^|\/)s\/([^/?#]+)\/?(?:\?[^#]*)?#(.+)$/.exec(link.trim());
  if (match === null) {
    throw new TypeError('not a Coffer share link: expected …/s/<id>#<key> (the part after "#" too)');
  }
  return { id: decodeURIComponent(match[1]!), key: match[2]! };
}

/**
 * One-time share links: make one to a secret's values for someone without an account, list a
 * secret's links, revoke one; and, as a recipient (no token or session needed), preview and
 * open a link. See docs/share-links.md.
 */
export interface ShareLinksApi {
  /**
   * `POST /secrets/{ref}/share-links` (needs `read`; audited as a reveal and `share_link.create`).
   * The answer's `url` (and `key`) exist only in this answer.
   *
   * @example
   * const { url } = await client.shareLinks.create('mail', { fields: ['password'], ttlSeconds: 3600 });
   */
  create(ref: string, input?: CreateShareLinkInput, options?: CallOptions): Promise<CreatedShareLink>;
  /** `GET /secrets/{ref}/share-links`: newest first, metadata only (needs `read`). */
  list(ref: string, page?: PageQuery & CallOptions): Promise<Page<ShareLink>>;
  /** `DELETE /share-links/{id}`: its creator, or whoever may `manage` the secret. */
  revoke(id: string, options?: CallOptions): Promise<ShareLink>;
  /** `POST /share-links/{id}/preview`: what a link holds, counting no view. */
  preview(link: ShareLinkRef, options?: CallOptions): Promise<ShareLinkPreview>;
  /**
   * `POST /share-links/{id}/open`: counts a view and answers the values. Fails with
   * `share_link_used`, `share_link_expired`, `share_link_revoked` (410), `share_link_wrong_key`
   * or `share_link_wrong_passphrase` (403, no view counted). A link to another server needs a
   * client of that server: `createClient({ baseUrl: new URL(link).origin })`.
   *
   * @example
   * const { values } = await createClient({ baseUrl: new URL(link).origin }).shareLinks.open(link);
   */
  open(link: ShareLinkRef, options?: { passphrase?: string } & CallOptions): Promise<OpenedShareLink>;
}

export function shareLinksApi(transport: Transport): ShareLinksApi {
  return {
    create: (ref, input, options) =>
      transport.call('POST /secrets/{ref}/share-links', {
        path: { ref },
        body: input ?? {},
        ...callOptions(options),
      }),
    list: (ref, page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /secrets/{ref}/share-links', { path: { ref }, query, ...call });
    },
    revoke: (id, options) =>
      transport.call('DELETE /share-links/{id}', { path: { id }, ...callOptions(options) }),
    preview: (link, options) => {
      const { id, key } = parseShareLink(link);
      return transport.call('POST /share-links/{id}/preview', {
        path: { id },
        body: { key },
        ...callOptions(options),
      });
    },
    open: (link, options) => {
      const { id, key } = parseShareLink(link);
      const passphrase = options?.passphrase;
      return transport.call('POST /share-links/{id}/open', {
        path: { id },
        body: passphrase === undefined ? { key } : { key, passphrase },
        ...callOptions(options),
      });
    },
  };
}
