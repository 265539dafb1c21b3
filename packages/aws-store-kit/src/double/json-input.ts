import { AwsError } from './aws-error.js';

/** A request or answer body of the AWS JSON 1.1 protocol. */
export type Json = Record<string, unknown>;

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * The ValidationException AWS answers when a member breaks its model's constraint, worded the
 * way the service words it (`1 validation error detected: Value at 'maxResults' failed to ...`).
 */
export function constraintError(key: string, constraint: string): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value at '${lowerFirst(key)}' failed to satisfy constraint: ${constraint}`,
  );
}

/** The ValidationException AWS answers for a required member that is missing. */
export function nullMemberError(key: string): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value null at '${lowerFirst(key)}' failed to satisfy constraint: Member must not be null`,
  );
}

/** A string member; a missing required one is the ValidationException AWS answers. */
export function readString(input: Json, key: string, required: true): string;
export function readString(input: Json, key: string, required?: false): string | undefined;
export function readString(input: Json, key: string, required = false): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) {
    if (required) throw nullMemberError(key);
    return undefined;
  }
  if (typeof value !== 'string') throw new AwsError('SerializationException', `${key} must be a string`);
  return value;
}

/** Refuses a string member outside its model's length range. */
export function checkLength(key: string, value: string | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (value.length < min || value.length > max) {
    throw constraintError(key, `Member must have length between ${min} and ${max}`);
  }
}

export function readBoolean(input: Json, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new AwsError('SerializationException', `${key} must be a boolean`);
  return value;
}

export function readInteger(input: Json, key: string): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AwsError('SerializationException', `${key} must be an integer`);
  }
  return value;
}

/** An integer member within `[min, max]`, or `fallback` when absent (`MaxResults`). */
export function readIntegerIn(input: Json, key: string, min: number, max: number, fallback: number): number {
  const value = readInteger(input, key) ?? fallback;
  if (value < min || value > max) {
    throw constraintError(key, `Member must have value between ${min} and ${max}`);
  }
  return value;
}

export function readStringList(input: Json, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new AwsError('SerializationException', `${key} must be a list of strings`);
  }
  return value as string[];
}

/** A list of structures (each a {@link Json} object). */
export function readObjectList(input: Json, key: string): Json[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new AwsError('SerializationException', `${key} must be a list`);
  return value.map((item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new AwsError('SerializationException', `${key} must be a list of structures`);
    }
    return item as Json;
  });
}

/**
 * One page of `items` (already in their order) after an opaque continuation token naming the
 * key where the last page stopped, so a page boundary stays put while items come and go.
 *
 * @example
 * const { page, next } = paginate(sorted, (p) => p.name, token, 10, { invalidTokenType: 'InvalidNextToken' });
 */
export function paginate<T, K extends string | number>(
  items: readonly T[],
  keyOf: (item: T) => K,
  token: string | undefined,
  maxResults: number,
  options: { order?: 'asc' | 'desc'; invalidTokenType: string },
): { page: T[]; next: string | undefined } {
  const order = options.order ?? 'asc';
  let start = 0;
  if (token !== undefined) {
    let after: unknown;
    try {
      after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
    } catch {
      after = undefined;
    }
    if (typeof after !== 'number' && typeof after !== 'string') {
      throw new AwsError(options.invalidTokenType, 'The NextToken value is invalid.');
    }
    const a = after;
    start = items.findIndex((item) => (order === 'asc' ? keyOf(item) > a : keyOf(item) < a));
    if (start === -1) start = items.length;
  }
  const page = items.slice(start, start + maxResults);
  const more = start + maxResults < items.length;
  const next = more
    ? Buffer.from(JSON.stringify({ after: keyOf(page[page.length - 1]!) })).toString('base64url')
    : undefined;
  return { page, next };
}
