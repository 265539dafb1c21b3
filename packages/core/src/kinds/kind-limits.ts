/**
 * Limits every kind and every set of values obeys. They are shared by the validators, the
 * JSON Schemas and the loader so a form, the API and the engine reject the same things.
 *
 * @example
 * if (!KIND_ID_PATTERN.test(id)) throw new Error(`bad kind id ${id}`);
 */
export const KIND_ID_PATTERN = /^[a-z][a-z0-9-]{1,63}$/;

/** Field names: letters, digits, `_`, `.`, `-`, at most 128 characters, not starting with a digit. */
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Names that would touch an object's prototype if used as a plain key; refused everywhere
 * so values can always be built and read as ordinary objects.
 */
export const RESERVED_FIELD_NAMES: ReadonlySet<string> = new Set(['__proto__']);

/** The largest string value of any field, in UTF-8 bytes (64 KiB). */
export const MAX_VALUE_BYTES = 64 * 1024;

/** The most fields a free-form kind's values (and any kind's definition) may have. */
export const MAX_FIELDS = 100;

/** The largest logo, in bytes of the data: URI. */
export const MAX_LOGO_BYTES = 256 * 1024;

/** Whether a string is longer than {@link MAX_VALUE_BYTES} once encoded as UTF-8. */
export function exceedsValueBytes(text: string): boolean {
  // A UTF-16 unit encodes to at most 3 bytes, so most strings need no counting at all.
  if (text.length * 3 <= MAX_VALUE_BYTES) return false;
  return Buffer.byteLength(text, 'utf8') > MAX_VALUE_BYTES;
}
