import type { ServerResponse } from 'node:http';
import { isCofferError, type SecretEvent } from '@coffer/core';
import { z } from 'zod';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { errorResponses } from '../schemas/common-schemas.js';

const tags = ['events'];

/** A comment line this often keeps proxies from closing a quiet stream, and re-checks the caller. */
const heartbeatMs = 15_000;

const eventsQuery = z.strictObject({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Resume after this event id (a `Last-Event-ID` header takes precedence).'),
  secretId: z
    .union([z.uuid(), z.array(z.uuid()).max(100)])
    .optional()
    .describe('Only events of these secrets (repeat the parameter for several).'),
});

/**
 * `GET /events`: Server-Sent Events of the changes the caller may see, from every server on
 * the database, in order. Each event's `id` is its position; a client that reconnects with
 * `Last-Event-ID` gets what it missed.
 */
export function eventRoutes(app: CofferApp, { coffer }: RouteContext): void {
  // Streams open on this server, ended when it shuts down so its close never waits on them.
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get(
    '/events',
    {
      schema: {
        tags,
        summary: 'Stream change events (Server-Sent Events)',
        description: [
          '`text/event-stream`. One event per change of a secret the caller may see, from every server',
          'sharing the database, in order; never a value. With `read` or more, `data` holds `access: "read"`,',
          '`type`, `secretId`, `name`, `kind`, `version`, `actorId`, `ownerId` and `at`; with only `use`,',
          '`access: "use"` with `type`, `secretId`, `version` and `at`. The SSE `event` field is the type',
          '(`secret.updated`, ...) and `id` its position: reconnect with `Last-Event-ID` (or `?after=`) to get',
          'what was missed. Also sent: `ready` (with the current `cursor`) first, `reset` when the position',
          'asked for is older than what the server keeps (re-read what you track), and `error` (with a',
          '`code`) before the server ends a stream whose credentials stopped working.',
        ].join(' '),
        querystring: eventsQuery,
        response: {
          200: {
            description: 'The event stream',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      // Refuse a bad caller with a proper status before the stream starts.
      await coffer.identity.resolveActor(actor);
      const header = request.headers['last-event-id'];
      const fromHeader = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
      const after = fromHeader ?? request.query.after;
      const only =
        request.query.secretId === undefined ? undefined : new Set([request.query.secretId].flat());

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      open.add(res);
      const write = (text: string) => {
        if (!res.writableEnded && !res.destroyed) res.write(text);
      };
      const frame = (event: string, data: unknown, id?: number) =>
        write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        off();
        clearInterval(heartbeat);
        open.delete(res);
        res.end();
      };
      const fail = (err: unknown) => {
        const code = isCofferError(err) ? err.code : 'internal';
        frame('error', { code });
        end();
      };

      // Decisions are made one event at a time, in order, so the stream keeps the feed's order.
      let queue: Promise<void> = Promise.resolve();
      const off = coffer.events.subscribe(
        (event: SecretEvent) => {
          if (only !== undefined && !only.has(event.secretId)) return;
          queue = queue.then(async () => {
            if (ended) return;
            try {
              const visible = await coffer.events.visible(actor, event);
              if (visible !== null)
                frame(event.type, { access: visible.access, ...visible.event }, event.seq);
            } catch (err) {
              fail(err);
            }
          });
        },
        {
          ...(after === undefined ? {} : { after }),
          onGap: (gap) => {
            queue = queue.then(() => frame('reset', gap));
          },
        },
      );
      frame('ready', { cursor: after ?? coffer.events.cursor() });
      const heartbeat = setInterval(() => {
        write(': keep-alive\n\n');
        coffer.identity.resolveActor(actor).catch(fail);
      }, heartbeatMs);
      heartbeat.unref();
      request.raw.on('close', end);
    },
  );
}
