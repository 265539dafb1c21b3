// Turns Coffer's OpenAPI 3.1 document into the TypeScript types of src/generated/openapi.ts.
//
// Why not openapi-typescript: it prints through the TypeScript 5 compiler API, which the
// TypeScript 7 this repository builds with no longer ships. The document uses a small subset
// of JSON Schema (what zod emits), so a small emitter does the job; it refuses any keyword it
// does not know, so a new construct on the server fails the generator loudly instead of
// being typed as `unknown` in silence.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

type JsonSchema = { [keyword: string]: unknown };

interface OpenApiParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  description?: string;
  schema?: JsonSchema;
}

interface OpenApiMedia {
  schema?: JsonSchema;
}

interface OpenApiOperation {
  summary?: string;
  description?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, OpenApiMedia> };
  responses?: Record<string, { description?: string; content?: Record<string, OpenApiMedia> }>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Keywords that only validate (or describe) and do not change the TypeScript type. */
const ignoredKeywords = new Set([
  'description',
  'title',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'pattern',
  'format',
  'default',
  'examples',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'deprecated',
  'readOnly',
  'writeOnly',
  'contentEncoding',
  'contentMediaType',
  '$schema',
  'id',
]);

const typeKeywords = new Set([
  'type',
  'enum',
  'const',
  'anyOf',
  '$ref',
  'properties',
  'required',
  'additionalProperties',
  'items',
]);

const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function key(name: string): string {
  return identifier.test(name) ? name : `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(value);
}

/** A JSDoc comment from a description, or nothing. */
function doc(text: unknown, indent: string): string {
  if (typeof text !== 'string' || text.trim() === '') return '';
  const lines = text.replace(/\*\//g, '*\\/').trim().split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

class Emitter {
  readonly #schemaNames: Set<string>;

  constructor(schemaNames: Iterable<string>) {
    this.#schemaNames = new Set(schemaNames);
  }

  /** The TypeScript type of a JSON Schema; `where` names it in error messages. */
  type(schema: JsonSchema | undefined, where: string, indent = ''): string {
    if (schema === undefined) return 'unknown';
    for (const keyword of Object.keys(schema)) {
      if (!ignoredKeywords.has(keyword) && !typeKeywords.has(keyword) && !keyword.startsWith('x-')) {
        throw new Error(
          `${where}: unsupported JSON Schema keyword "${keyword}"; teach scripts/openapi-to-typescript.ts about it`,
        );
      }
    }
    if (typeof schema.$ref === 'string') {
      const match = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref);
      if (match === null || !this.#schemaNames.has(match[1]!)) {
        throw new Error(`${where}: unresolvable $ref ${schema.$ref}`);
      }
      return `Schemas[${literal(match[1]!)}]`;
    }
    if ('const' in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ');
    if (Array.isArray(schema.anyOf)) {
      const members = schema.anyOf.map((s, i) => this.type(s as JsonSchema, `${where}.anyOf[${i}]`, indent));
      return members.map((m) => (m.includes(' | ') || m.includes('&') ? `(${m})` : m)).join(' | ');
    }
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
    if (types.length === 0) {
      if (schema.properties !== undefined || schema.additionalProperties !== undefined) types.push('object');
      else return 'unknown';
    }
    return types
      .map((t) => {
        switch (t) {
          case 'string':
            return 'string';
          case 'number':
          case 'integer':
            return 'number';
          case 'boolean':
            return 'boolean';
          case 'null':
            return 'null';
          case 'array': {
            const item = this.type(schema.items as JsonSchema | undefined, `${where}.items`, indent);
            return /^[A-Za-z[\]'.]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
          }
          case 'object':
            return this.object(schema, where, indent);
          default:
            throw new Error(`${where}: unsupported type "${String(t)}"`);
        }
      })
      .join(' | ');
  }

  object(schema: JsonSchema, where: string, indent: string): string {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    const additional = schema.additionalProperties;
    const names = Object.keys(properties);
    const extra =
      additional === undefined || additional === false
        ? undefined
        : additional === true
          ? 'unknown'
          : this.type(additional as JsonSchema, `${where}.additionalProperties`, indent);
    if (names.length === 0) return extra === undefined ? 'Record<string, never>' : `Record<string, ${extra}>`;
    const inner = `${indent}  `;
    const lines = names.map((name) => {
      const property = properties[name]!;
      const optional = required.has(name) ? '' : '?';
      return `${doc(property.description, inner)}${inner}${key(name)}${optional}: ${this.type(property, `${where}.${name}`, inner)};`;
    });
    if (extra !== undefined) lines.push(`${inner}[key: string]: ${extra} | undefined;`);
    return `{\n${lines.join('\n')}\n${indent}}`;
  }

  /** `{ a: string; b?: number }` of one parameter location, or `never` when there is none. */
  parameters(parameters: OpenApiParameter[], where: string, indent: string): string {
    if (parameters.length === 0) return 'never';
    const inner = `${indent}  `;
    const lines = parameters.map((p) => {
      const optional = p.required === true ? '' : '?';
      return `${doc(p.description, inner)}${inner}${key(p.name)}${optional}: ${this.type(p.schema, `${where}.${p.name}`, inner)};`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
}

/** The longest path prefix every route shares (`/api/v1`), cut from operation names. */
function commonPrefix(paths: string[]): string {
  const split = paths.map((p) => p.split('/').slice(1));
  const first = split[0] ?? [];
  let n = 0;
  while (n < first.length - 1 && split.every((s) => s.length > n + 1 && s[n] === first[n])) n++;
  return n === 0 ? '' : `/${first.slice(0, n).join('/')}`;
}

/**
 * The TypeScript source of the API's types: `Schemas` (the document's named schemas) and
 * `Operations`, keyed `'METHOD /path'` (without the common `/api/v1` prefix), each with its
 * `path`, `query` and `headers` parameters, request `body`, success `status` and `response`.
 * Unformatted; {@link formatTypeScript} makes it what is committed.
 */
export function openApiToTypeScript(document: OpenApiDocument): string {
  if (!document.openapi.startsWith('3.1')) throw new Error(`expected OpenAPI 3.1, got ${document.openapi}`);
  const schemas = document.components?.schemas ?? {};
  const emitter = new Emitter(Object.keys(schemas));
  const prefix = commonPrefix(Object.keys(document.paths));
  const out: string[] = [
    '// Generated from the OpenAPI document of the Coffer server by',
    '// `npm run generate -w @coffer/client`. Do not edit: test/openapi-drift.test.ts fails when this',
    '// file and the server disagree.',
    '',
    `/** The API prefix every operation path below is relative to. */`,
    `export const apiPrefix = ${literal(prefix)};`,
    '',
    '/** The schemas the document names (`components.schemas`). */',
    'export interface Schemas {',
  ];
  for (const [name, schema] of Object.entries(schemas)) {
    out.push(`${doc(schema.description, '  ')}  ${key(name)}: ${emitter.type(schema, name, '  ')};`);
  }
  out.push('}', '');
  out.push(
    '/** Every operation, keyed `METHOD /path` with `{param}` placeholders. */',
    'export interface Operations {',
  );
  for (const [fullPath, item] of Object.entries(document.paths)) {
    const path = fullPath.slice(prefix.length) || '/';
    for (const [method, operation] of Object.entries(item)) {
      if (!httpMethods.includes(method)) continue;
      const name = `${method.toUpperCase()} ${path}`;
      const parameters = operation.parameters ?? [];
      const at = (location: string) => parameters.filter((p) => p.in === location);
      const body = operation.requestBody?.content?.['application/json']?.schema;
      const successes = Object.entries(operation.responses ?? {}).filter(([status]) =>
        /^2\d\d$/.test(status),
      );
      if (successes.length === 0) throw new Error(`${name}: no success response`);
      const responseTypes = successes.map(([status, response]) => {
        const content = response.content ?? {};
        const json = content['application/json'];
        if (json !== undefined) return emitter.type(json.schema, `${name} ${status}`, '    ');
        const media = Object.keys(content);
        if (media.length === 0) return 'undefined';
        if (media.every((m) => m.startsWith('text/') || m === 'application/x-ndjson')) return 'string';
        throw new Error(`${name} ${status}: unsupported response media type ${media.join(', ')}`);
      });
      const summary = [operation.summary, operation.description].filter((s) => s !== undefined).join('\n\n');
      out.push(
        `${doc(summary, '  ')}  ${literal(name)}: {`,
        `    path: ${emitter.parameters(at('path'), `${name} path`, '    ')};`,
        `    query: ${emitter.parameters(at('query'), `${name} query`, '    ')};`,
        `    headers: ${emitter.parameters(at('header'), `${name} headers`, '    ')};`,
        `    body: ${body === undefined ? 'never' : emitter.type(body, `${name} body`, '    ')};`,
        `    status: ${successes.map(([s]) => s).join(' | ')};`,
        `    response: ${[...new Set(responseTypes)].join(' | ')};`,
        '  };',
      );
    }
  }
  out.push('}', '');
  return out.join('\n');
}

/**
 * Formats TypeScript with the repository's Biome settings, so the generated file is exactly
 * what `biome check --write` would leave (and the drift test compares like with like).
 */
export function formatTypeScript(source: string, filePath: string): string {
  const require = createRequire(import.meta.url);
  const biome = require.resolve('@biomejs/biome/bin/biome');
  const run = spawnSync(process.execPath, [biome, 'format', `--stdin-file-path=${filePath}`], {
    input: source,
    encoding: 'utf8',
    cwd: new URL('../', import.meta.url).pathname,
  });
  if (run.status !== 0) throw new Error(`biome format failed:\n${run.stderr}${run.stdout}`);
  return run.stdout;
}
