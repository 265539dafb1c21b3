import type { FieldValue } from '../api/types';

/** How one field of a kind is rendered, read from the kind's JSON Schema and its `x-coffer-*` hints. */
export interface FieldSpec {
  name: string;
  label: string;
  help: string | undefined;
  type: 'string' | 'integer' | 'number' | 'boolean';
  input: 'text' | 'multiline' | 'password' | 'email' | 'url' | 'hostname' | 'number' | 'checkbox' | 'select';
  options: string[] | undefined;
  required: boolean;
  secret: boolean;
  default: FieldValue | undefined;
  placeholder: string | undefined;
  min: number | undefined;
  max: number | undefined;
  maxLength: number | undefined;
}

/** The form of a kind: its fields in order, or free-form key/value rows. */
export interface FormSpec {
  fields: FieldSpec[];
  freeForm: boolean;
  maxFields: number | undefined;
}

/** What a form holds while it is edited: text for most inputs, booleans for checkboxes. */
export type FormState = Record<string, string | boolean>;

type Schema = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function inputOf(property: Schema, type: FieldSpec['type'], secret: boolean): FieldSpec['input'] {
  if (Array.isArray(property.enum)) return 'select';
  if (type === 'boolean') return 'checkbox';
  if (type === 'integer' || type === 'number') return 'number';
  const hint = str(property['x-coffer-format']) ?? str(property.format);
  if (hint === 'multiline') return 'multiline';
  if (secret || hint === 'password') return 'password';
  if (hint === 'email' || hint === 'hostname') return hint;
  if (hint === 'url' || hint === 'uri') return 'url';
  return 'text';
}

function typeOf(property: Schema): FieldSpec['type'] {
  const t = Array.isArray(property.type) ? property.type[0] : property.type;
  return t === 'integer' || t === 'number' || t === 'boolean' ? t : 'string';
}

/**
 * Reads the form of a kind from its JSON Schema: field order from `x-coffer-fields` (else
 * `x-coffer-order`), labels from `title`, help from `description`, secret fields from
 * `x-coffer-secret`/`writeOnly`, input types from `x-coffer-format` and `format`.
 *
 * @example
 * const { fields } = formOfSchema(kind.jsonSchema);
 * fields.find((f) => f.name === 'password')?.input; // 'password'
 */
export function formOfSchema(schema: Schema): FormSpec {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const listed = Array.isArray(schema['x-coffer-fields']) ? (schema['x-coffer-fields'] as string[]) : [];
  const order = [
    ...listed.filter((name) => name in properties),
    ...Object.keys(properties)
      .filter((name) => !listed.includes(name))
      .sort(
        (a, b) => (num(properties[a]!['x-coffer-order']) ?? 0) - (num(properties[b]!['x-coffer-order']) ?? 0),
      ),
  ];
  const fields = order.map((name): FieldSpec => {
    const property = properties[name]!;
    const type = typeOf(property);
    const secret = property['x-coffer-secret'] === true || property.writeOnly === true;
    const fallback = property.default;
    return {
      name,
      label: str(property.title) ?? name,
      help: str(property.description),
      type,
      input: inputOf(property, type, secret),
      options: Array.isArray(property.enum) ? property.enum.map(String) : undefined,
      required: required.has(name),
      secret,
      default:
        typeof fallback === 'string' || typeof fallback === 'number' || typeof fallback === 'boolean'
          ? fallback
          : undefined,
      placeholder: str(property['x-coffer-placeholder']),
      min: num(property.minimum),
      max: num(property.maximum),
      maxLength: num(property.maxLength),
    };
  });
  return {
    fields,
    freeForm: schema['x-coffer-free-form'] === true,
    maxFields: num(schema.maxProperties),
  };
}

/** A new form: defaults prefilled, everything else empty. */
export function initialFormState(fields: readonly FieldSpec[]): FormState {
  const state: FormState = {};
  for (const field of fields) {
    if (field.input === 'checkbox') state[field.name] = field.default === true;
    else state[field.name] = field.default === undefined ? '' : String(field.default);
  }
  return state;
}

/** A form for existing values (secret fields hold the mask until revealed). */
export function formStateOf(fields: readonly FieldSpec[], values: Record<string, FieldValue>): FormState {
  const state: FormState = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.input === 'checkbox') state[field.name] = value === true;
    else state[field.name] = value === undefined ? '' : String(value);
  }
  return state;
}

/**
 * The values to send: text as typed (the server turns `"587"` into 587 and names every field it
 * refuses), checkboxes as booleans, empty fields left out.
 */
export function valuesOfForm(fields: readonly FieldSpec[], state: FormState): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const field of fields) {
    const value = state[field.name];
    if (typeof value === 'boolean') values[field.name] = value;
    else if (value !== undefined && value !== '') values[field.name] = value;
  }
  return values;
}

/**
 * An update of existing values: the fields that changed (a secret field left holding the mask is
 * not sent, so the stored value stays), and the optional fields that were emptied.
 */
export function changesOfForm(
  fields: readonly FieldSpec[],
  before: FormState,
  after: FormState,
): { values: Record<string, FieldValue>; removeKeys: string[] } {
  const values: Record<string, FieldValue> = {};
  const removeKeys: string[] = [];
  for (const field of fields) {
    const was = before[field.name];
    const now = after[field.name];
    if (now === was) continue;
    if (now === '' || now === undefined) {
      if (was !== '' && was !== undefined) removeKeys.push(field.name);
    } else values[field.name] = now;
  }
  return { values, removeKeys };
}
