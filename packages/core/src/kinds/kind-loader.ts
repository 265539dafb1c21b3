import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isCofferError } from '../errors/coffer-error.js';
import { builtinKinds } from './builtin/builtin-kinds.js';
import { kindKit } from './define-kind.js';
import { kindFromDefinition } from './kind-definition.js';
import { isKind, withSource } from './kind-factory.js';
import { MAX_LOGO_BYTES } from './kind-limits.js';
import type { Kind } from './kind-types.js';

/**
 * One thing wrong in a kinds directory. The file that has it is skipped; the others load.
 *
 * @example
 * { file: '/etc/coffer/kinds/grafana.json', path: 'fields[2].type', message: 'must be one of: string, text, ...' }
 */
export interface KindLoadProblem {
  /** Absolute path of the file (or of the directory, when it cannot be read). */
  file: string;
  /** Where in the definition, e.g. `fields[2].type`, `logo`, or `[1].id` for the second kind a module exports. */
  path?: string;
  message: string;
}

/**
 * What {@link loadKinds} found: the kinds that loaded and every problem with the others.
 *
 * @example
 * const { kinds, problems }: LoadedKinds = await loadKinds(directory);
 */
export interface LoadedKinds {
  kinds: Kind[];
  problems: KindLoadProblem[];
}

/** Options of {@link loadKinds}. */
export interface LoadKindsOptions {
  /** Kinds already known (their ids cannot be reused); defaults to the built-in kinds. */
  existing?: Iterable<Kind>;
  /** How long one module may take to load, in milliseconds; defaults to 30 seconds. */
  moduleTimeoutMs?: number;
}

const JSON_EXTENSIONS = new Set(['.json']);
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);
const LOGO_TYPES: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png' };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HAS_SCHEME = /^(?:[A-Za-z][A-Za-z0-9+.-]*:|\/\/)/;

type Found = { kinds: Kind[]; problems: KindLoadProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(prefix: string, inner: string | undefined): string | undefined {
  if (inner === undefined || inner === '(root)') return prefix === '' ? undefined : prefix;
  if (prefix === '') return inner;
  return inner.startsWith('[') ? `${prefix}${inner}` : `${prefix}.${inner}`;
}

function problem(file: string, pathInFile: string | undefined, message: string): KindLoadProblem {
  return pathInFile === undefined ? { file, message } : { file, path: pathInFile, message };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Problems from an error thrown while reading one definition, one per issue it names. */
function problemsFromError(file: string, prefix: string, err: unknown): KindLoadProblem[] {
  const issues = isCofferError(err) ? err.details.issues : undefined;
  if (issues !== undefined && issues.length > 0) {
    return issues.map((issue) => problem(file, joinPath(prefix, issue.path), issue.message));
  }
  return [problem(file, joinPath(prefix, undefined), errorMessage(err))];
}

// A UI renders a logo from the kind itself, so a file next to the definition is read now
// and carried as a data: URI.
async function inlineLogo(reference: string, file: string): Promise<{ uri: string } | { message: string }> {
  if (path.isAbsolute(reference))
    return { message: 'must be a data: URI or a path relative to the definition file' };
  const type = LOGO_TYPES[path.extname(reference).toLowerCase()];
  if (type === undefined) return { message: 'a logo file must be an .svg or .png image' };
  const base = path.dirname(file);
  const resolved = path.resolve(base, reference);
  const relative = path.relative(base, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    return { message: 'a logo file must be inside the directory of the definition' };
  }
  try {
    const info = await stat(resolved);
    if (!info.isFile()) return { message: `logo file ${reference} is not a file` };
    if (info.size > (MAX_LOGO_BYTES * 3) / 4)
      return { message: `logo file is too large: at most ${(MAX_LOGO_BYTES * 3) / 4 / 1024} KiB` };
    const bytes = await readFile(resolved);
    const valid =
      type === 'image/png'
        ? bytes.subarray(0, 8).equals(PNG_SIGNATURE)
        : bytes.toString('utf8').includes('<svg');
    if (!valid)
      return { message: `logo file ${reference} is not ${type === 'image/png' ? 'a PNG' : 'an SVG'} image` };
    return { uri: `data:${type};base64,${bytes.toString('base64')}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      message:
        code === 'ENOENT'
          ? `logo file ${reference} not found`
          : `cannot read logo file ${reference}: ${code ?? errorMessage(err)}`,
    };
  }
}

/** A definition object (from a JSON file or a module) read into a kind, or the problems with it. */
async function fromDefinition(
  definition: Record<string, unknown>,
  file: string,
  prefix: string,
): Promise<Found> {
  const problems: KindLoadProblem[] = [];
  let input = definition;
  const logo = definition.logo;
  // Data and remote URIs are judged by kindFromDefinition; only relative paths are files.
  if (typeof logo === 'string' && !HAS_SCHEME.test(logo)) {
    const inlined = await inlineLogo(logo, file);
    if ('uri' in inlined) input = { ...definition, logo: inlined.uri };
    else {
      problems.push(problem(file, joinPath(prefix, 'logo'), inlined.message));
      // Still read the rest, so the operator sees every problem in one pass.
      const { logo: _dropped, ...rest } = definition;
      input = rest;
    }
  }
  try {
    const kind = kindFromDefinition(input, { source: file });
    return problems.length > 0 ? { kinds: [], problems } : { kinds: [kind], problems };
  } catch (err) {
    return { kinds: [], problems: [...problems, ...problemsFromError(file, prefix, err)] };
  }
}

async function loadJsonFile(file: string): Promise<Found> {
  let parsed: unknown;
  try {
    const text = await readFile(file, 'utf8');
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const message =
      err instanceof SyntaxError ? `invalid JSON: ${err.message}` : `cannot read file: ${errorMessage(err)}`;
    return { kinds: [], problems: [problem(file, undefined, message)] };
  }
  if (!isRecord(parsed)) {
    return { kinds: [], problems: [problem(file, undefined, 'expected a JSON object defining one kind')] };
  }
  return fromDefinition(parsed, file, '');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function defaultExport(namespace: unknown): unknown {
  let value = isRecord(namespace) ? namespace.default : undefined;
  // tsx hands a CommonJS-shaped module back as { default: { default: ... } }; a kind or a
  // definition never has a `default` property of its own, so unwrapping is safe.
  for (let depth = 0; depth < 2 && isRecord(value) && !isKind(value) && 'default' in value; depth++) {
    value = value.default;
  }
  return value;
}

async function loadModuleFile(file: string, timeoutMs: number): Promise<Found> {
  let exported: unknown;
  try {
    // Loaded on first use: an application that never reads a kinds directory does not pay for tsx.
    const { tsImport } = await import('tsx/esm/api');
    const namespace: unknown = await withTimeout(
      tsImport(pathToFileURL(file).href, { parentURL: import.meta.url, tsconfig: false }),
      timeoutMs,
      'loading the module',
    );
    exported = defaultExport(namespace);
  } catch (err) {
    return {
      kinds: [],
      problems: [problem(file, undefined, `cannot load the module: ${errorMessage(err)}`)],
    };
  }
  if (typeof exported === 'function') {
    try {
      exported = await withTimeout(
        Promise.resolve(exported(kindKit)),
        timeoutMs,
        'the default-exported function',
      );
    } catch (err) {
      return { kinds: [], problems: problemsFromError(file, '', err) };
    }
  }
  if (exported === undefined) {
    return {
      kinds: [],
      problems: [
        problem(
          file,
          undefined,
          'no default export; export default a kind, a kind definition object, an array of them, or a function ({ defineKind, field }) => one of those',
        ),
      ],
    };
  }
  const items: [unknown, string][] = Array.isArray(exported)
    ? exported.map((item, i) => [item, `[${i}]`])
    : [[exported, '']];
  const found: Found = { kinds: [], problems: [] };
  for (const [item, prefix] of items) {
    if (isKind(item)) found.kinds.push(withSource(item, file));
    else if (isRecord(item)) {
      const one = await fromDefinition(item, file, prefix);
      found.kinds.push(...one.kinds);
      found.problems.push(...one.problems);
    } else {
      found.problems.push(
        problem(
          file,
          joinPath(prefix, undefined),
          'expected a kind made with defineKind or a kind definition object',
        ),
      );
    }
  }
  return found;
}

async function isKindFile(directory: string, entry: Dirent): Promise<boolean> {
  const name = entry.name;
  // `_helpers.ts` and dot-files are for the operator's own use (Kubernetes mounts a
  // ConfigMap as symlinks beside a `..data` directory), and declaration files hold no kinds.
  if (name.startsWith('.') || name.startsWith('_') || /\.d\.[cm]?ts$/.test(name)) return false;
  const extension = path.extname(name).toLowerCase();
  if (!JSON_EXTENSIONS.has(extension) && !MODULE_EXTENSIONS.has(extension)) return false;
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  return (await stat(path.join(directory, name)).catch(() => undefined))?.isFile() === true;
}

/**
 * Loads the kinds an operator put in a directory: `*.json` files in the JSON definition
 * format, and `*.ts`, `*.mts`, `*.js`, `*.mjs` modules whose default export is a kind, a
 * definition object, an array of those, or a function `({ defineKind, field }) => ...`.
 * Files starting with `_` or `.` are skipped. A bad file becomes a problem and never stops
 * the others; a kind whose id is already taken (by a built-in kind or an earlier file, in
 * name order) is a problem naming both sources. Loaded kinds have `source` set to their file.
 *
 * @example
 * const { kinds, problems } = await loadKinds('/etc/coffer/kinds');
 * for (const p of problems) log.warn(p, 'kind not loaded');
 * const registry = createKindRegistry([...builtinKinds, ...kinds]);
 */
export async function loadKinds(directory: string, options: LoadKindsOptions = {}): Promise<LoadedKinds> {
  const root = path.resolve(directory);
  const timeoutMs = options.moduleTimeoutMs ?? 30_000;
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      kinds: [],
      problems: [problem(root, undefined, `cannot read the kinds directory: ${code ?? errorMessage(err)}`)],
    };
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (await isKindFile(root, entry)) names.push(entry.name);
  }
  names.sort();

  const taken = new Map<string, string>();
  for (const kind of options.existing ?? builtinKinds) {
    taken.set(kind.id, kind.source === 'builtin' ? 'the built-in kind' : kind.source);
  }
  const result: LoadedKinds = { kinds: [], problems: [] };
  for (const name of names) {
    const file = path.join(root, name);
    let found: Found;
    try {
      found = JSON_EXTENSIONS.has(path.extname(name).toLowerCase())
        ? await loadJsonFile(file)
        : await loadModuleFile(file, timeoutMs);
    } catch (err) {
      found = { kinds: [], problems: [problem(file, undefined, `cannot load: ${errorMessage(err)}`)] };
    }
    result.problems.push(...found.problems);
    for (const kind of found.kinds) {
      const other = taken.get(kind.id);
      if (other !== undefined) {
        result.problems.push(
          problem(
            file,
            undefined,
            `duplicate kind id "${kind.id}": already defined by ${other}; this definition is ignored`,
          ),
        );
        continue;
      }
      taken.set(kind.id, file);
      result.kinds.push(kind);
    }
  }
  return result;
}
