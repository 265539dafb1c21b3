import type { FieldValues, SecretValues } from '../api-types.js';
import {
  CofferApiError,
  type CofferErrorCode,
  type ErrorIssue,
  isCofferApiError,
} from '../errors/api-error.js';
import type { CallOptions } from '../http/transport.js';

/** One `{{ secret.field }}` in a template. */
export interface Reference {
  /** As written, e.g. `{{ mail.password }}`. */
  text: string;
  /** The secret's name or id: everything before the first dot (names have no dots). */
  secret: string;
  /** The field: everything after the first dot (field names may have dots). */
  field: string;
}

type Part = string | Reference;

const referencePattern = /^([A-Za-z0-9][A-Za-z0-9_-]*)\.([^\s{}]+)$/;

/**
 * Splits a template into text and references. `\{{` stands for a literal `{{`. A `{{` without
 * its `}}`, or one that does not hold `secret.field`, is an `invalid_reference` error.
 */
export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let at = 0;
  for (let open = template.indexOf('{{', at); open !== -1; open = template.indexOf('{{', at)) {
    if (open > 0 && template[open - 1] === '\\') {
      text += `${template.slice(at, open - 1)}{{`;
      at = open + 2;
      continue;
    }
    const close = template.indexOf('}}', open + 2);
    if (close === -1) {
      throw invalidReference(`"{{" at offset ${open} has no closing "}}" (write \\{{ for a literal "{{")`);
    }
    const written = template.slice(open, close + 2);
    const match = referencePattern.exec(template.slice(open + 2, close).trim());
    if (match === null) {
      throw invalidReference(
        `${written} at offset ${open} is not a reference: write {{ secret-name.field }} (or \\{{ for a literal "{{")`,
      );
    }
    text += template.slice(at, open);
    if (text !== '') parts.push(text);
    text = '';
    parts.push({ text: written, secret: match[1]!, field: match[2]! });
    at = close + 2;
  }
  text += template.slice(at);
  if (text !== '') parts.push(text);
  return parts;
}

function invalidReference(message: string): CofferApiError {
  return new CofferApiError({ status: 0, code: 'invalid_reference', message });
}

/** Reads a secret's revealed values. */
export type RevealValues = (secret: string, options: CallOptions) => Promise<SecretValues>;

/**
 * Resolves every template of `templates` with one reveal per secret named (however many
 * references name it), a few at a time. Every failing reference is reported at once, in one
 * {@link CofferApiError} whose `issues` name each reference and why; values never appear in it.
 */
export async function resolveTemplates<K extends string>(
  templates: Record<K, string>,
  reveal: RevealValues,
  options: CallOptions = {},
): Promise<Record<K, string>> {
  const parsed = Object.entries<string>(templates).map(
    ([key, template]) => [key, parseTemplate(template)] as const,
  );
  const secrets = new Set<string>();
  for (const [, parts] of parsed)
    for (const part of parts) if (typeof part !== 'string') secrets.add(part.secret);
  const read = await revealAll([...secrets], reveal, options);

  const failures: { reference: Reference; code: CofferErrorCode; status: number; reason: string }[] = [];
  const failed = new Set<string>();
  const fail = (reference: Reference, code: CofferErrorCode, status: number, reason: string) => {
    const id = `${reference.secret}\u0000${reference.field}`;
    if (failed.has(id)) return;
    failed.add(id);
    failures.push({ reference, code, status, reason });
  };
  const result = {} as Record<K, string>;
  for (const [key, parts] of parsed) {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const outcome = read.get(part.secret)!;
      if (outcome instanceof CofferApiError) {
        fail(part, outcome.code, outcome.status, outcome.message);
      } else if (!Object.hasOwn(outcome, part.field)) {
        const fields = Object.keys(outcome).sort().join(', ') || 'none';
        fail(
          part,
          'field_not_found',
          0,
          `secret "${part.secret}" has no field "${part.field}" (its fields: ${fields})`,
        );
      } else {
        out += String(outcome[part.field]);
      }
    }
    result[key as K] = out;
  }
  if (failures.length > 0) throw resolveError(failures);
  return result;
}

async function revealAll(
  secrets: string[],
  reveal: RevealValues,
  options: CallOptions,
): Promise<Map<string, FieldValues | CofferApiError>> {
  const read = new Map<string, FieldValues | CofferApiError>();
  let next = 0;
  const worker = async () => {
    while (next < secrets.length) {
      const secret = secrets[next++]!;
      try {
        read.set(secret, (await reveal(secret, options)).values);
      } catch (err) {
        if (!isCofferApiError(err) || options.signal?.aborted) throw err;
        read.set(secret, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, secrets.length) }, worker));
  return read;
}

function resolveError(
  failures: { reference: Reference; code: CofferErrorCode; status: number; reason: string }[],
): CofferApiError {
  const first = failures[0]!;
  const issues: ErrorIssue[] = failures.map((f) => ({ path: f.reference.text, message: f.reason }));
  const message =
    failures.length === 1
      ? `cannot resolve ${first.reference.text}: ${first.reason}`
      : `cannot resolve ${failures.length} references: ${issues.map((i) => `${i.path} (${i.message})`).join('; ')}`;
  return new CofferApiError({
    status: first.status,
    code: first.code,
    message,
    issues,
    details: { references: failures.map((f) => ({ ...f.reference, code: f.code })) },
  });
}
