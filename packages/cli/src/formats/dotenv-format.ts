import { parse } from 'dotenv';
import { CliError } from '../errors/cli-error.js';

export type FieldValue = string | number | boolean;

// Shell-safe characters: such a value needs no quotes for dotenv nor for `source` in a shell.
const bare = /^[A-Za-z0-9_./:@%+,-]+$/;

/**
 * A value in the quotes that make the `dotenv` package (and Docker's `env_file`, and `source`
 * in a shell for single quotes) read back exactly this value, or undefined if no quoting can.
 *
 * dotenv keeps everything between single quotes or backticks as is (newlines too) and has no
 * escapes there; between double quotes it turns `\n` and `\r` into line breaks and nothing
 * else. It has no way to escape the quote character itself, normalizes CR LF and lone CR to
 * LF outside of escapes, and treats a backslash right before a closing quote as escaping it.
 * So: bare when safe; else single quotes; else double quotes (line breaks escaped); else
 * backticks; else bare again for the few values only a bare write keeps (no `#`, no line
 * break, no surrounding blanks, no opening quote).
 */
export function quoteDotenvValue(value: string): string | undefined {
  if (value === '') return "''";
  if (bare.test(value)) return value;
  const endsInBackslash = value.endsWith('\\');
  if (!value.includes("'") && !value.includes('\r') && !endsInBackslash) return `'${value}'`;
  if (!value.includes('"') && !/\\[nr]/.test(value) && !endsInBackslash) {
    return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  }
  if (!value.includes('`') && !value.includes('\r') && !endsInBackslash) return `\`${value}\``;
  if (!/[#\r\n\u2028\u2029]/.test(value) && value.trim() === value && !/^['"`]/.test(value)) return value;
  return undefined;
}

/**
 * Why {@link quoteDotenvValue} cannot write a value: what rules out every kind of quote, and
 * what rules out writing it bare. Names only what the value holds.
 *
 * @example
 * whyNotDotenv(' x\\')
 * // "it ends in a backslash, which dotenv reads as escaping a closing quote, and it starts or
 * //  ends with a blank, which dotenv drops from a bare value"
 */
export function whyNotDotenv(value: string): string {
  let quotes: string;
  if (value.endsWith('\\')) quotes = 'it ends in a backslash, which dotenv reads as escaping a closing quote';
  else {
    const held = [
      value.includes("'") ? 'a single quote' : undefined,
      value.includes('"') ? 'a double quote' : undefined,
      value.includes('`') ? 'a backtick' : undefined,
      value.includes('\r') ? 'a carriage return' : undefined,
      /\\[nr]/.test(value) ? 'a backslash before n or r' : undefined,
    ].filter((w): w is string => w !== undefined);
    const list = held.length < 2 ? held.join('') : `${held.slice(0, -1).join(', ')} and ${held.at(-1)}`;
    quotes = `it holds ${list}, which rule out every kind of dotenv quote`;
  }
  const bare = /[\r\n\u2028\u2029]/.test(value)
    ? 'it holds a line break, which a bare value cannot'
    : value.includes('#')
      ? 'it holds a #, which starts a comment in a bare value'
      : value.trim() !== value
        ? 'it starts or ends with a blank, which dotenv drops from a bare value'
        : 'it starts with a quote, which dotenv reads as opening a quoted value';
  return `${quotes}, and ${bare}`;
}

const keyPattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Writes `KEY=value` lines that the real `dotenv` parser reads back exactly: each value is
 * quoted by {@link quoteDotenvValue}, and the whole text is parsed back before it is returned,
 * so a value that dotenv cannot hold is an error naming its key, never a silently changed
 * value.
 *
 * @example
 * formatDotenv({ DB_PASSWORD: "it's $ecret" }) // "DB_PASSWORD=\"it's $ecret\"\n"
 */
export function formatDotenv(entries: Record<string, FieldValue>): string {
  const lines: string[] = [];
  for (const [key, raw] of Object.entries(entries)) {
    if (!keyPattern.test(key)) {
      throw new CliError('format', `${JSON.stringify(key)} cannot be a dotenv variable name`);
    }
    const quoted = quoteDotenvValue(String(raw));
    if (quoted === undefined) {
      throw new CliError(
        'format',
        `the value of ${key} cannot be written as dotenv (${whyNotDotenv(String(raw))}); use --format json or yaml`,
      );
    }
    lines.push(`${key}=${quoted}`);
  }
  const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  const back = parse(text);
  for (const [key, raw] of Object.entries(entries)) {
    if (back[key] !== String(raw)) {
      throw new CliError(
        'format',
        `the value of ${key} would not read back the same from dotenv; use --format json or yaml`,
      );
    }
  }
  return text;
}

/** Reads dotenv text with the `dotenv` package's own parser: what applications will read. */
export function parseDotenv(text: string): Record<string, string> {
  return parse(text);
}

/** True when text looks like dotenv: every line blank, a comment, or `KEY=...`. */
export function looksLikeDotenv(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return lines.length > 0 && /^\s*(export\s+)?[\w.-]+\s*=/.test(lines[0]!);
}
