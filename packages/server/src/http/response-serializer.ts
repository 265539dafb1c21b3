import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;
type Serialize = (data: unknown) => string;
type ResponseSchema = z.ZodType | { properties: z.ZodType };

/**
 * Fastify's serializer compiler for the zod response schemas: each schema becomes JSON Schema
 * once (zod's `toJSONSchema`, output side) and then a fast-json-stringify function, instead of
 * zod parsing every answer before `JSON.stringify` (a fifth of a list of 100's time).
 *
 * Like zod's parse, it writes only the properties a schema declares: a property a handler's
 * object carries beyond them never reaches the response. A schema JSON Schema cannot express
 * (a transform, a date) keeps zod's serializer. Compiled on a route's first answer, so the
 * routes a process never serves cost nothing; compiled functions are shared by schema.
 */
export const responseSerializerCompiler: FastifySerializerCompiler<ResponseSchema> = (route) => {
  const schema = zodSchemaOf(route.schema);
  let serialize: Serialize | undefined;
  return (data) => {
    serialize ??= compiled(schema, () => zodSerializerCompiler(route) as Serialize);
    return serialize(data);
  };
};

const cache = new WeakMap<z.ZodType, Serialize>();

function compiled(schema: z.ZodType, fallback: () => Serialize): Serialize {
  let serialize = cache.get(schema);
  if (serialize === undefined) {
    const json = jsonSchemaOf(schema);
    serialize = json === undefined ? fallback() : (fastJson(json) as Serialize);
    cache.set(schema, serialize);
  }
  return serialize;
}

function zodSchemaOf(schema: ResponseSchema): z.ZodType {
  return schema instanceof z.ZodType ? schema : schema.properties;
}

/** The schema's output as plain JSON Schema (no ids, no refs), or undefined if it has no such form. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema | undefined {
  let json: JsonSchema;
  try {
    json = z.toJSONSchema(schema, {
      io: 'output',
      target: 'draft-07',
      unrepresentable: 'throw',
      cycles: 'throw',
      reused: 'inline',
      // An empty registry: named schemas inline instead of becoming $refs to definitions.
      metadata: z.registry<Record<string, unknown>>(),
    }) as JsonSchema;
  } catch {
    return undefined;
  }
  const { $schema: _, ...rest } = json;
  return simplified(rest);
}

const primitiveTypes = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/**
 * `anyOf` of primitive types (a nullable string or enum, a string-number-boolean field value)
 * as one `type` list: fast-json-stringify picks the branch by `typeof` instead of running a
 * validator over each one. Their value checks go: a serializer does not validate.
 */
function simplified(schema: unknown): JsonSchema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, simplified(s)]));
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map(simplified);
    } else if (key === 'additionalProperties' && value === false) {
      // Undeclared properties are never written anyway; dropping it lets a union branch match an
      // object with more properties than it declares, as zod's parse does (it strips them).
    } else if (key === 'items' || key === 'additionalProperties' || key === 'not') {
      out[key] = typeof value === 'object' ? simplified(value) : value;
    } else {
      out[key] = value;
    }
  }
  const branches = out.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(branches) && branches.every(isBarePrimitive)) {
    const { anyOf: _, ...rest } = out;
    return { ...rest, type: [...new Set(branches.flatMap((b) => [b.type].flat() as string[]))] };
  }
  return out;
}

/** A primitive type with at most checks on its value (an enum, a length), which output does not need. */
function isBarePrimitive(schema: JsonSchema): boolean {
  const types = [schema.type].flat();
  return (
    schema.type !== undefined &&
    types.every((t) => primitiveTypes.has(t as string)) &&
    Object.keys(schema).every((k) => valueChecks.has(k))
  );
}

const valueChecks = new Set([
  ...['type', 'enum', 'format', 'pattern', 'description', 'title', 'multipleOf'],
  ...['minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'],
]);
