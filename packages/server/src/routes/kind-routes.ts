import { CofferError, type Kind } from '@coffer/core';
import { z } from 'zod';
import { pageOfList } from '../http/pagination.js';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses, noQuery, pageOf, pageQuery, pathSegment } from '../schemas/common-schemas.js';

const fieldValue = z.union([z.string(), z.number(), z.boolean()]);

const kindSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    description: z.string(),
    logo: z.string().describe('A data: URI'),
    freeForm: z.boolean().describe('Accepts any field names; every field is secret'),
    source: z.enum(['builtin', 'app', 'file']).describe('Where the kind was defined'),
    connectionTest: z.boolean().describe('Whether POST /secrets/{ref}/test can check secrets of this kind'),
    rotateEveryDays: z
      .number()
      .int()
      .nullable()
      .describe('The rotation interval new secrets of this kind get by default, in days'),
    fields: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['string', 'number', 'integer', 'boolean', 'enum']),
        label: z.string(),
        help: z.string().optional(),
        placeholder: z.string().optional(),
        default: fieldValue.optional(),
        required: z.boolean(),
        secret: z.boolean(),
        format: z.string().optional(),
        options: z.array(z.string()).optional(),
        min: z.number().optional(),
        max: z.number().optional(),
        minLength: z.number().optional(),
        maxLength: z.number().optional(),
        pattern: z.string().optional(),
      }),
    ),
    jsonSchema: z
      .record(z.string(), z.unknown())
      .describe('JSON Schema (2020-12) of the values, with form hints'),
  })
  .meta({ id: 'Kind' });

/** What a kind looks like over HTTP (where it came from, but never a server file path). */
function kindView(kind: Kind, testers: RouteContext['testers']) {
  return {
    id: kind.id,
    displayName: kind.displayName,
    description: kind.description,
    logo: kind.logo,
    freeForm: kind.freeForm,
    source: sourceOf(kind.source),
    connectionTest: Object.hasOwn(testers, kind.id),
    rotateEveryDays: kind.rotateEveryDays,
    fields: kind.fields.map((f) => ({ ...f, options: f.options === undefined ? undefined : [...f.options] })),
    jsonSchema: kind.jsonSchema,
  };
}

function sourceOf(source: string): 'builtin' | 'app' | 'file' {
  return source === 'builtin' || source === 'app' ? source : 'file';
}

/** Kinds, with the JSON Schemas forms are rendered from. Any authenticated caller may read them. */
export function kindRoutes(app: CofferApp, { coffer, testers }: RouteContext): void {
  app.get(
    '/kinds',
    {
      schema: {
        tags: ['kinds'],
        summary: 'List kinds',
        querystring: pageQuery,
        response: { 200: pageOf(kindSchema), ...errorResponses },
      },
    },
    async (request) => {
      await coffer.identity.resolveActor(actorOf(request));
      const kinds = [...coffer.kinds.list()].sort((a, b) => (a.id < b.id ? -1 : 1));
      const page = pageOfList(kinds, (k) => [k.id], request.query);
      return { items: page.items.map((k) => kindView(k, testers)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/kinds/:id',
    {
      schema: {
        tags: ['kinds'],
        summary: 'One kind',
        params: z.strictObject({ id: pathSegment }),
        querystring: noQuery,
        response: { 200: kindSchema, ...errorResponses },
      },
    },
    async (request) => {
      await coffer.identity.resolveActor(actorOf(request));
      const kind = coffer.kinds.get(request.params.id);
      if (kind === undefined) throw new CofferError('not_found', `no kind "${request.params.id}"`);
      return kindView(kind, testers);
    },
  );
}
