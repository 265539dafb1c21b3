import { z } from 'zod';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import type { FieldSpec } from './field-builders.js';
import { buildKindJsonSchema } from './kind-json-schema.js';
import {
  exceedsValueBytes,
  FIELD_NAME_PATTERN,
  KIND_ID_PATTERN,
  MAX_FIELDS,
  MAX_VALUE_BYTES,
  RESERVED_FIELD_NAMES,
} from './kind-limits.js';
import { defaultKindLogo, logoProblem } from './kind-logo.js';
import type {
  FieldDefinition,
  FieldFormat,
  FieldType,
  FieldValue,
  Kind,
  SecretValues,
} from './kind-types.js';

// Marks objects made here, so the loader recognizes a kind even when a module built it
// with another copy of this package.
const KIND_BRAND = Symbol.for('coffer.kind');

const FIELD_TYPES: readonly FieldType[] = ['string', 'number', 'integer', 'boolean', 'enum'];
const STRING_FORMATS: readonly FieldFormat[] = ['text', 'multiline', 'email', 'url', 'hostname', 'password'];
const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const TOO_LONG = `too long: at most ${MAX_VALUE_BYTES / 1024} KiB`;

/** Display information of a kind, as given to {@link createKind}. */
export interface KindMeta {
  id: string;
  displayName: string;
  description: string;
  logo?: string | undefined;
  freeForm: boolean;
  source: string;
  /** The default rotation interval of the kind's secrets, in days. */
  rotateEveryDays?: number | undefined;
}

/** A field waiting to be checked, with the paths its definition problems are reported at. */
export interface FieldEntry {
  name: string;
  spec: FieldSpec;
  /** Where problems with the field's settings are reported, e.g. `fields.port` or `fields[1]`. */
  path: string;
  /** Where a problem with the name itself is reported. */
  namePath: string;
}

type CheckResult = { ok: true; value: FieldValue } | { ok: false; messages: string[] };

interface CompiledField {
  readonly definition: FieldDefinition;
  readonly zod: z.ZodType;
  /** Checks a submitted value; `exact` turns coercion off (a default must already have the right type). */
  check(raw: unknown, exact?: boolean): CheckResult;
}

/** Why a kind id is not acceptable, or undefined. */
export function kindIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'expected a string';
  if (!KIND_ID_PATTERN.test(id)) {
    return 'must be 2 to 64 characters of lowercase letters, digits and "-", starting with a letter';
  }
  return undefined;
}

/** Why a field name is not acceptable, or undefined. */
export function fieldNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'expected a string';
  if (!FIELD_NAME_PATTERN.test(name)) {
    return 'must be 1 to 128 characters of letters, digits, "_", "." and "-", starting with a letter or "_"';
  }
  if (RESERVED_FIELD_NAMES.has(name)) return 'is a reserved name';
  return undefined;
}

/** A field name written for humans: `fromAddress` → "From address", `api_token` → "Api token". */
export function labelFromName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
  const text = words.join(' ');
  return text === '' ? name : text.charAt(0).toUpperCase() + text.slice(1);
}

/** A key as it may appear in an issue path: long junk keys are cut so messages stay readable. */
export function displayKey(key: string): string {
  return key.length > 128 ? `${key.slice(0, 128)}…` : key;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeMessage(definition: FieldDefinition): string {
  switch (definition.type) {
    case 'string':
      return 'expected a string';
    case 'integer':
      return 'expected an integer';
    case 'number':
      return 'expected a number';
    case 'boolean':
      return 'expected true or false';
    case 'enum':
      return `must be one of: ${(definition.options ?? []).join(', ')}`;
  }
}

// Every message is written here from the rule that failed; zod's own text is never passed
// on, so nothing the user typed can leak into an error.
function describeIssue(issue: z.core.$ZodIssue, definition: FieldDefinition): string {
  switch (issue.code) {
    case 'invalid_type':
      return typeMessage(definition);
    case 'too_small':
      if (issue.origin === 'string') return `too short: at least ${issue.minimum} characters`;
      return issue.inclusive === false
        ? `must be greater than ${issue.minimum}`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `too long: at most ${issue.maximum} characters`;
      return issue.inclusive === false
        ? `must be less than ${issue.maximum}`
        : `must be at most ${issue.maximum}`;
    case 'invalid_format':
      switch (issue.format) {
        case 'email':
          return 'must be an email address';
        case 'url':
          return 'must be an http or https URL';
        case 'hostname':
          return 'must be a hostname';
        case 'regex':
          return `must match the pattern ${definition.pattern ?? ''}`;
        default:
          return `must be a valid ${issue.format}`;
      }
    case 'invalid_value':
      return typeMessage(definition);
    default:
      return 'is not valid';
  }
}

function stringSchema(definition: FieldDefinition): z.ZodType {
  let schema =
    definition.format === 'email'
      ? z.email()
      : definition.format === 'url'
        ? z.url({ protocol: /^https?$/ })
        : definition.format === 'hostname'
          ? z.hostname()
          : z.string();
  if (definition.minLength !== undefined) schema = schema.min(definition.minLength);
  if (definition.maxLength !== undefined) schema = schema.max(definition.maxLength);
  if (definition.pattern !== undefined) schema = schema.regex(new RegExp(definition.pattern, 'u'));
  return schema;
}

function numberSchema(definition: FieldDefinition): z.ZodType {
  let schema = definition.type === 'integer' ? z.int() : z.number();
  if (definition.min !== undefined) schema = schema.min(definition.min);
  if (definition.max !== undefined) schema = schema.max(definition.max);
  return schema;
}

function fieldSchema(definition: FieldDefinition): z.ZodType {
  switch (definition.type) {
    case 'string':
      return stringSchema(definition);
    case 'integer':
    case 'number':
      return numberSchema(definition);
    case 'boolean':
      return z.boolean();
    case 'enum':
      return z.enum(definition.options as readonly [string, ...string[]]);
  }
}

// Forms and the CLI send every value as a string; accept the well-formed ones for numeric
// and boolean fields and leave everything else to fail with a type error.
function coerce(definition: FieldDefinition, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if ((definition.type === 'integer' || definition.type === 'number') && NUMERIC.test(raw))
    return Number(raw);
  if (definition.type === 'boolean') {
    const word = raw.trim().toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
  }
  return raw;
}

function compileField(definition: FieldDefinition): CompiledField {
  const zod = fieldSchema(definition);
  return {
    definition,
    zod,
    check(raw, exact = false) {
      if (typeof raw === 'string' && exceedsValueBytes(raw)) return { ok: false, messages: [TOO_LONG] };
      const result = zod.safeParse(exact ? raw : coerce(definition, raw));
      if (result.success) return { ok: true, value: result.data as FieldValue };
      const messages = [...new Set(result.error.issues.map((issue) => describeIssue(issue, definition)))];
      return { ok: false, messages };
    },
  };
}

function isNotGiven(definition: FieldDefinition, raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  // A form's untouched input arrives as "": no value. But a user who clears a prefilled
  // string (an api-token's scheme) means "empty", so a string with a default keeps it.
  return raw === '' && !(definition.type === 'string' && definition.default !== undefined);
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function optionalText(
  issues: FieldIssue[],
  path: string,
  value: unknown,
  max: number,
  nonEmpty = false,
): void {
  if (value === undefined) return;
  if (typeof value !== 'string') issues.push({ path, message: 'expected a string' });
  else if (nonEmpty && value.trim() === '') issues.push({ path, message: 'must not be empty' });
  else if (value.length > max) issues.push({ path, message: `too long: at most ${max} characters` });
}

/** Resolves a checked entry into the definition the kind publishes. */
function toDefinition(entry: FieldEntry): FieldDefinition {
  const { spec, name } = entry;
  const definition: FieldDefinition = {
    name,
    type: spec.type,
    label: spec.label ?? labelFromName(name),
    required: spec.required ?? true,
    secret: spec.secret,
  };
  const optional = [
    'help',
    'placeholder',
    'default',
    'format',
    'options',
    'min',
    'max',
    'minLength',
    'maxLength',
    'pattern',
  ] as const;
  const target = definition as unknown as Record<string, unknown>;
  for (const key of optional) {
    if (spec[key] !== undefined)
      target[key] = key === 'options' ? Object.freeze([...(spec.options ?? [])]) : spec[key];
  }
  return Object.freeze(definition);
}

function specIssues(entry: FieldEntry): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const { spec, path } = entry;
  const at = (key: string) => `${path}.${key}`;
  const nameProblem = fieldNameProblem(entry.name);
  if (nameProblem !== undefined)
    issues.push({ path: entry.namePath, message: `invalid field name: ${nameProblem}` });
  if (!isRecord(spec) || !FIELD_TYPES.includes(spec.type)) {
    issues.push({ path: at('type'), message: `must be one of: ${FIELD_TYPES.join(', ')}` });
    return issues;
  }
  optionalText(issues, at('label'), spec.label, 200, true);
  optionalText(issues, at('help'), spec.help, 1000);
  optionalText(issues, at('placeholder'), spec.placeholder, 200);
  for (const key of ['required', 'secret'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'boolean')
      issues.push({ path: at(key), message: 'expected true or false' });
  }
  const isString = spec.type === 'string';
  const isNumeric = spec.type === 'integer' || spec.type === 'number';
  if (spec.format !== undefined && (!isString || !STRING_FORMATS.includes(spec.format))) {
    issues.push({
      path: at('format'),
      message: isString ? `must be one of: ${STRING_FORMATS.join(', ')}` : 'only string fields have a format',
    });
  }
  if (spec.type === 'enum') {
    const options: unknown = spec.options;
    if (!Array.isArray(options) || options.length === 0) {
      issues.push({ path: at('options'), message: 'an enum field needs a non-empty list of options' });
    } else if (options.length > MAX_FIELDS) {
      issues.push({ path: at('options'), message: `too many options: at most ${MAX_FIELDS}` });
    } else {
      options.forEach((option: unknown, i) => {
        if (typeof option !== 'string' || option === '' || option.length > 200) {
          issues.push({
            path: `${at('options')}[${i}]`,
            message: 'expected a non-empty string of at most 200 characters',
          });
        } else if (options.indexOf(option) !== i) {
          issues.push({ path: `${at('options')}[${i}]`, message: `duplicate option "${option}"` });
        }
      });
    }
  } else if (spec.options !== undefined) {
    issues.push({ path: at('options'), message: 'only enum fields have options' });
  }
  for (const key of ['min', 'max'] as const) {
    if (spec[key] === undefined) continue;
    if (!isNumeric)
      issues.push({ path: at(key), message: 'only integer and number fields have a minimum or maximum' });
    else if (typeof spec[key] !== 'number' || !Number.isFinite(spec[key])) {
      issues.push({ path: at(key), message: 'expected a finite number' });
    }
  }
  if (typeof spec.min === 'number' && typeof spec.max === 'number' && spec.min > spec.max) {
    issues.push({ path: at('max'), message: 'must not be less than min' });
  }
  for (const key of ['minLength', 'maxLength', 'pattern'] as const) {
    if (spec[key] !== undefined && !isString) {
      issues.push({ path: at(key), message: 'only string fields have a length or pattern' });
    }
  }
  if (isString) {
    for (const key of ['minLength', 'maxLength'] as const) {
      if (spec[key] !== undefined && !isNonNegativeInteger(spec[key])) {
        issues.push({ path: at(key), message: 'expected a whole number of 0 or more' });
      }
    }
    if (
      isNonNegativeInteger(spec.minLength) &&
      isNonNegativeInteger(spec.maxLength) &&
      spec.minLength! > spec.maxLength!
    ) {
      issues.push({ path: at('maxLength'), message: 'must not be less than minLength' });
    }
    if (spec.pattern !== undefined) {
      if (typeof spec.pattern !== 'string')
        issues.push({ path: at('pattern'), message: 'expected a string' });
      else {
        try {
          new RegExp(spec.pattern, 'u');
        } catch {
          issues.push({ path: at('pattern'), message: 'is not a valid regular expression' });
        }
      }
    }
  }
  if (spec.default !== undefined) {
    if (spec.secret === true) {
      issues.push({
        path: at('default'),
        message: 'a secret field cannot have a default: it would be published in the JSON Schema',
      });
    }
    if (spec.required === false) {
      issues.push({
        path: at('required'),
        message: 'a field with a default is always present; drop required: false',
      });
    }
  }
  return issues;
}

/**
 * Every problem with a list of fields: each field's settings, its default, and duplicate
 * names. Shared by {@link createKind} and the JSON definition reader so both report the
 * same problems at the same paths.
 */
export function fieldsIssues(entries: readonly FieldEntry[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const firstPath = new Map<string, string>();
  for (const entry of entries) {
    const own = specIssues(entry);
    issues.push(...own);
    const earlier = firstPath.get(entry.name);
    if (earlier !== undefined) {
      issues.push({
        path: entry.namePath,
        message: `duplicate field name "${entry.name}" (also ${earlier})`,
      });
    } else {
      firstPath.set(entry.name, entry.namePath);
    }
    // A default is only checked once the settings it is checked against are sound.
    if (own.length === 0 && entry.spec.default !== undefined) {
      const result = compileField(toDefinition(entry)).check(entry.spec.default, true);
      if (!result.ok || (typeof entry.spec.default === 'string' && entry.spec.default === '')) {
        const why = result.ok ? 'must not be empty' : result.messages.join('; ');
        issues.push({
          path: `${entry.path}.default`,
          message: `the default is not valid for this field: ${why}`,
        });
      }
    }
  }
  if (entries.length > MAX_FIELDS)
    issues.push({ path: 'fields', message: `too many fields: at most ${MAX_FIELDS}` });
  return issues;
}

/** Problems with a kind's display information, at the paths `id`, `displayName`, `description`, `logo`. */
export function metaIssues(meta: Partial<KindMeta>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const idProblem = kindIdProblem(meta.id);
  if (idProblem !== undefined) issues.push({ path: 'id', message: idProblem });
  if (meta.displayName === undefined) issues.push({ path: 'displayName', message: 'required' });
  optionalText(issues, 'displayName', meta.displayName, 100, true);
  optionalText(issues, 'description', meta.description, 1000);
  if (meta.logo !== undefined) {
    const problem = logoProblem(meta.logo);
    if (problem !== undefined) issues.push({ path: 'logo', message: problem });
  }
  const every = meta.rotateEveryDays;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1 && every <= 3650)) {
    issues.push({ path: 'rotateEveryDays', message: 'must be a whole number of days from 1 to 3650' });
  }
  return issues;
}

function definitionError(meta: Partial<KindMeta>, issues: FieldIssue[]): CofferError {
  const name = typeof meta.id === 'string' ? `kind "${displayKey(meta.id)}"` : 'kind';
  return new CofferError(
    'invalid_config',
    `invalid ${name} definition: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    { details: { issues } },
  );
}

function validationFailure(issues: FieldIssue[]): CofferError {
  return CofferError.validation(issues);
}

function notAnObject(): CofferError {
  return validationFailure([{ path: 'values', message: 'expected an object mapping field names to values' }]);
}

function declaredValidator(
  meta: KindMeta,
  compiled: readonly CompiledField[],
): (values: unknown) => SecretValues {
  const byName = new Map(compiled.map((c) => [c.definition.name, c]));
  const fieldList = compiled.map((c) => c.definition.name).join(', ');
  return (values) => {
    if (!isRecord(values)) throw notAnObject();
    const issues: FieldIssue[] = [];
    const out: [string, FieldValue][] = [];
    for (const { definition, check } of compiled) {
      const path = `values.${definition.name}`;
      const raw = Object.hasOwn(values, definition.name) ? values[definition.name] : undefined;
      if (isNotGiven(definition, raw)) {
        if (definition.default !== undefined) out.push([definition.name, definition.default]);
        else if (definition.required) issues.push({ path, message: 'required' });
        continue;
      }
      const result = check(raw);
      if (result.ok) out.push([definition.name, result.value]);
      else for (const message of result.messages) issues.push({ path, message });
    }
    for (const key of Object.keys(values)) {
      if (byName.has(key) || values[key] === undefined) continue;
      issues.push({
        path: `values.${displayKey(key)}`,
        message: `unknown field; kind "${meta.id}" has the fields: ${fieldList}`,
      });
    }
    if (issues.length > 0) throw validationFailure(issues);
    // fromEntries defines properties instead of assigning them, so no key can reach a prototype.
    return Object.fromEntries(out);
  };
}

function freeFormValueProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return exceedsValueBytes(value) ? TOO_LONG : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'expected a finite number';
  if (typeof value === 'boolean') return undefined;
  return 'expected a string, number or boolean';
}

function freeFormValidator(values: unknown): SecretValues {
  if (!isRecord(values)) throw notAnObject();
  const issues: FieldIssue[] = [];
  const keys = Object.keys(values);
  if (keys.length > MAX_FIELDS) {
    issues.push({ path: 'values', message: `too many fields: at most ${MAX_FIELDS}, got ${keys.length}` });
  }
  const out: [string, FieldValue][] = [];
  for (const key of keys) {
    const path = `values.${displayKey(key)}`;
    const nameProblem = fieldNameProblem(key);
    if (nameProblem !== undefined) issues.push({ path, message: `invalid field name: ${nameProblem}` });
    const value = values[key];
    const problem = freeFormValueProblem(value);
    if (problem !== undefined) issues.push({ path, message: problem });
    else if (nameProblem === undefined) out.push([key, value as FieldValue]);
  }
  if (issues.length > 0) throw validationFailure(issues);
  return Object.fromEntries(out);
}

function declaredZodSchema(compiled: readonly CompiledField[]): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const { definition, zod } of compiled) {
    const bounded =
      definition.type === 'string' ? zod.refine((v) => !exceedsValueBytes(v as string), TOO_LONG) : zod;
    shape[definition.name] = definition.required ? bounded : bounded.optional();
  }
  return z.strictObject(shape);
}

function freeFormZodSchema(): z.ZodType {
  const value = z.union([z.string().refine((v) => !exceedsValueBytes(v), TOO_LONG), z.number(), z.boolean()]);
  return z
    .record(
      z
        .string()
        .regex(FIELD_NAME_PATTERN)
        .refine((name) => !RESERVED_FIELD_NAMES.has(name), 'reserved field name'),
      value,
    )
    .refine((values) => Object.keys(values).length <= MAX_FIELDS, `too many fields: at most ${MAX_FIELDS}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Whether a value is a kind made by `defineKind` or read from a definition, by any copy of
 * this package (a module in a kinds directory may bring its own).
 *
 * @example
 * if (isKind(mod.default)) registry = createKindRegistry([...builtinKinds, mod.default]);
 */
export function isKind(value: unknown): value is Kind {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[KIND_BRAND] === true
  );
}

/** The same kind, recorded as coming from `source` (the loader sets the file path). */
export function withSource<V extends SecretValues>(kind: Kind<V>, source: string): Kind<V> {
  return Object.freeze({ ...kind, source });
}

/**
 * Builds a kind from checked display information and fields. Throws CofferError
 * `invalid_config` listing every problem with the definition.
 *
 * @example
 * const kind = createKind({ id: 'note', displayName: 'Note', description: '', freeForm: false, source: 'builtin' },
 *   [{ name: 'text', spec: { type: 'string', secret: true }, path: 'fields.text', namePath: 'fields.text' }]);
 */
export function createKind<V extends SecretValues>(meta: KindMeta, entries: readonly FieldEntry[]): Kind<V> {
  const issues = metaIssues(meta);
  if (meta.freeForm && entries.length > 0) {
    issues.push({
      path: 'fields',
      message: 'a free-form kind declares no fields: it accepts any field name',
    });
  }
  if (!meta.freeForm && entries.length === 0)
    issues.push({ path: 'fields', message: 'a kind needs at least one field' });
  issues.push(...fieldsIssues(entries));
  if (issues.length > 0) throw definitionError(meta, issues);

  const compiled = entries.map((entry) => compileField(toDefinition(entry)));
  const fields = Object.freeze(compiled.map((c) => c.definition));
  const secretNames = new Set(fields.filter((f) => f.secret).map((f) => f.name));
  const logo = meta.logo ?? defaultKindLogo;
  const kind = {
    [KIND_BRAND]: true,
    id: meta.id,
    displayName: meta.displayName,
    description: meta.description,
    logo,
    fields,
    freeForm: meta.freeForm,
    source: meta.source,
    rotateEveryDays: meta.rotateEveryDays ?? null,
    schema: (meta.freeForm ? freeFormZodSchema() : declaredZodSchema(compiled)) as unknown as z.ZodType<V>,
    jsonSchema: deepFreeze(buildKindJsonSchema({ ...meta, logo, fields })),
    isSecretField: (name: string) => meta.freeForm || secretNames.has(name),
    validate: (meta.freeForm ? freeFormValidator : declaredValidator(meta, compiled)) as (
      values: unknown,
    ) => V,
  };
  return Object.freeze(kind);
}
