import { isCofferError } from '@coffer/core';
import { z } from 'zod';
import { pageOfList } from '../http/pagination.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import {
  emptyBody,
  errorResponses,
  idParams,
  noContent,
  noQuery,
  pageOf,
  pageQuery,
  pathSegment,
} from '../schemas/common-schemas.js';
import {
  createGroupBody,
  groupMemberSchema,
  groupSchema,
  groupWithMembersSchema,
  listGroupsQuery,
  updateGroupBody,
} from '../schemas/identity-schemas.js';

const tags = ['groups'];
const memberParams = z.strictObject({ id: pathSegment, userId: pathSegment });

/** Groups and their members. Admins manage them; a share to a group lets its members use a secret. */
export function groupRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/groups',
    {
      schema: {
        tags,
        summary: 'List groups',
        querystring: listGroupsQuery,
        response: { 200: pageOf(groupSchema), ...errorResponses },
      },
    },
    async (request) => coffer.identity.listGroups(actorOf(request), request.query),
  );

  app.post(
    '/groups',
    {
      schema: {
        tags,
        summary: 'Create a group (admins)',
        body: createGroupBody,
        querystring: noQuery,
        response: { 201: groupSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const group = await coffer.identity.createGroup(actorOf(request), request.body);
      return reply.code(201).send(group);
    },
  );

  app.get(
    '/groups/:id',
    {
      schema: {
        tags,
        summary: 'A group with its members (admins and members)',
        params: idParams,
        querystring: noQuery,
        response: { 200: groupWithMembersSchema, ...errorResponses },
      },
    },
    async (request) => coffer.identity.getGroup(actorOf(request), request.params.id),
  );

  app.patch(
    '/groups/:id',
    {
      schema: {
        tags,
        summary: 'Change a group (admins)',
        params: idParams,
        querystring: noQuery,
        body: updateGroupBody,
        response: { 200: groupSchema, ...errorResponses },
      },
    },
    async (request) => coffer.identity.updateGroup(actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/groups/:id',
    {
      schema: {
        tags,
        summary: 'Delete a group (admins)',
        description: 'Builtin groups (`system`) cannot be deleted.',
        params: idParams,
        querystring: noQuery,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await coffer.identity.deleteGroup(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/groups/:id/members',
    {
      schema: {
        tags,
        summary: "A group's members, by username",
        params: idParams,
        querystring: pageQuery,
        response: { 200: pageOf(groupMemberSchema), ...errorResponses },
      },
    },
    async (request) => {
      const group = await coffer.identity.getGroup(actorOf(request), request.params.id);
      const members = [...group.members].sort((a, b) => (a.username < b.username ? -1 : 1));
      return pageOfList(members, (m) => [m.username], request.query);
    },
  );

  app.put(
    '/groups/:id/members/:userId',
    {
      schema: {
        tags,
        summary: 'Add a member (admins)',
        description: 'Idempotent: adding a member twice is fine.',
        params: memberParams,
        querystring: noQuery,
        body: emptyBody,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      try {
        await coffer.identity.addGroupMember(actorOf(request), request.params.id, request.params.userId);
      } catch (err) {
        // PUT is idempotent: a member already there is what was asked for.
        if (!isCofferError(err, 'already_exists')) throw err;
      }
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/groups/:id/members/:userId',
    {
      schema: {
        tags,
        summary: 'Remove a member (admins)',
        params: memberParams,
        querystring: noQuery,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await coffer.identity.removeGroupMember(actorOf(request), request.params.id, request.params.userId);
      return reply.code(204).send(null);
    },
  );
}
