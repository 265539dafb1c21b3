import { maxBatchCreate } from '@coffer/core';
import { z } from 'zod';
import { runConnectionTest } from '../connection-tests/connection-test-registry.js';
import {
  conditionOf,
  expectedVersionOf,
  setSecretTag,
  setVersionTag,
  versionUnchanged,
} from '../http/etag.js';
import { pageOfList } from '../http/pagination.js';
import { problemOf } from '../http/problem.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import {
  emptyBody,
  errorResponses,
  ifMatchHeaders,
  noContent,
  noQuery,
  pageOf,
  pageQuery,
} from '../schemas/common-schemas.js';
import {
  batchCreateBody,
  batchCreateResultSchema,
  connectionTestResultSchema,
  createSecretBody,
  deleteAllBody,
  listSecretsQuery,
  readValuesQuery,
  refParams,
  renameBody,
  restoreBody,
  rollbackBody,
  secretMetadataSchema,
  secretValuesSchema,
  secretVersionSchema,
  updateMetadataBody,
  updateValuesBody,
} from '../schemas/secret-schemas.js';

const tags = ['secrets'];

/**
 * Secrets: CRUD, values (masked unless revealed), versions and rollback, rename, soft delete,
 * restore and purge, delete-all, and connection tests. Every handler parses, calls one core
 * function, and serializes; access control is core's.
 */
export function secretRoutes(
  app: CofferApp,
  { coffer, testers, connectionTestTimeoutMs }: RouteContext,
): void {
  app.get(
    '/secrets',
    {
      schema: {
        tags,
        summary: 'List secrets',
        description:
          'Secrets the caller may read (admins: all), filtered and in pages. Secrets held only at `use` (a group share) are never listed: usable, not visible.',
        querystring: listSecretsQuery,
        response: { 200: pageOf(secretMetadataSchema), ...errorResponses },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { cursor, limit, kind, label, namePrefix, state, view } = request.query;
      return coffer.secrets.list(actor, {
        kind,
        labels: label === undefined ? undefined : Array.isArray(label) ? label : [label],
        namePrefix,
        state,
        view,
        cursor,
        limit,
      });
    },
  );

  app.post(
    '/secrets',
    {
      schema: {
        tags,
        summary: 'Create a secret',
        description: 'Creates version 1. The response carries the ETag `"v1-r1"` and a Location.',
        body: createSecretBody,
        querystring: noQuery,
        response: { 201: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await coffer.secrets.create(actorOf(request), request.body);
      setSecretTag(reply, created);
      reply.header('location', `${routeBase(request.url)}/${created.id}`);
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/secrets/batch',
    {
      schema: {
        tags,
        summary: 'Create several secrets',
        description: `Creates up to ${maxBatchCreate} secrets, each exactly as \`POST /secrets\` would (its checks, audit record and event), and answers 200 with one result per secret in request order: the new secret, or the problem a single create would have answered. One failing does not stop the others. \`coffer import\` sends its secrets this way; the writes share commits, so it is much faster than one request per secret.`,
        body: batchCreateBody,
        querystring: noQuery,
        response: { 200: batchCreateResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const outcomes = await coffer.secrets.createMany(actorOf(request), request.body.secrets);
      return {
        results: outcomes.map((outcome) => {
          if (outcome.created) return { name: outcome.name, created: true, secret: outcome.secret };
          const { problem, log } = problemOf(outcome.error, { conditional: false });
          if (log) request.log.error({ err: outcome.error }, 'creating a secret of a batch failed');
          return { name: outcome.name, created: false, error: problem };
        }),
      };
    },
  );

  app.post(
    '/secrets/delete-all',
    {
      schema: {
        tags,
        summary: 'Delete every secret the caller manages',
        description:
          'Moves them to the trash (restorable until purged). Needs `{"confirm": "delete-all"}`; without it the answer is 428.',
        body: deleteAllBody,
        querystring: noQuery,
        response: { 200: z.object({ deleted: z.number().int() }), ...errorResponses },
      },
    },
    async (request) => coffer.secrets.deleteAll(actorOf(request), { confirm: request.body.confirm }),
  );

  app.get(
    '/secrets/:ref',
    {
      schema: {
        tags,
        summary: "A secret's metadata",
        description:
          '`ref` is the id or the name. The ETag is `"v<currentVersion>-r<revision>"`; deleted secrets are found too.',
        params: refParams,
        querystring: noQuery,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const secret = await coffer.secrets.get(actorOf(request), request.params.ref);
      setSecretTag(reply, secret);
      return secret;
    },
  );

  app.patch(
    '/secrets/:ref',
    {
      schema: {
        tags,
        summary: 'Change description or labels',
        description:
          'Values and versions are untouched. With `If-Match: "v<n>-r<m>"` (the ETag of a read), 412 if the secret changed since; `"v<n>"` checks the values version only.',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        body: updateMetadataBody,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const updated = await coffer.secrets.updateMetadata(actorOf(request), request.params.ref, {
        ...request.body,
        ...conditionOf(request),
      });
      setSecretTag(reply, updated);
      return updated;
    },
  );

  app.delete(
    '/secrets/:ref',
    {
      schema: {
        tags,
        summary: 'Delete a secret (to the trash)',
        description:
          'Restorable until its recovery window ends; its name is free at once. `If-Match` makes it conditional.',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const deleted = await coffer.secrets.delete(actorOf(request), request.params.ref, conditionOf(request));
      setSecretTag(reply, deleted);
      return deleted;
    },
  );

  app.post(
    '/secrets/:ref/restore',
    {
      schema: {
        tags,
        summary: 'Restore a deleted secret',
        description: '`If-Match` makes it conditional.',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        body: restoreBody,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const restored = await coffer.secrets.restore(actorOf(request), request.params.ref, {
        ...(request.body?.newName === undefined ? {} : { newName: request.body.newName }),
        ...conditionOf(request),
      });
      setSecretTag(reply, restored);
      return restored;
    },
  );

  app.post(
    '/secrets/:ref/purge',
    {
      schema: {
        tags,
        summary: 'Delete a secret and all its versions for good',
        description: '`If-Match` makes it conditional.',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        body: emptyBody,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await coffer.secrets.purge(actorOf(request), request.params.ref, conditionOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/secrets/:ref/rename',
    {
      schema: {
        tags,
        summary: 'Rename a secret',
        description:
          'Its id, values and versions stay. `If-Match` makes it conditional (`"v<n>-r<m>"`: nothing changed since the read).',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        body: renameBody,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const renamed = await coffer.secrets.rename(
        actorOf(request),
        request.params.ref,
        request.body.newName,
        conditionOf(request),
      );
      setSecretTag(reply, renamed);
      return renamed;
    },
  );

  app.get(
    '/secrets/:ref/values',
    {
      schema: {
        tags,
        summary: 'Read values',
        description:
          'Secret fields are masked unless `reveal=true` (needs `read`; every reveal is audited). Without `version`, the current one; its ETag is `"v<version>"`, and `If-None-Match` with that tag answers `304` without a body while the version is current (after the same access check, and audited like any reveal).',
        params: refParams,
        querystring: readValuesQuery,
        response: { 200: secretValuesSchema, 304: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { reveal, version } = request.query;
      const view = await coffer.secrets.readValues(actorOf(request), request.params.ref, {
        reveal: reveal === true,
        ...(version === undefined ? {} : { version }),
      });
      // Revealed values must not linger in caches (the plugin sets no-store on every answer too).
      reply.header('cache-control', 'no-store');
      if (version === undefined) {
        setVersionTag(reply, view.version);
        // A version's values never change, so its tag still naming the current one means the
        // caller holds these values already.
        if (versionUnchanged(request, view.version)) return reply.code(304).send(null);
      }
      return view;
    },
  );

  app.patch(
    '/secrets/:ref/values',
    {
      schema: {
        tags,
        summary: 'Change values (a new version)',
        description:
          'Fields in `values` are set (a secret field sent as the mask keeps its value), `removeKeys` are removed, the rest stay. `If-Match: "v<n>"` makes it check-and-set: 412 unless n is current.',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        body: updateValuesBody,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const updated = await coffer.secrets.update(actorOf(request), request.params.ref, {
        ...request.body,
        expectedVersion: expectedVersionOf(request),
      });
      setVersionTag(reply, updated.currentVersion);
      return updated;
    },
  );

  app.get(
    '/secrets/:ref/versions',
    {
      schema: {
        tags,
        summary: 'Kept versions, newest first',
        params: refParams,
        querystring: pageQuery,
        response: { 200: pageOf(secretVersionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const versions = await coffer.secrets.versions(actorOf(request), request.params.ref);
      return pageOfList(versions, (v) => [v.version], request.query, 'desc');
    },
  );

  app.post(
    '/secrets/:ref/rollback',
    {
      schema: {
        tags,
        summary: 'Roll back to an earlier version',
        description:
          'Makes a new version holding the values of `toVersion`. `If-Match` makes it conditional.',
        params: refParams,
        headers: ifMatchHeaders,
        querystring: noQuery,
        body: rollbackBody,
        response: { 200: secretMetadataSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const expectedVersion = expectedVersionOf(request);
      const updated = await coffer.secrets.rollback(
        actorOf(request),
        request.params.ref,
        request.body.toVersion,
        expectedVersion === undefined ? {} : { expectedVersion },
      );
      setVersionTag(reply, updated.currentVersion);
      return updated;
    },
  );

  app.post(
    '/secrets/:ref/test',
    {
      schema: {
        tags,
        summary: 'Test that the credentials work',
        description:
          "Uses the secret on the caller's behalf (`use` suffices: a group member can test what they cannot see): SMTP login, database `SELECT 1`, or an HTTP request. 200 with `ok: false` and a reason (never a secret value) when they do not work; 422 `unsupported` for kinds without a test.",
        params: refParams,
        querystring: noQuery,
        body: emptyBody,
        response: { 200: connectionTestResultSchema, ...errorResponses },
      },
    },
    async (request) =>
      runConnectionTest(coffer, actorOf(request), request.params.ref, {
        testers,
        timeoutMs: connectionTestTimeoutMs,
      }),
  );
}

/** The collection URL a created item lives under (the request URL without its query). */
function routeBase(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
