import type { z } from 'zod';

/** A value of one field of a secret. */
export type FieldValue = string | number | boolean;

/** The values of a secret: a flat map of field name to value. */
export type SecretValues = Record<string, FieldValue>;

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'enum';

/** How a UI should render a string field. */
export type FieldFormat = 'text' | 'multiline' | 'email' | 'url' | 'hostname' | 'password';

/** One field of a kind: everything a form needs to render and validate it. */
export interface FieldDefinition {
  name: string;
  type: FieldType;
  label: string;
  help?: string;
  placeholder?: string;
  default?: FieldValue;
  required: boolean;
  /** Secret fields are masked in responses unless revealed, and rendered as password inputs. */
  secret: boolean;
  format?: FieldFormat;
  /** Allowed values of an `enum` field. */
  options?: readonly string[];
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  /** A regular expression (source text) string values must match. */
  pattern?: string;
}

/**
 * A kind of secret: the field list, validation, display information and JSON Schema, all
 * from one definition. `V` is the TypeScript type of its values.
 */
export interface Kind<V extends SecretValues = SecretValues> {
  readonly id: string;
  readonly displayName: string;
  readonly description: string;
  /** A data: URI (SVG or PNG), never a remote URL. */
  readonly logo: string;
  readonly fields: readonly FieldDefinition[];
  /**
   * Free-form kinds (`generic`) accept any field names; every field counts as secret.
   * Other kinds reject unknown fields.
   */
  readonly freeForm: boolean;
  /**
   * Where the kind came from: `builtin`, `app` (defined in the embedding application's
   * code), or the absolute path of the file an operator's kind was loaded from.
   */
  readonly source: string;
  /**
   * How often secrets of this kind should get new values, in days, or null when there is no
   * such habit. A new secret takes it as its `rotateEveryDays` unless its creator says
   * otherwise (docs/reminders.md).
   */
  readonly rotateEveryDays: number | null;
  /** The zod schema of a complete set of values (defaults applied). */
  readonly schema: z.ZodType<V>;
  /** A JSON Schema (draft 2020-12) of the values, with UI hints a form renderer uses. */
  readonly jsonSchema: Record<string, unknown>;
  /** Whether a field's value is masked (for free-form kinds: every field). */
  isSecretField(name: string): boolean;
  /**
   * Validate a complete set of values, applying defaults. Throws CofferError `validation`
   * whose issues name each offending field as `values.<field>`; messages never quote values.
   */
  validate(values: unknown): V;
}
