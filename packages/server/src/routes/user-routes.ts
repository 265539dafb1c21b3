import { z } from 'zod';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses, idParams, noContent, noQuery, pageOf } from '../schemas/common-schemas.js';
import {
  createUserBody,
  listUsersQuery,
  setPasswordBody,
  updateUserBody,
  userSchema,
} from '../schemas/identity-schemas.js';

const tags = ['users'];

/**
 * Users and service accounts (`type: service_account`: bots that authenticate with tokens).
 * Admins manage them; everyone may look people up (email and last login only for admins
 * and the user themself).
 */
export function userRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users and service accounts',
        querystring: listUsersQuery,
        response: { 200: pageOf(userSchema), ...errorResponses },
      },
    },
    async (request) => coffer.identity.listUsers(actorOf(request), request.query),
  );

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user or service account (admins)',
        body: createUserBody,
        querystring: noQuery,
        response: { 201: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await coffer.identity.createUser(actorOf(request), request.body);
      return reply.code(201).send(user);
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'One user',
        params: idParams,
        querystring: noQuery,
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (request) => coffer.identity.getUser(actorOf(request), request.params.id),
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a user',
        description:
          'Admins change anything (disabling ends every session at once); users their own display name and email.',
        params: idParams,
        querystring: noQuery,
        body: updateUserBody,
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (request) => coffer.identity.updateUser(actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/users/:id/password',
    {
      schema: {
        tags,
        summary: 'Set a password',
        description:
          'Admins reset anyone else’s; users change their own with `currentPassword`. Every session of the user ends.',
        params: idParams,
        querystring: noQuery,
        body: setPasswordBody,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await coffer.identity.setPassword(actorOf(request), request.params.id, request.body);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/users/:id/sessions',
    {
      schema: {
        tags,
        summary: 'Log a user out everywhere',
        description: 'The user themself or an admin. Takes effect at once on every server process.',
        params: idParams,
        querystring: noQuery,
        response: { 200: z.object({ ended: z.number().int() }), ...errorResponses },
      },
    },
    async (request) => ({
      ended: await coffer.identity.revokeAllSessions(actorOf(request), request.params.id),
    }),
  );
}
