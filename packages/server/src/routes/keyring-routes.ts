import { z } from 'zod';
import { actorOf, type CofferApp, type RouteContext } from '../plugin/route-context.js';
import { emptyBody, errorResponses, noQuery } from '../schemas/common-schemas.js';

const tags = ['keyring'];

const keyInfoSchema = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    current: z.boolean(),
    /** For a KMS key: the KMS's key id (e.g. its ARN) and key version (e.g. AWS's key material id). */
    external: z.object({ keyId: z.string(), keyVersion: z.string().optional() }).optional(),
  })
  .meta({ id: 'KeyInfo' });

const keyringStatusSchema = z
  .object({
    source: z.union([
      z.object({ type: z.literal('file'), path: z.string() }),
      z.object({ type: z.literal('env'), variable: z.string() }),
      z.object({ type: z.literal('kms'), provider: z.string(), key: z.string() }),
    ]),
    currentKeyId: z.string(),
    keys: z.array(keyInfoSchema),
    canRotate: z.boolean(),
    missingKeyIds: z.array(z.string()),
    rewrap: z.object({
      state: z.enum(['idle', 'running', 'failed']),
      rewrapped: z.number().int(),
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      error: z.string().nullable(),
      ratePerSecond: z.number().nullable(),
      runningOn: z.string().nullable().optional(),
    }),
  })
  .meta({ id: 'KeyringStatus', description: 'Key ids and dates; never key material.' });

/** The keyring: status and rotation (admins). */
export function keyringRoutes(app: CofferApp, { coffer }: RouteContext): void {
  app.get(
    '/keyring',
    {
      schema: {
        tags,
        summary: 'Keyring status',
        querystring: noQuery,
        response: { 200: keyringStatusSchema, ...errorResponses },
      },
    },
    async (request) => coffer.keyring.status(actorOf(request)),
  );

  app.post(
    '/keyring/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate the key-encryption key',
        description:
          'Adds a key, makes it current, and re-wraps stored data keys in the background (see `rewrap` in the status). Env-sourced keys cannot rotate (422 `unsupported`).',
        querystring: noQuery,
        body: emptyBody,
        response: { 200: keyInfoSchema, ...errorResponses },
      },
    },
    async (request) => coffer.keyring.rotate(actorOf(request)),
  );
}
