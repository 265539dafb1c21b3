import { CofferError } from '@coffer/core';
import { z } from 'zod';
import { pageOfList, sortByKey } from '../http/pagination.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses, noQuery, pageOf, pageQuery, pathSegment } from '../schemas/common-schemas.js';

const capabilities = z
  .object({ versioning: z.boolean(), listing: z.boolean(), labels: z.boolean(), envelope: z.boolean() })
  .describe('What the backend can do; the engine branches on these');

const backendInstanceSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    capabilities,
    active: z.boolean().describe('New values go here'),
    backup: z.boolean(),
    secrets: z.number().int().describe('Secrets whose values it holds'),
  })
  .meta({ id: 'BackendInstance' });

const backendDefinitionSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    description: z.string(),
    capabilities,
    configSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of its settings'),
    source: z.string(),
  })
  .meta({ id: 'BackendDefinition' });

const migrationStatusSchema = z
  .object({
    state: z.enum(['idle', 'running', 'failed', 'done']),
    target: z.string().nullable(),
    keepSource: z.boolean(),
    total: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    ratePerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
    runningOn: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    failures: z.array(z.object({ secretId: z.string(), name: z.string(), reason: z.string() })),
  })
  .meta({ id: 'MigrationStatus' });

const emptyOrNothing = z.strictObject({}).optional();

const migrationStartBody = z
  .strictObject({
    target: z
      .string()
      .max(100)
      .optional()
      .describe('The backend to move values to; default: the configured one'),
    keepSource: z.boolean().optional().describe('Keep the values in the old backend too'),
    retryFailed: z.boolean().optional().describe('Try the secrets that failed last time again'),
  })
  .optional();

/** Backends (list, status) and migration between them (status, start). Admins only. */
export function backendRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/backends',
    {
      schema: {
        tags: ['backends'],
        summary: 'Configured backend instances and their status',
        querystring: pageQuery,
        response: { 200: pageOf(backendInstanceSchema), ...errorResponses },
      },
    },
    async (request) => {
      const instances = await coffer.backends.instances(actorOf(request));
      return pageOfList(
        sortByKey(instances, (i) => [i.name]),
        (i) => [i.name],
        request.query,
      );
    },
  );

  app.get(
    '/backends/definitions',
    {
      schema: {
        tags: ['backends'],
        summary: 'Backend types this server can configure',
        querystring: pageQuery,
        response: { 200: pageOf(backendDefinitionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { definitions } = await coffer.backends.describe(actorOf(request));
      return pageOfList(
        sortByKey(definitions, (d) => [d.id]),
        (d) => [d.id],
        request.query,
      );
    },
  );

  app.get(
    '/backends/:name',
    {
      schema: {
        tags: ['backends'],
        summary: 'One backend instance',
        params: z.strictObject({ name: pathSegment }),
        querystring: noQuery,
        response: { 200: backendInstanceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const instances = await coffer.backends.instances(actorOf(request));
      const instance = instances.find((i) => i.name === request.params.name);
      if (instance === undefined)
        throw new CofferError('not_found', `no backend named "${request.params.name}"`);
      return instance;
    },
  );

  app.get(
    '/migration',
    {
      schema: {
        tags: ['migration'],
        summary: 'Migration status',
        description:
          'Progress of moving values to the active backend (the first 100 failures; up to 1,000 in `/migration/failures`).',
        querystring: noQuery,
        response: { 200: migrationStatusSchema, ...errorResponses },
      },
    },
    async (request) => {
      const status = await coffer.migration.status(actorOf(request));
      return { ...status, failures: status.failures.slice(0, 100) };
    },
  );

  app.get(
    '/migration/failures',
    {
      schema: {
        tags: ['migration'],
        summary: 'Secrets the migration could not move, and why',
        querystring: pageQuery,
        response: {
          200: pageOf(z.object({ secretId: z.string(), name: z.string(), reason: z.string() })),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const status = await coffer.migration.status(actorOf(request));
      return pageOfList(
        sortByKey(status.failures, (f) => [f.secretId]),
        (f) => [f.secretId],
        request.query,
      );
    },
  );

  app.post(
    '/migration',
    {
      schema: {
        tags: ['migration'],
        summary: 'Start (or resume) a migration',
        description:
          'Moves every secret’s values to the target, verified by read-back, resumable. Answers at once (202).',
        querystring: noQuery,
        body: migrationStartBody,
        response: { 202: migrationStatusSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const status = await coffer.migration.start(actorOf(request), request.body ?? {});
      return reply.code(202).send({ ...status, failures: status.failures.slice(0, 100) });
    },
  );

  app.post(
    '/migration/drop-kept-sources',
    {
      schema: {
        tags: ['migration'],
        summary: 'Delete the source copies that keepSource migrations kept',
        description: 'Makes those migrations one-way. Refused (409) while a migration runs.',
        querystring: noQuery,
        body: emptyOrNothing,
        response: { 200: z.object({ dropped: z.number().int() }), ...errorResponses },
      },
    },
    async (request) => coffer.migration.dropKeptSources(actorOf(request)),
  );
}
