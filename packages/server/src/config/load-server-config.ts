import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { CofferError, type FieldIssue } from '@coffer/core';
import {
  configFileSchema,
  type EnvSetting,
  envSettings,
  otherCofferVariables,
  type ServerConfig,
} from './server-config.js';

type Env = Readonly<Record<string, string | undefined>>;
type Tree = Record<string, unknown>;

/** The variable naming the config file. */
export const configFileVariable = 'COFFER_CONFIG';

/**
 * Reads the configuration: the file named by `COFFER_CONFIG` (JSON or YAML), then `COFFER_*`
 * variables over it, validated as a whole. Every problem is reported at once as
 * `invalid_config`, each issue's `path` naming the variable or the file key, and its message
 * saying what is allowed. Unknown `COFFER_*` variables are returned as warnings.
 *
 * @example
 * const { config, warnings } = loadServerConfig(process.env);
 */
export function loadServerConfig(environment: Env): { config: ServerConfig; warnings: string[] } {
  const issues: FieldIssue[] = [];
  const fileName = environment[configFileVariable];
  let tree: Tree = {};
  let file: string | undefined;
  if (fileName !== undefined && fileName !== '') {
    file = resolve(fileName);
    const loaded = readConfigFile(file);
    if (typeof loaded === 'string') issues.push({ path: configFileVariable, message: loaded });
    else tree = loaded;
  }

  const setVariables = new Map<string, EnvSetting>();
  for (const setting of envSettings) {
    const raw = environment[setting.variable];
    if (raw === undefined || raw === '') continue;
    setVariables.set(setting.path.join('.'), setting);
    setAt(tree, setting.path, convert(raw, setting.type));
  }
  inferKeyringSource(tree);

  const nameOf = (path: string): string => {
    const fromEnv = setVariables.get(path);
    if (fromEnv !== undefined) return fromEnv.variable;
    const variable = envSettings.find((s) => s.path.join('.') === path)?.variable;
    if (file !== undefined) return `${file}: ${path}${variable === undefined ? '' : ` (or ${variable})`}`;
    return variable ?? path;
  };

  const result = configFileSchema.safeParse(tree);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const where = file === undefined ? 'configuration' : path === '' ? file : `${file}: ${path}`;
        issues.push({ path: where, message: `unknown key(s): ${issue.keys.join(', ')}` });
        continue;
      }
      const fromEnv = setVariables.get(path);
      const quoted =
        fromEnv !== undefined && fromEnv.sensitivity === 'plain'
          ? ` (got ${JSON.stringify(environment[fromEnv.variable]!.slice(0, 100))})`
          : '';
      issues.push({ path: nameOf(path === '' ? '(root)' : path), message: `${messageOf(issue)}${quoted}` });
    }
  }
  if (result.success && result.data.server.sso?.clientSecretFile !== undefined) {
    const path = result.data.server.sso.clientSecretFile;
    try {
      // The file's content is the secret: never quoted back, only the file and why it failed.
      const secret = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      if (secret === '')
        issues.push({ path: nameOf('server.sso.clientSecretFile'), message: `${resolve(path)} is empty` });
      result.data.server.sso = {
        ...result.data.server.sso,
        clientSecret: secret,
        clientSecretFile: undefined,
      };
    } catch (err) {
      issues.push({
        path: nameOf('server.sso.clientSecretFile'),
        message: `cannot read ${resolve(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      });
    }
  }
  if (result.success && result.data.server.tls !== undefined) {
    for (const part of ['cert', 'key'] as const) {
      const path = result.data.server.tls[part];
      try {
        readFileSync(path);
      } catch (err) {
        issues.push({
          path: nameOf(`server.tls.${part}`),
          message: `cannot read ${resolve(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        });
      }
    }
  }
  if (issues.length > 0 || !result.success) {
    throw new CofferError(
      'invalid_config',
      `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { details: { issues } },
    );
  }

  const known = new Set([...envSettings.map((s) => s.variable), ...otherCofferVariables]);
  const keyVariable = result.data.keyring.source === 'env' ? result.data.keyring.variable : undefined;
  const warnings = Object.keys(environment)
    .filter((name) => name.startsWith('COFFER_') && !name.startsWith('COFFER_TEST_'))
    .filter((name) => !known.has(name) && name !== keyVariable)
    .map((name) => `${name} is not a Coffer setting and is ignored (see docs/server.md)`);

  const { server, ...core } = result.data;
  return { config: { core, server, ...(file === undefined ? {} : { file }) }, warnings };
}

/**
 * The YAML parser, loaded when a YAML file is read: ~1 MiB of heap that a server configured by
 * variables or JSON would otherwise hold for good (docs/performance.md, "Idle RSS").
 */
function parseYaml(text: string, options: import('yaml').ParseOptions): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text, options);
}

function readConfigFile(file: string): Tree | string {
  const extension = extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(extension)) {
    return `${file} must end in .json, .yaml or .yml`;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  let parsed: unknown;
  // Parser messages quote the offending text, which may be a password: report the position only.
  if (extension === '.json') {
    try {
      parsed = JSON.parse(text);
    } catch {
      return `${file} is not valid JSON`;
    }
  } else {
    try {
      parsed = parseYaml(text, { prettyErrors: false });
    } catch (err) {
      const line = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
      return `${file} is not valid YAML${line === undefined ? '' : ` (line ${line.line}, column ${line.col})`}`;
    }
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return `${file} must hold an object of settings`;
  return parsed as Tree;
}

/** Environment strings as the schema's types; a string that does not convert is left for the schema to reject. */
function convert(raw: string, type: EnvSetting['type']): unknown {
  const text = raw.trim();
  switch (type) {
    case 'integer':
      return /^-?\d+$/.test(text) ? Number(text) : raw;
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : raw;
    case 'boolean':
      if (['true', '1', 'yes', 'on'].includes(text.toLowerCase())) return true;
      if (['false', '0', 'no', 'off'].includes(text.toLowerCase())) return false;
      return raw;
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'map': {
      const map: Record<string, string | string[]> = {};
      for (const pair of text.split(',')) {
        const eq = pair.lastIndexOf('=');
        // Not a pair: left as text for the schema to refuse, naming the variable.
        if (eq <= 0) return raw;
        const key = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        const known = map[key];
        map[key] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
      }
      return map;
    }
    case 'string':
      return raw;
  }
}

function setAt(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path.at(-1)!] = value;
}

/** `COFFER_KEY_FILE` alone means the file source, `COFFER_KEY_VARIABLE` alone the env source. */
function inferKeyringSource(tree: Tree): void {
  const keyring = tree.keyring;
  if (keyring === null || typeof keyring !== 'object' || Array.isArray(keyring)) return;
  const k = keyring as Tree;
  if (k.source !== undefined) return;
  if (k.variable !== undefined) k.source = 'env';
  else if (k.path !== undefined) k.source = 'file';
}

function messageOf(issue: { code: string; message: string; expected?: unknown }): string {
  // zod's generic type message for a missing setting reads better as "is required".
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return 'is required';
  return issue.message;
}
