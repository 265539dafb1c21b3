import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pageOf, problemSchema } from '../schemas/common-schemas.js';
import { secretMetadataSchema, secretValuesSchema } from '../schemas/secret-schemas.js';
import { jsonSchemaOf, responseSerializerCompiler } from './response-serializer.js';

const route = (schema: z.ZodType) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' });
const serializerOf = (schema: z.ZodType) =>
  responseSerializerCompiler(route(schema)) as (d: unknown) => string;
const zodSerializerOf = (schema: z.ZodType) => zodSerializerCompiler(route(schema)) as (d: unknown) => string;

const metadata = {
  id: '3f1c2d4e-0000-4000-8000-000000000001',
  name: 'mail',
  kind: 'smtp',
  description: 'the "outgoing" mail server\n',
  labels: { env: 'prod', 'team/owner': 'ops' },
  ownerId: 'u1',
  currentVersion: 3,
  revision: 5,
  backend: 'sql',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
  createdBy: 'u1',
  updatedBy: 'u2',
  deletedAt: null,
  purgeAfter: null,
  expiresAt: '2026-12-31T00:00:00.000Z',
  rotateEveryDays: null,
  rotationDueAt: null,
  access: { level: 'manage', basis: 'owner' },
};

describe('responseSerializerCompiler', () => {
  it('writes what zod’s serializer writes, for a page of metadata, revealed values and a problem', () => {
    const page = pageOf(secretMetadataSchema);
    const pageData = {
      items: [
        metadata,
        { ...metadata, id: 'b', access: { level: null, basis: 'none' }, rotateEveryDays: 90 },
      ],
      nextCursor: 'abc',
    };
    const values = {
      secretId: 'b',
      version: 2,
      values: { host: 'smtp.example.com', port: 587, tls: true, ratio: 0.5, password: 'p\u2028"\\' },
      revealed: true,
      maskedFields: [],
    };
    const problem = {
      type: 'urn:coffer:error:validation',
      title: 'Validation',
      status: 422,
      code: 'validation',
      detail: 'bad',
      issues: [{ path: 'name', message: 'too long' }],
      details: { nested: { any: ['thing', 1, null] } },
    };
    for (const [schema, data] of [
      [page, pageData],
      [secretValuesSchema, values],
      [problemSchema, problem],
    ] as const) {
      const text = serializerOf(schema)(data);
      expect(JSON.parse(text)).toEqual(JSON.parse(zodSerializerOf(schema)(data)));
      expect(JSON.parse(text)).toEqual(data);
    }
  });

  it('never writes a property the schema does not declare, at any depth', () => {
    const planted = 'planted-secret-value-7f3a';
    const leaky = {
      ...metadata,
      sealedValue: planted,
      access: { ...metadata.access, dataKey: planted },
    };
    const page = serializerOf(pageOf(secretMetadataSchema))({
      items: [leaky, leaky],
      nextCursor: null,
      debug: planted,
    });
    expect(page).not.toContain(planted);
    expect(JSON.parse(page).items[0]).toEqual(metadata);
    const values = serializerOf(secretValuesSchema)({
      secretId: 's',
      version: 1,
      values: { token: '••••••' },
      revealed: false,
      maskedFields: ['token'],
      plaintext: { token: planted },
    });
    expect(values).not.toContain(planted);
  });

  it('picks a union’s branch as zod does, and writes only that branch’s properties', () => {
    const schema = z.object({
      source: z.union([
        z.object({ type: z.literal('file'), path: z.string() }),
        z.object({ type: z.literal('env'), variable: z.string() }),
      ]),
    });
    const data = { source: { type: 'env', variable: 'COFFER_KEY', key: 'planted' } };
    expect(serializerOf(schema)(data)).toBe('{"source":{"type":"env","variable":"COFFER_KEY"}}');
    expect(serializerOf(schema)(data)).toBe(zodSerializerOf(schema)(data));
  });

  it('keeps zod’s serializer for a schema JSON Schema cannot express', () => {
    const schema = z.object({ at: z.date() });
    expect(jsonSchemaOf(schema)).toBeUndefined();
    const at = new Date('2026-01-01T00:00:00Z');
    expect(serializerOf(schema)({ at, extra: 1 })).toBe(zodSerializerOf(schema)({ at, extra: 1 }));
  });

  it('fails on an answer missing a required property, as zod’s serializer does', () => {
    const { id: _, ...incomplete } = metadata;
    expect(() => serializerOf(secretMetadataSchema)(incomplete)).toThrow();
  });
});
