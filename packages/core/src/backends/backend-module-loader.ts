import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import type { BackendDefinition } from './backend.js';

/** A backend definition and where it came from: `builtin`, `code`, or the module's absolute path. */
export interface SourcedDefinition {
  definition: BackendDefinition;
  source: string;
}

export interface LoadBackendModulesOptions {
  /** Relative module paths and package names resolve from here; defaults to `process.cwd()`. */
  cwd?: string;
  /** How long one module may take to load; defaults to 30 seconds. */
  timeoutMs?: number;
}

const definitionIdPattern = /^[a-z][a-z0-9-]{0,62}$/;
const capabilityNames = ['versioning', 'listing', 'labels', 'envelope'] as const;

/**
 * Loads custom backend definitions from modules (ZenML's custom secrets store, OpenMetadata's
 * provider factory): each module default-exports a definition made with `defineBackend` (or an
 * array of them). Paths may be absolute, relative to `cwd`, `file:` URLs, or package names;
 * JavaScript modules load with Node's own `import()`, TypeScript modules through tsx. Every
 * problem with every module is reported at once as `invalid_config`, each issue naming
 * `backendModules.<index>` and the module's path.
 *
 * @example
 * const loaded = await loadBackendModules(['./coffer/acme-vault-backend.ts']);
 */
export async function loadBackendModules(
  specifiers: readonly string[],
  options: LoadBackendModulesOptions = {},
): Promise<SourcedDefinition[]> {
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const issues: FieldIssue[] = [];
  const loaded: SourcedDefinition[] = [];
  for (const [index, specifier] of specifiers.entries()) {
    const at = `backendModules.${index}`;
    const path = resolveModule(specifier, cwd);
    if (path === null) {
      issues.push({ path: at, message: `module ${specifier} cannot be found from ${cwd}` });
      continue;
    }
    const found = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!found) {
      issues.push({ path: at, message: `module ${path} does not exist` });
      continue;
    }
    let namespace: unknown;
    try {
      namespace = await withTimeout(importModule(path), timeoutMs, `loading ${path}`);
    } catch (err) {
      issues.push({ path: at, message: `module ${path} failed to load: ${messageOf(err)}` });
      continue;
    }
    const exported = exportedDefinitions(namespace);
    if (exported.length === 0) {
      issues.push({
        path: at,
        message: `module ${path} exports no backend definition (export default defineBackend({ ... }))`,
      });
      continue;
    }
    for (const [i, candidate] of exported.entries()) {
      const where = exported.length === 1 ? '' : `[${i}] `;
      const problems = definitionProblems(candidate);
      if (problems.length > 0) {
        for (const p of problems) issues.push({ path: at, message: `module ${path}: ${where}${p}` });
        continue;
      }
      loaded.push({ definition: candidate as BackendDefinition, source: path });
    }
  }
  if (issues.length > 0) {
    throw new CofferError(
      'invalid_config',
      `invalid backend modules: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  return loaded;
}

/**
 * Where a store package (see `storePackages`) is installed: looked up from the working
 * directory like an operator's module, then from Coffer's own installation; null when it is not.
 */
export function resolveStorePackage(packageName: string, cwd: string = process.cwd()): string | null {
  const fromCwd = resolveModule(packageName, cwd);
  if (fromCwd !== null) return fromCwd;
  try {
    return createRequire(import.meta.url).resolve(packageName);
  } catch {
    return null;
  }
}

function resolveModule(specifier: string, cwd: string): string | null {
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (isAbsolute(specifier) || specifier.startsWith('.')) return resolve(cwd, specifier);
  try {
    // A package name: resolved like the operator's own code would, from their directory.
    return createRequire(join(cwd, 'package.json')).resolve(specifier);
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeDefinition(value: unknown): boolean {
  return isRecord(value) && typeof value.create === 'function' && 'id' in value;
}

/** The default export (a definition or an array of them), else every named export that looks like one. */
function exportedDefinitions(namespace: unknown): unknown[] {
  if (!isRecord(namespace)) return [];
  let value: unknown = namespace.default;
  // tsx hands a CommonJS-shaped module back as { default: { default: ... } }.
  for (
    let depth = 0;
    depth < 2 && isRecord(value) && !looksLikeDefinition(value) && 'default' in value;
    depth++
  ) {
    value = value.default;
  }
  if (Array.isArray(value)) return value;
  if (value !== undefined) return [value];
  return Object.values(namespace).filter(looksLikeDefinition);
}

/** What is wrong with an exported definition, one message per field. */
export function definitionProblems(candidate: unknown): string[] {
  if (!isRecord(candidate)) return ['the export is not a backend definition object'];
  const problems: string[] = [];
  if (typeof candidate.id !== 'string' || !definitionIdPattern.test(candidate.id)) {
    problems.push('id must be lowercase letters, digits and "-", starting with a letter');
  }
  if (typeof candidate.displayName !== 'string' || candidate.displayName.trim() === '') {
    problems.push('displayName must be a non-empty string');
  }
  if (typeof candidate.description !== 'string') problems.push('description must be a string');
  const schema = candidate.configSchema as { safeParse?: unknown } | undefined;
  if (!isRecord(schema) || typeof schema.safeParse !== 'function') {
    problems.push('configSchema must be a zod schema');
  }
  if (!isRecord(candidate.capabilities)) {
    problems.push(`capabilities must be an object with ${capabilityNames.join(', ')}`);
  } else {
    for (const name of capabilityNames) {
      if (typeof candidate.capabilities[name] !== 'boolean') {
        problems.push(`capabilities.${name} must be true or false`);
      }
    }
  }
  if (typeof candidate.create !== 'function') problems.push('create must be a function');
  return problems;
}

/**
 * A JavaScript module loads with Node's own `import()`: it shares the process's modules
 * (`@coffer/core`, zod, a vendor SDK already loaded) and costs what its own code costs. Our
 * store packages are such modules. A TypeScript module, or a JavaScript one Node cannot load by
 * itself (one that imports TypeScript, say), loads through tsx, which gives it a module graph of
 * its own: every package it imports, `@coffer/core` included, is loaded and evaluated again.
 * For the six store packages that took 3.1 s instead of 0.9 s here (docs/performance.md,
 * "Store packages load without tsx"). Node keeps a module it loaded: loading the same
 * JavaScript file again in one process gives the definitions of its first load.
 */
async function importModule(path: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  if (/\.[cm]?js$/i.test(path)) {
    try {
      return await import(url);
    } catch (err) {
      // Only what tsx can load and Node cannot: such errors come before the module's code runs.
      // A module that threw while running reports its own error, and does not run twice.
      if (!nodeCannotLoad(err)) throw err;
    }
  }
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, { parentURL: import.meta.url, tsconfig: false });
}

/**
 * Node refused the module before running it, in a way tsx may not: a TypeScript import, an
 * import written for TypeScript's resolution (`./x.js` for `./x.ts`), ESM syntax in a CommonJS
 * file, or a syntax only TypeScript knows.
 */
function nodeCannotLoad(err: unknown): boolean {
  if (err instanceof SyntaxError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ERR_UNKNOWN_FILE_EXTENSION' ||
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'ERR_UNSUPPORTED_DIR_IMPORT' ||
    code === 'ERR_REQUIRE_ESM'
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
