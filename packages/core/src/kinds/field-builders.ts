import type { FieldDefinition, FieldValue } from './kind-types.js';

/** What a builder knows about a field before {@link defineKind} gives it its name. */
export type FieldSpec = Omit<FieldDefinition, 'name' | 'label' | 'required'> & {
  /** Defaults to the field name in words (`fromAddress` → "From address"). */
  label?: string;
  /** Defaults to true. */
  required?: boolean;
};

/**
 * A field under construction, as returned by the {@link field} builders. The type
 * parameters carry the TypeScript type of the value and whether it is always present
 * (required or defaulted), which {@link KindValues} reads.
 *
 * @example
 * const port: FieldBuilder<number, true> = field.integer({ default: 587 });
 */
export interface FieldBuilder<T extends FieldValue = FieldValue, Present extends boolean = boolean> {
  readonly spec: Readonly<FieldSpec>;
  /** Type information only; never set at run time. */
  readonly '~value'?: { readonly value: T; readonly present: Present };
}

/** Options every field type accepts. */
export interface CommonFieldOptions<T extends FieldValue> {
  /** What a form shows beside the input; defaults to the field name in words. */
  label?: string;
  /** A sentence under the input, and the JSON Schema `description`. */
  help?: string;
  /** An example shown inside an empty input. Never a real value. */
  placeholder?: string;
  /** Whether a value must be given; defaults to true. A field with a default is always present. */
  required?: boolean;
  /** Masked in responses unless revealed, rendered as a password input, never given a default. */
  secret?: boolean;
  /** Filled in by `validate` when no value is given, and prefilled by forms. */
  default?: T;
}

export interface StringLengthOptions {
  minLength?: number;
  maxLength?: number;
  /** A regular expression (JavaScript and JSON Schema syntax) a value must contain a match of; anchor it with `^...$`. */
  pattern?: string;
}

export interface StringFieldOptions extends CommonFieldOptions<string>, StringLengthOptions {
  /** `email`, `url` (http or https) and `hostname` are validated; `text` is any single line. */
  format?: 'text' | 'email' | 'url' | 'hostname';
}

export interface TextFieldOptions extends CommonFieldOptions<string>, StringLengthOptions {}

export interface SecretFieldOptions
  extends Omit<CommonFieldOptions<string>, 'secret' | 'default'>,
    StringLengthOptions {
  /** Render as a multi-line input (private keys, certificates). */
  multiline?: boolean;
}

export interface NumberFieldOptions extends CommonFieldOptions<number> {
  min?: number;
  max?: number;
}

export type BooleanFieldOptions = CommonFieldOptions<boolean>;

export type EnumFieldOptions<Option extends string> = CommonFieldOptions<Option>;

/** Whether a field built with options `O` always has a value once validated. */
export type IsPresent<O> = O extends { default: FieldValue }
  ? true
  : O extends { required: false }
    ? false
    : O extends { required: true }
      ? true
      : O extends { required: boolean }
        ? false
        : true;

type NoOptions = Record<never, never>;

const COMMON_KEYS = ['label', 'help', 'placeholder', 'required', 'default'] as const;
const LENGTH_KEYS = ['minLength', 'maxLength', 'pattern'] as const;
const RANGE_KEYS = ['min', 'max'] as const;

function pick(options: object | undefined, keys: readonly string[]): Partial<FieldSpec> {
  const out: Record<string, unknown> = {};
  if (options === undefined) return out;
  const source = options as Record<string, unknown>;
  for (const key of keys) {
    if (source[key] !== undefined) out[key] = source[key];
  }
  return out as Partial<FieldSpec>;
}

function build<T extends FieldValue, Present extends boolean>(spec: FieldSpec): FieldBuilder<T, Present> {
  return Object.freeze({ spec: Object.freeze(spec) });
}

/**
 * Field builders for {@link defineKind}. Each returns a {@link FieldBuilder} whose type
 * tells `KindValues` the value's TypeScript type and whether it is always present.
 *
 * @example
 * const fields = {
 *   host: field.string({ label: 'Host', placeholder: 'smtp.example.com' }),
 *   port: field.integer({ label: 'Port', default: 587, min: 1, max: 65535 }),
 *   password: field.secret({ label: 'Password' }),
 * };
 */
export const field = {
  /**
   * A single-line string.
   * @example field.string({ label: 'Email', format: 'email', required: false })
   */
  string<const O extends StringFieldOptions = NoOptions>(options?: O): FieldBuilder<string, IsPresent<O>> {
    const secret = options?.secret === true;
    const format = options?.format ?? 'text';
    return build({
      type: 'string',
      ...pick(options, [...COMMON_KEYS, ...LENGTH_KEYS]),
      secret,
      format: secret && format === 'text' ? 'password' : format,
    });
  },

  /**
   * A multi-line string (notes, certificates, public keys).
   * @example field.text({ label: 'Public key', required: false })
   */
  text<const O extends TextFieldOptions = NoOptions>(options?: O): FieldBuilder<string, IsPresent<O>> {
    return build({
      type: 'string',
      ...pick(options, [...COMMON_KEYS, ...LENGTH_KEYS]),
      secret: options?.secret === true,
      format: 'multiline',
    });
  },

  /**
   * A secret string: masked in responses, a password input (or a masked text area when
   * `multiline`), never given a default.
   * @example field.secret({ label: 'Private key', multiline: true })
   */
  secret<const O extends SecretFieldOptions = NoOptions>(options?: O): FieldBuilder<string, IsPresent<O>> {
    return build({
      type: 'string',
      ...pick(options, [...COMMON_KEYS, ...LENGTH_KEYS]),
      secret: true,
      format: options?.multiline === true ? 'multiline' : 'password',
    });
  },

  /**
   * A whole number. Well-formed numeric strings (`"587"`) are accepted, since forms and the
   * CLI send strings.
   * @example field.integer({ label: 'Port', default: 22, min: 1, max: 65535 })
   */
  integer<const O extends NumberFieldOptions = NoOptions>(options?: O): FieldBuilder<number, IsPresent<O>> {
    return build({
      type: 'integer',
      ...pick(options, [...COMMON_KEYS, ...RANGE_KEYS]),
      secret: options?.secret === true,
    });
  },

  /**
   * A finite number; numeric strings are accepted.
   * @example field.number({ label: 'Timeout (seconds)', default: 2.5, min: 0 })
   */
  number<const O extends NumberFieldOptions = NoOptions>(options?: O): FieldBuilder<number, IsPresent<O>> {
    return build({
      type: 'number',
      ...pick(options, [...COMMON_KEYS, ...RANGE_KEYS]),
      secret: options?.secret === true,
    });
  },

  /**
   * true or false; the strings `"true"` and `"false"` are accepted.
   * @example field.boolean({ label: 'Verify TLS certificates', default: true })
   */
  boolean<const O extends BooleanFieldOptions = NoOptions>(options?: O): FieldBuilder<boolean, IsPresent<O>> {
    return build({ type: 'boolean', ...pick(options, COMMON_KEYS), secret: options?.secret === true });
  },

  /**
   * One of a fixed list of strings, rendered as a select.
   * @example field.enum(['starttls', 'tls', 'none'] as const, { label: 'Security', default: 'starttls' })
   */
  enum<
    const Options extends readonly [string, ...string[]],
    const O extends EnumFieldOptions<Options[number]> = NoOptions,
  >(options: Options, fieldOptions?: O): FieldBuilder<Options[number], IsPresent<O>> {
    return build({
      type: 'enum',
      ...pick(fieldOptions, COMMON_KEYS),
      secret: fieldOptions?.secret === true,
      options: Object.freeze([...options]),
    });
  },
};
