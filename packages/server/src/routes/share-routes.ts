import { pageOfList, sortByKey } from '../http/pagination.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses, noContent, noQuery, pageOf, pageQuery } from '../schemas/common-schemas.js';
import { refParams, shareBody, shareParams, shareSchema } from '../schemas/secret-schemas.js';

const tags = ['shares'];

/** Shares of one secret: who holds which level. Changing them needs `manage`. */
export function shareRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/secrets/:ref/shares',
    {
      schema: {
        tags,
        summary: "A secret's shares",
        description: 'Groups first, then users, by name. Needs `read`.',
        params: refParams,
        querystring: pageQuery,
        response: { 200: pageOf(shareSchema), ...errorResponses },
      },
    },
    async (request) => {
      const shares = await coffer.shares.list(actorOf(request), request.params.ref);
      const key = (s: (typeof shares)[number]) => [
        s.granteeType === 'group' ? 0 : 1,
        s.granteeName,
        s.granteeId,
      ];
      return pageOfList(sortByKey(shares, key), key, request.query);
    },
  );

  app.post(
    '/secrets/:ref/shares',
    {
      schema: {
        tags,
        summary: 'Share a secret (or change a share)',
        description:
          'Grants a user or group one level: `use` < `read` < `write` < `manage`. Defaults: `read` for users, `use` for groups. Sharing with a group needs membership (or admin).',
        params: refParams,
        querystring: noQuery,
        body: shareBody,
        response: { 200: shareSchema, ...errorResponses },
      },
    },
    async (request) => coffer.shares.share(actorOf(request), request.params.ref, request.body),
  );

  app.delete(
    '/secrets/:ref/shares/:granteeType/:granteeId',
    {
      schema: {
        tags,
        summary: 'Revoke a share',
        description: 'Takes effect on the grantee’s next request.',
        params: shareParams,
        querystring: noQuery,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { ref, granteeType, granteeId } = request.params;
      await coffer.shares.unshare(actorOf(request), ref, { granteeType, granteeId });
      return reply.code(204).send(null);
    },
  );
}
