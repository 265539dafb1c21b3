import { basename, extname } from 'node:path';
import { CliError } from '../errors/cli-error.js';
import { looksLikeDotenv, parseDotenv } from './dotenv-format.js';

/** The file formats `export` writes and `import` (and `--from-file`) read. */
export const dataFormats = ['dotenv', 'json', 'yaml'] as const;
export type DataFormat = (typeof dataFormats)[number];

export function parseDataFormat(raw: string): DataFormat {
  const format = raw === 'yml' ? 'yaml' : raw === 'env' ? 'dotenv' : raw;
  if (!(dataFormats as readonly string[]).includes(format)) {
    throw new CliError('usage', `unknown format ${JSON.stringify(raw)}; use dotenv, json or yaml`);
  }
  return format as DataFormat;
}

/** The format a file name says: `.json`, `.yaml`/`.yml`, `.env` or `*.env`/`.env.*`; else undefined. */
export function formatOfPath(path: string): DataFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  const name = basename(path).toLowerCase();
  if (ext === '.env' || name === '.env' || name.startsWith('.env.')) return 'dotenv';
  return undefined;
}

/** Guesses the format of text without a name (standard input): JSON, dotenv, else YAML. */
export function sniffFormat(text: string): DataFormat {
  const start = text.trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'json';
  return looksLikeDotenv(text) ? 'dotenv' : 'yaml';
}

/** Parses text in a format; syntax errors name the source and the place. */
export async function parseData(text: string, format: DataFormat, source: string): Promise<unknown> {
  try {
    if (format === 'json') return JSON.parse(text);
    if (format === 'dotenv') return parseDotenv(text);
    const { parse } = await import('yaml');
    return parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    throw new CliError('format', `${source} is not valid ${format}: ${message}`);
  }
}

/** Writes a value as JSON (2-space indent) or YAML (no line folding), ending in a newline. */
export async function stringifyData(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(value, { lineWidth: 0 });
}
