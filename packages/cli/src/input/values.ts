import { readFileSync } from 'node:fs';
import { CliError } from '../errors/cli-error.js';
import { formatOfPath, parseData, sniffFormat } from '../formats/data-formats.js';
import type { FieldValue } from '../formats/dotenv-format.js';
import { canPrompt, promptHidden, readStdin } from './prompt.js';

/** Values given on the command line, and the fields still to ask for. */
export interface ParsedAssignments {
  values: Record<string, FieldValue>;
  /** Fields given as `-`: asked without echo on a terminal, else read from standard input. */
  ask: string[];
}

const fieldName = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

function readFileValue(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(
      'file',
      `cannot read ${path} (for ${field}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * Parses `field=value` arguments:
 * - `field=value`: the string (the server turns `"587"` into a number for number fields);
 * - `field:=json`: a JSON value, for a number, boolean or string in a free-form secret;
 * - `field=@path`: the file's content, exactly (keys, certificates);
 * - `field=-`: asked without echo (or read from standard input when it is not a terminal).
 *
 * @example
 * parseAssignments(['host=smtp.example.com', 'port:=587', 'password=-'])
 */
export function parseAssignments(args: readonly string[]): ParsedAssignments {
  const values: Record<string, FieldValue> = {};
  const ask: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new CliError('usage', `expected field=value, got ${JSON.stringify(arg)}`);
    const typed = arg[eq - 1] === ':';
    const field = arg.slice(0, typed ? eq - 1 : eq);
    const raw = arg.slice(eq + 1);
    if (!fieldName.test(field)) throw new CliError('usage', `${JSON.stringify(field)} is not a field name`);
    if (field in values || ask.includes(field)) throw new CliError('usage', `${field} is given twice`);
    if (typed) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new CliError('usage', `${field}:= needs a JSON value (a number, true/false or a "string")`);
      }
      if (typeof parsed !== 'string' && typeof parsed !== 'number' && typeof parsed !== 'boolean') {
        throw new CliError('usage', `${field}:= must be a number, true/false or a "string"`);
      }
      values[field] = parsed;
    } else if (raw === '-') ask.push(field);
    else if (raw.startsWith('@') && raw.length > 1) values[field] = readFileValue(raw.slice(1), field);
    else values[field] = raw;
  }
  return { values, ask };
}

/**
 * Fills the `-` fields: each is asked without echo on a terminal; without one, a single `-`
 * field takes all of standard input (without its final line break).
 */
export async function fillAskedValues(parsed: ParsedAssignments): Promise<Record<string, FieldValue>> {
  const values = { ...parsed.values };
  if (parsed.ask.length === 0) return values;
  if (canPrompt()) {
    for (const field of parsed.ask) values[field] = await promptHidden(`${field}: `);
    return values;
  }
  if (parsed.ask.length > 1) {
    throw new CliError(
      'usage',
      `only one field can be read from standard input (got ${parsed.ask.join(', ')})`,
    );
  }
  values[parsed.ask[0]!] = (await readStdin()).replace(/\r?\n$/, '');
  return values;
}

/**
 * Values from a file (`-`: standard input) in JSON, YAML or dotenv: a flat object of field
 * names to strings, numbers or booleans.
 */
export async function readValuesFile(path: string): Promise<Record<string, FieldValue>> {
  const text = path === '-' ? await readStdin() : readFileValue(path, 'values');
  const format = (path === '-' ? undefined : formatOfPath(path)) ?? sniffFormat(text);
  const data = await parseData(text, format, path === '-' ? 'standard input' : path);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(
      'format',
      `${path === '-' ? 'standard input' : path} must hold an object of field values`,
    );
  }
  const values: Record<string, FieldValue> = {};
  for (const [field, value] of Object.entries(data)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new CliError('format', `${field}: must be a string, number or boolean`);
    }
    values[field] = value;
  }
  return values;
}

/** `name=value` labels (`--label env=prod`); a bare `name` has an empty value. */
export function parseLabels(args: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name === '') throw new CliError('usage', `expected label name=value, got ${JSON.stringify(arg)}`);
    labels[name] = eq < 0 ? '' : arg.slice(eq + 1);
  }
  return labels;
}
