import { type FieldBuilder, field } from './field-builders.js';
import { createKind, type FieldEntry } from './kind-factory.js';
import type { FieldValue, Kind, SecretValues } from './kind-types.js';

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type PresentKeys<F> = { [K in keyof F]: F[K] extends FieldBuilder<FieldValue, true> ? K : never }[keyof F];

type BuilderValue<B> = B extends FieldBuilder<infer T, boolean> ? T : never;

/**
 * The values type of a record of field builders: required and defaulted fields are
 * present, the others optional.
 *
 * @example
 * type V = ValuesOfFields<{ host: FieldBuilder<string, true>; from: FieldBuilder<string, false> }>;
 * // { host: string; from?: string }
 */
export type ValuesOfFields<F extends Record<string, FieldBuilder>> = Simplify<
  { -readonly [K in PresentKeys<F>]: BuilderValue<F[K]> } & {
    -readonly [K in Exclude<keyof F, PresentKeys<F>>]?: BuilderValue<F[K]>;
  }
>;

/**
 * The TypeScript type of a kind's validated values.
 *
 * @example
 * type Smtp = KindValues<typeof smtpKind>;
 * const smtp: Smtp = smtpKind.validate(input); // smtp.port is a number, smtp.from is optional
 */
export type KindValues<K extends Pick<Kind, 'validate'>> = ReturnType<K['validate']>;

interface KindOptionsBase {
  /** Stable identifier stored with every secret: `^[a-z][a-z0-9-]{1,63}$`. */
  id: string;
  /** The name a UI shows, e.g. "SMTP server". */
  displayName: string;
  /** One line that tells a user what the kind is for. */
  description: string;
  /** A data: URI of an SVG or PNG image (see `svgDataUri`); a neutral logo when omitted. */
  logo?: string;
  /** Where the kind comes from; defaults to `app` (defined by the embedding application). */
  source?: string;
  /**
   * The rotation interval new secrets of this kind get by default, in days (1 to 3650), e.g.
   * 90 for an API token. Omit it for kinds whose values are not rotated on a schedule.
   */
  rotateEveryDays?: number;
}

/** Options of {@link defineKind} for a kind with declared fields. */
export interface KindOptions<F extends Record<string, FieldBuilder>> extends KindOptionsBase {
  /** The fields, in the order a form shows them. */
  fields: F;
  freeForm?: false;
}

/** Options of {@link defineKind} for a free-form kind (any field names, every field secret). */
export interface FreeFormKindOptions extends KindOptionsBase {
  freeForm: true;
  fields?: undefined;
}

/**
 * Defines a kind of secret from one TypeScript description: fields with labels, defaults,
 * required flags, validation and secrecy, plus the display name, description and logo.
 * The result validates values, publishes a JSON Schema for forms, and carries the values'
 * TypeScript type (read it with {@link KindValues}). Throws CofferError `invalid_config`
 * listing every problem of a faulty definition.
 *
 * @example
 * export const grafanaKind = defineKind({
 *   id: 'grafana',
 *   displayName: 'Grafana',
 *   description: 'A Grafana instance and a service account token.',
 *   fields: {
 *     url: field.string({ label: 'URL', format: 'url' }),
 *     token: field.secret({ label: 'Service account token' }),
 *     orgId: field.integer({ label: 'Organization id', default: 1, min: 1 }),
 *   },
 * });
 * type Grafana = KindValues<typeof grafanaKind>; // { url: string; token: string; orgId: number }
 */
export function defineKind<const F extends Record<string, FieldBuilder>>(
  options: KindOptions<F>,
): Kind<ValuesOfFields<F>>;
export function defineKind(options: FreeFormKindOptions): Kind<SecretValues>;
export function defineKind(options: KindOptions<Record<string, FieldBuilder>> | FreeFormKindOptions): Kind {
  const fields = options.fields ?? {};
  const entries: FieldEntry[] = Object.entries(fields).map(([name, builder]) => ({
    name,
    // A builder made elsewhere (plain JavaScript) may be anything; the checks report it.
    spec: (builder as Partial<FieldBuilder> | undefined)?.spec ?? ({} as FieldBuilder['spec']),
    path: `fields.${name}`,
    namePath: `fields.${name}`,
  }));
  return createKind(
    {
      id: options.id,
      displayName: options.displayName,
      description: options.description,
      logo: options.logo,
      freeForm: options.freeForm === true,
      source: options.source ?? 'app',
      ...(options.rotateEveryDays === undefined ? {} : { rotateEveryDays: options.rotateEveryDays }),
    },
    entries,
  );
}

/**
 * What a kind module's default-exported function receives, so a module in an operator's
 * directory can define kinds without importing `@coffer/core`.
 *
 * @example
 * export default ({ defineKind, field }: KindKit) =>
 *   defineKind({ id: 'grafana', displayName: 'Grafana', description: '...', fields: { token: field.secret() } });
 */
export interface KindKit {
  readonly defineKind: typeof defineKind;
  readonly field: typeof field;
}

/** The kit handed to kind modules. */
export const kindKit: KindKit = Object.freeze({ defineKind, field });
