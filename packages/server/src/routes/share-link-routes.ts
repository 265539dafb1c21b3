import { CofferError, createAttemptThrottle, isCofferError, type ShareLinkViewer } from '@coffer/core';
import type { FastifyRequest } from 'fastify';
import type { LoginThrottleSettings } from '../auth/login-throttle.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses, noQuery, pageOf } from '../schemas/common-schemas.js';
import { refParams } from '../schemas/secret-schemas.js';
import {
  createdShareLinkSchema,
  createShareLinkBody,
  openedShareLinkSchema,
  openShareLinkBody,
  previewShareLinkBody,
  shareLinkListQuery,
  shareLinkParams,
  shareLinkPreviewSchema,
  shareLinkSchema,
} from '../schemas/share-link-schemas.js';

/** How the share-link routes build links and slow down guessing. */
export interface ShareLinkRouteOptions {
  /**
   * Where the web UI's `/s/<id>` page is served, e.g. `https://coffer.example.com`; links are
   * this plus `/s/<id>#<key>`. Default: the origin the creating request came to.
   */
  baseUrl?: string;
  /**
   * Wrong keys and passphrases (and unknown ids) per link and per client address before a
   * lockout, as for logins. Default: 5 per link, 20 per address, 30 s doubling up to 15 min.
   */
  throttle?: Partial<LoginThrottleSettings>;
}

const tags = ['share links'];

/** Answers of the public routes that count as a guess: a wrong key or passphrase, an unknown link. */
const guesses = new Set(['share_link_wrong_key', 'share_link_wrong_passphrase', 'not_found']);

/** The audit source of an anonymous request, from the SDK's `X-Coffer-Client`. */
function viewerOf(request: FastifyRequest): ShareLinkViewer {
  const client = request.headers['x-coffer-client'];
  return { address: request.ip, source: client === 'cli' ? 'cli' : client === 'web' ? 'web' : 'api' };
}

/**
 * Share links: make and list them for a secret, revoke them, and the two public routes a
 * recipient without an account uses (preview, open). Those carry no credentials (so no cookie,
 * no CSRF), are throttled per link and per address, and take the link key in the body, never
 * in the URL. Access control and auditing are core's.
 */
export function shareLinkRoutes(
  app: CofferApp,
  { coffer }: RouteContext,
  options: ShareLinkRouteOptions = {},
): void {
  const throttle = createAttemptThrottle(coffer.database, {
    scope: 'share-link',
    settings: { maxFailures: 5, maxFailuresPerAddress: 20, ...options.throttle },
  });
  const baseUrl = options.baseUrl?.replace(/\/+$/, '');

  /** Runs a public call under the throttle: a locked-out link or address gets 429 at once. */
  async function throttled<T>(request: FastifyRequest, id: string, call: () => Promise<T>): Promise<T> {
    const wait = await throttle.begin(id, request.ip);
    if (wait > 0) {
      throw new CofferError('rate_limited', 'too many wrong attempts at this link; wait and try again', {
        details: { retryAfterSeconds: wait },
      });
    }
    try {
      const result = await call();
      await throttle.end(id, request.ip, 'success');
      return result;
    } catch (err) {
      await throttle.end(id, request.ip, isCofferError(err) && guesses.has(err.code) ? 'failure' : 'error');
      throw err;
    }
  }

  app.post(
    '/secrets/:ref/share-links',
    {
      schema: {
        tags,
        summary: 'Make a share link',
        description:
          'Needs `read`: reveals the values (audited as `secret.reveal`), seals a copy of them (or of `fields`) under a fresh link key, and records `share_link.create`. The answer holds the key and the whole link (`url`) once; Coffer keeps neither.',
        params: refParams,
        querystring: noQuery,
        body: createShareLinkBody,
        response: { 201: createdShareLinkSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await coffer.shareLinks.create(
        actorOf(request),
        request.params.ref,
        request.body ?? {},
      );
      const origin = baseUrl ?? `${request.protocol}://${request.host}`;
      return reply.code(201).send({ ...created, url: `${origin}${created.path}` });
    },
  );

  app.get(
    '/secrets/:ref/share-links',
    {
      schema: {
        tags,
        summary: "A secret's share links",
        description: 'Newest first, with their state; metadata only, never a key or a value. Needs `read`.',
        params: refParams,
        querystring: shareLinkListQuery,
        response: { 200: pageOf(shareLinkSchema), ...errorResponses },
      },
    },
    async (request) => coffer.shareLinks.list(actorOf(request), request.params.ref, request.query),
  );

  app.delete(
    '/share-links/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a share link',
        description:
          'Its copy of the values is destroyed at once and it opens no more. Its creator may, and whoever may `manage` the secret. A link that already ended is answered as it is.',
        params: shareLinkParams,
        querystring: noQuery,
        response: { 200: shareLinkSchema, ...errorResponses },
      },
    },
    async (request) => coffer.shareLinks.revoke(actorOf(request), request.params.id),
  );

  app.post(
    '/share-links/:id/preview',
    {
      config: { cofferPublic: true },
      schema: {
        tags,
        summary: 'What a share link holds (public)',
        description:
          'For the holder of the link, no account needed: whose secret, which fields, views left, whether a passphrase is needed. Counts no view. `410` for a link that expired (`share_link_expired`), was used (`share_link_used`) or revoked (`share_link_revoked`).',
        security: [],
        params: shareLinkParams,
        querystring: noQuery,
        body: previewShareLinkBody,
        response: { 200: shareLinkPreviewSchema, ...errorResponses },
      },
    },
    async (request) =>
      throttled(request, request.params.id, () =>
        coffer.shareLinks.preview(request.params.id, request.body, viewerOf(request)),
      ),
  );

  app.post(
    '/share-links/:id/open',
    {
      config: { cofferPublic: true },
      schema: {
        tags,
        summary: 'Open a share link (public)',
        description:
          'Counts one view and answers the values; after the last view the copy is destroyed. A wrong key (`share_link_wrong_key`) or passphrase (`share_link_wrong_passphrase`) counts no view; guesses are throttled (`429`). The key is used in memory for this request only and is never stored or logged.',
        security: [],
        params: shareLinkParams,
        querystring: noQuery,
        body: openShareLinkBody,
        response: { 200: openedShareLinkSchema, ...errorResponses },
      },
    },
    async (request) =>
      throttled(request, request.params.id, () =>
        coffer.shareLinks.open(request.params.id, request.body, viewerOf(request)),
      ),
  );
}
