import { z } from 'zod';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses, idParams, noQuery, pageOf } from '../schemas/common-schemas.js';
import { createTokenBody, listTokensQuery, tokenInfoSchema } from '../schemas/identity-schemas.js';

const tags = ['tokens'];

/** API tokens for the CLI, the SDK and service accounts. A token is shown once, at creation. */
export function tokenRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/tokens',
    {
      schema: {
        tags,
        summary: "The caller's tokens (admins: anyone's)",
        querystring: listTokensQuery,
        response: { 200: pageOf(tokenInfoSchema), ...errorResponses },
      },
    },
    async (request) => coffer.identity.listTokens(actorOf(request), request.query),
  );

  app.post(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'Create an API token',
        description:
          'Users create tokens for themselves, admins for anyone (service accounts included). The token is in this answer only; send it as `Authorization: Bearer <token>`.',
        body: createTokenBody,
        querystring: noQuery,
        response: {
          201: z.object({ token: z.string(), info: tokenInfoSchema }).meta({ id: 'CreatedToken' }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const created = await coffer.identity.createToken(actorOf(request), request.body);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a token',
        description: 'The owner or an admin; effective on the very next request.',
        params: idParams,
        querystring: noQuery,
        response: { 200: tokenInfoSchema, ...errorResponses },
      },
    },
    async (request) => coffer.identity.revokeToken(actorOf(request), request.params.id),
  );
}
