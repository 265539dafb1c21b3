import { z } from 'zod';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import { type FieldBuilder, field } from './field-builders.js';
import { createKind, type FieldEntry, fieldsIssues, type KindMeta, metaIssues } from './kind-factory.js';
import type { Kind } from './kind-types.js';

const commonKeys = {
  name: z.string(),
  label: z.string().optional(),
  help: z.string().optional(),
  placeholder: z.string().optional(),
  required: z.boolean().optional(),
};
const secretKey = { secret: z.boolean().optional() };
const lengthKeys = {
  minLength: z.int().nonnegative().optional(),
  maxLength: z.int().nonnegative().optional(),
  pattern: z.string().optional(),
};
const rangeKeys = { min: z.number().optional(), max: z.number().optional() };

const fieldSchemas = {
  string: z.strictObject({
    type: z.literal('string'),
    ...commonKeys,
    ...secretKey,
    ...lengthKeys,
    default: z.string().optional(),
    format: z.enum(['text', 'email', 'url', 'hostname']).optional(),
  }),
  text: z.strictObject({
    type: z.literal('text'),
    ...commonKeys,
    ...secretKey,
    ...lengthKeys,
    default: z.string().optional(),
  }),
  secret: z.strictObject({
    type: z.literal('secret'),
    ...commonKeys,
    ...lengthKeys,
    multiline: z.boolean().optional(),
  }),
  integer: z.strictObject({
    type: z.literal('integer'),
    ...commonKeys,
    ...secretKey,
    ...rangeKeys,
    default: z.number().optional(),
  }),
  number: z.strictObject({
    type: z.literal('number'),
    ...commonKeys,
    ...secretKey,
    ...rangeKeys,
    default: z.number().optional(),
  }),
  boolean: z.strictObject({
    type: z.literal('boolean'),
    ...commonKeys,
    ...secretKey,
    default: z.boolean().optional(),
  }),
  enum: z.strictObject({
    type: z.literal('enum'),
    ...commonKeys,
    ...secretKey,
    options: z.array(z.string()).min(1),
    default: z.string().optional(),
  }),
};

type JsonFieldType = keyof typeof fieldSchemas;
const JSON_FIELD_TYPES = Object.keys(fieldSchemas) as JsonFieldType[];

const fieldDefinitionSchema = z.discriminatedUnion('type', [
  fieldSchemas.string,
  fieldSchemas.text,
  fieldSchemas.secret,
  fieldSchemas.integer,
  fieldSchemas.number,
  fieldSchemas.boolean,
  fieldSchemas.enum,
]);

const kindDefinitionSchema = z.strictObject({
  /** Lets editors find a schema for the file; ignored. */
  $schema: z.string().optional(),
  id: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
  logo: z.string().optional(),
  freeForm: z.boolean().optional(),
  rotateEveryDays: z.number().optional(),
  fields: z.array(z.unknown()).optional(),
});

/**
 * One field of a kind in the JSON definition format. `type` is one of `string`, `text`
 * (multi-line), `secret` (masked string; `multiline` for keys), `integer`, `number`,
 * `boolean`, `enum` (with `options`); the other settings match the `field.*` builders.
 *
 * @example
 * const port: JsonFieldDefinition = { name: 'port', type: 'integer', label: 'Port', default: 3000, min: 1, max: 65535 };
 */
export type JsonFieldDefinition = z.input<typeof fieldDefinitionSchema>;

/**
 * A kind in the JSON definition format, as read from `*.json` files in a kinds directory
 * or default-exported as a plain object by a kind module.
 *
 * @example
 * const grafana: KindDefinition = {
 *   id: 'grafana',
 *   displayName: 'Grafana',
 *   description: 'A Grafana instance and a service account token.',
 *   logo: 'grafana.svg',
 *   fields: [
 *     { name: 'url', type: 'string', label: 'URL', format: 'url' },
 *     { name: 'token', type: 'secret', label: 'Service account token' },
 *   ],
 * };
 */
export type KindDefinition = Omit<z.input<typeof kindDefinitionSchema>, 'fields'> & {
  fields?: JsonFieldDefinition[];
};

/** Writes a path the way a person reads it: `fields[2].type`. */
export function formatIssuePath(segments: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(input: unknown, segments: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

const EXPECTED_WORDS: Partial<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
};

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) return 'required';
      return `expected ${EXPECTED_WORDS[issue.expected] ?? issue.expected}`;
    case 'invalid_union':
      return issue.discriminator !== undefined
        ? `must be one of: ${JSON_FIELD_TYPES.join(', ')}`
        : 'does not match any allowed form';
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin !== 'array') return `must be at least ${issue.minimum}`;
      return `needs at least ${issue.minimum} ${issue.minimum === 1 ? 'entry' : 'entries'}`;
    default:
      return issue.message;
  }
}

function zodIssues(
  error: z.ZodError,
  input: unknown,
  prefix: string,
  accepted: (path: readonly PropertyKey[]) => string,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One issue per key, at the key itself, so an editor can point at the offending line.
      for (const key of issue.keys) {
        issues.push({
          path: formatIssuePath([...issue.path, key], prefix),
          message: `unknown setting; allowed: ${accepted(issue.path)}`,
        });
      }
    } else {
      issues.push({ path: formatIssuePath(issue.path, prefix), message: describe(issue, input) });
    }
  }
  return issues;
}

function specOf(definition: JsonFieldDefinition): FieldBuilder['spec'] {
  const { type, name: _name, ...options } = definition;
  switch (type) {
    case 'string':
      return field.string(options as Parameters<typeof field.string>[0]).spec;
    case 'text':
      return field.text(options as Parameters<typeof field.text>[0]).spec;
    case 'secret':
      return field.secret(options as Parameters<typeof field.secret>[0]).spec;
    case 'integer':
      return field.integer(options as Parameters<typeof field.integer>[0]).spec;
    case 'number':
      return field.number(options as Parameters<typeof field.number>[0]).spec;
    case 'boolean':
      return field.boolean(options as Parameters<typeof field.boolean>[0]).spec;
    case 'enum': {
      const { options: choices, ...rest } = options as { options: [string, ...string[]] };
      return field.enum(choices, rest).spec;
    }
  }
}

/** Options of {@link kindFromDefinition}. */
export interface KindFromDefinitionOptions {
  /** Recorded as the kind's `source`; defaults to `app`. */
  source?: string;
}

/**
 * Reads a kind from the JSON definition format. Throws CofferError `invalid_config` whose
 * `details.issues` name every problem at once, at paths such as `id` or `fields[2].type`.
 * A `logo` must already be a data: URI here; `loadKinds` resolves relative file paths.
 *
 * @example
 * const kind = kindFromDefinition(JSON.parse(text), { source: '/etc/coffer/kinds/grafana.json' });
 */
export function kindFromDefinition(input: unknown, options: KindFromDefinitionOptions = {}): Kind {
  const issues: FieldIssue[] = [];
  const top = kindDefinitionSchema.safeParse(input);
  if (!top.success) {
    issues.push(...zodIssues(top.error, input, '', () => Object.keys(kindDefinitionSchema.shape).join(', ')));
  }
  const raw =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : {};
  // Display information is checked even when other parts are broken, so one pass reports all.
  const meta: Partial<KindMeta> = {};
  for (const key of ['id', 'displayName', 'description', 'logo'] as const) {
    if (typeof raw[key] === 'string') meta[key] = raw[key];
  }
  if (typeof raw.rotateEveryDays === 'number') meta.rotateEveryDays = raw.rotateEveryDays;
  // Missing or mistyped properties were reported by zod above.
  issues.push(...metaIssues(meta).filter((issue) => issue.path in meta));

  const entries: FieldEntry[] = [];
  const rawFields = Array.isArray(raw.fields) ? (raw.fields as unknown[]) : [];
  rawFields.forEach((rawField, i) => {
    const path = `fields[${i}]`;
    const parsed = fieldDefinitionSchema.safeParse(rawField);
    if (!parsed.success) {
      const type = valueAt(rawField, ['type']);
      const accepted = () =>
        typeof type === 'string' && type in fieldSchemas
          ? Object.keys(fieldSchemas[type as JsonFieldType].shape).join(', ')
          : '';
      issues.push(...zodIssues(parsed.error, rawField, path, accepted));
      return;
    }
    entries.push({ name: parsed.data.name, spec: specOf(parsed.data), path, namePath: `${path}.name` });
  });
  issues.push(...fieldsIssues(entries));
  const freeForm = raw.freeForm === true;
  if (freeForm && rawFields.length > 0) {
    issues.push({
      path: 'fields',
      message: 'a free-form kind declares no fields: it accepts any field name',
    });
  }
  if (!freeForm && top.success && rawFields.length === 0) {
    issues.push({ path: 'fields', message: 'a kind needs at least one field' });
  }
  if (issues.length > 0) {
    // Settings of the kind first, then each field's problems together, in field order.
    const fieldIndex = (issue: FieldIssue) => Number(/^fields\[(\d+)\]/.exec(issue.path)?.[1] ?? -1);
    issues.sort((a, b) => fieldIndex(a) - fieldIndex(b));
    const name = typeof raw.id === 'string' ? `kind "${raw.id.slice(0, 64)}"` : 'kind';
    throw new CofferError(
      'invalid_config',
      `invalid ${name} definition: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  return createKind(
    {
      id: meta.id as string,
      displayName: meta.displayName as string,
      description: meta.description ?? '',
      logo: meta.logo,
      freeForm,
      source: options.source ?? 'app',
      ...(meta.rotateEveryDays === undefined ? {} : { rotateEveryDays: meta.rotateEveryDays }),
    },
    entries,
  );
}
