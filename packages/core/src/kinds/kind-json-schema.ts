import { FIELD_NAME_PATTERN, MAX_FIELDS } from './kind-limits.js';
import type { FieldDefinition } from './kind-types.js';

/** The JSON Schema dialect every kind's schema declares. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

const STANDARD_FORMATS: Partial<Record<string, string>> = {
  email: 'email',
  url: 'uri',
  hostname: 'hostname',
};

interface SchemaSource {
  id: string;
  displayName: string;
  description: string;
  logo: string;
  freeForm: boolean;
  rotateEveryDays?: number | undefined;
  fields: readonly FieldDefinition[];
}

function propertySchema(definition: FieldDefinition, order: number): Record<string, unknown> {
  const schema: Record<string, unknown> = {
    type: definition.type === 'enum' ? 'string' : definition.type,
    title: definition.label,
  };
  if (definition.help !== undefined) schema.description = definition.help;
  if (definition.default !== undefined) schema.default = definition.default;
  if (definition.options !== undefined) schema.enum = [...definition.options];
  if (definition.min !== undefined) schema.minimum = definition.min;
  if (definition.max !== undefined) schema.maximum = definition.max;
  if (definition.type === 'string') {
    // An empty string counts as "no value", so a required string without a default is at
    // least one character; with a default, "" is an explicit empty value.
    const nonEmpty = definition.required && definition.default === undefined;
    const minLength = Math.max(definition.minLength ?? 0, nonEmpty ? 1 : 0);
    if (minLength > 0) schema.minLength = minLength;
    if (definition.maxLength !== undefined) schema.maxLength = definition.maxLength;
    if (definition.pattern !== undefined) schema.pattern = definition.pattern;
    const format = definition.format === undefined ? undefined : STANDARD_FORMATS[definition.format];
    if (format !== undefined) schema.format = format;
    if (definition.format !== undefined) schema['x-coffer-format'] = definition.format;
  }
  if (definition.secret) {
    schema.writeOnly = true;
    schema['x-coffer-secret'] = true;
  }
  if (definition.placeholder !== undefined) schema['x-coffer-placeholder'] = definition.placeholder;
  schema['x-coffer-order'] = order;
  return schema;
}

/**
 * The JSON Schema (draft 2020-12) of a kind's values, with the hints a form renderer needs:
 * `title`/`description` per input, `default`, `enum`, ranges, `format`, `writeOnly` and
 * `x-coffer-secret` on masked inputs, `x-coffer-format` (`multiline`, `password`, ...),
 * `x-coffer-placeholder`, and field order as `x-coffer-order` and the `x-coffer-fields` list.
 *
 * @example
 * const schema = buildKindJsonSchema(smtpKind);
 * schema['x-coffer-fields']; // ['host', 'port', 'security', 'username', 'password', 'from']
 */
export function buildKindJsonSchema(kind: SchemaSource): Record<string, unknown> {
  const base = {
    $schema: JSON_SCHEMA_DIALECT,
    title: kind.displayName,
    description: kind.description,
    type: 'object',
    'x-coffer-kind': kind.id,
    'x-coffer-logo': kind.logo,
    ...(kind.rotateEveryDays === undefined ? {} : { 'x-coffer-rotate-every-days': kind.rotateEveryDays }),
  };
  if (kind.freeForm) {
    return {
      ...base,
      'x-coffer-free-form': true,
      'x-coffer-fields': [],
      properties: {},
      required: [],
      propertyNames: { pattern: FIELD_NAME_PATTERN.source },
      maxProperties: MAX_FIELDS,
      additionalProperties: {
        type: ['string', 'number', 'boolean'],
        writeOnly: true,
        'x-coffer-secret': true,
      },
    };
  }
  return {
    ...base,
    'x-coffer-fields': kind.fields.map((f) => f.name),
    properties: Object.fromEntries(kind.fields.map((f, i) => [f.name, propertySchema(f, i)])),
    required: kind.fields.filter((f) => f.required).map((f) => f.name),
    additionalProperties: false,
  };
}
