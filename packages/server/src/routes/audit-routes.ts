import { Readable } from 'node:stream';
import type { AuditFilter } from '@coffer/core';
import { z } from 'zod';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { emptyBody, errorResponses, noQuery, pageOf, pageQueryShape } from '../schemas/common-schemas.js';

const tags = ['audit'];

const auditRecordSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    action: z.string(),
    outcome: z.enum(['success', 'denied', 'failure']),
    source: z.string(),
    actor: z.object({ type: z.string(), id: z.string().optional(), name: z.string().optional() }),
    address: z.string().nullable(),
    target: z
      .object({ type: z.string(), id: z.string().optional(), name: z.string().optional() })
      .nullable()
      .optional(),
    purpose: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditRecord', description: 'One record of the hash-chained audit log; never a value.' });

const filterShape = {
  actorId: z.string().max(64).optional(),
  targetId: z.string().max(64).optional(),
  action: z.string().max(64).optional().describe('e.g. `secret.reveal`'),
  outcome: z.enum(['success', 'denied', 'failure']).optional(),
  from: z.string().max(64).optional().describe('ISO-8601, inclusive'),
  to: z.string().max(64).optional().describe('ISO-8601, exclusive'),
};

function filterOf(query: { [K in keyof typeof filterShape]?: string }): AuditFilter {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => k in filterShape && v !== undefined));
}

/** The audit log: query, verify the hash chain, export as JSON lines. Admins only. */
export function auditRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/audit',
    {
      schema: {
        tags,
        summary: 'Query the audit log, newest first',
        querystring: z.strictObject({ ...pageQueryShape, ...filterShape }),
        response: { 200: pageOf(auditRecordSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      return coffer.audit.query(actorOf(request), { ...filterOf(request.query), cursor, limit });
    },
  );

  app.post(
    '/audit/verify',
    {
      schema: {
        tags,
        summary: 'Verify the hash chain',
        description: 'Reports the first changed, missing or reordered record, or a cut-off end.',
        querystring: noQuery,
        body: emptyBody,
        response: {
          200: z.object({
            ok: z.boolean(),
            checked: z.number().int(),
            firstBrokenSeq: z.number().int().optional(),
            problem: z.string().optional(),
            head: z.object({ seq: z.number().int(), hash: z.string() }).optional(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => coffer.audit.verify(actorOf(request)),
  );

  app.get(
    '/audit/export',
    {
      schema: {
        tags,
        summary: 'Export records as JSON lines, oldest first',
        description: '`application/x-ndjson`, streamed. The export itself is recorded.',
        querystring: z.strictObject(filterShape),
        response: {
          200: {
            description: 'One audit record per line',
            content: { 'application/x-ndjson': { schema: z.string() } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const lines = coffer.audit.export(actorOf(request), filterOf(request.query))[Symbol.asyncIterator]();
      // The permission check runs on the first pull: do it before the status line is sent,
      // so a refusal is a proper 403 and not a broken stream.
      const first = await lines.next();
      async function* all() {
        if (!first.done) yield first.value;
        for (let next = await lines.next(); !next.done; next = await lines.next()) yield next.value;
      }
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="coffer-audit.ndjson"');
      // A stream is sent as is; the schema above only documents the lines.
      return reply.send(Readable.from(all()) as unknown as string);
    },
  );
}
