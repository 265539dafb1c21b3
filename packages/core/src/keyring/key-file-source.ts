import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import { isoNow } from '../shared/clock.js';
import { errorCode, withFileLock, writeFileAtomic } from './atomic-file.js';
import { KEY_ID_PATTERN, newKeyId } from './key-id.js';
import type { KeyMaterial, KeySource, KeySourceContext, LoadedKeys } from './key-source-types.js';
import { invalidConfig } from './keyring-errors.js';

/**
 * Settings of the key file source, the default.
 *
 * @example
 * keyFileSourceConfigSchema.parse({ source: 'file', path: '/etc/coffer/keyring.json' });
 */
export const keyFileSourceConfigSchema = z.strictObject({
  source: z.literal('file'),
  /** Path of the key file. Defaults to `<dataDir>/keyring.json`; relative paths resolve against the working directory. */
  path: z.string().min(1).optional(),
});

/** Settings of the key file source; see {@link keyFileSourceConfigSchema}. */
export type KeyFileSourceConfig = z.infer<typeof keyFileSourceConfigSchema>;

/** What the key file source needs besides its config. */
export interface KeyFileSourceOptions {
  /** Coffer's data directory; the key file defaults to `keyring.json` in it. */
  dataDir?: string;
}

/** The default name of the key file inside the data directory. */
export const KEY_FILE_NAME = 'keyring.json';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

const keyFileSchema = z
  .strictObject({
    version: z.literal(1),
    current: z.string(),
    keys: z
      .array(
        z.strictObject({
          id: z.string().regex(KEY_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 . _ -'),
          key: z.string().refine(isBase64Key, 'must be standard base64 of exactly 32 bytes'),
          createdAt: z.string().min(1),
        }),
      )
      .min(1, 'must hold at least one key'),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.keys.forEach((k, i) => {
      if (seen.has(k.id))
        ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: `duplicate key id ${k.id}` });
      seen.add(k.id);
    });
    if (!seen.has(file.current)) {
      ctx.addIssue({ code: 'custom', path: ['current'], message: 'must be the id of one of the keys' });
    }
  });

type KeyFileJson = z.infer<typeof keyFileSchema>;

/**
 * Keys kept in a JSON file beside the data, created with one random 256-bit key on first open
 * (directory 0700, file 0600). Rotation appends a key and makes it current; every write is
 * atomic and replicas sharing the file take turns through a lock file.
 *
 * @example
 * const source = keyFileSource({ source: 'file' }, { dataDir: '/var/lib/coffer' });
 * // keyring.json: { "version": 1, "current": "k-20261123-1a2b3c4d",
 * //                 "keys": [{ "id": "k-20261123-1a2b3c4d", "key": "<base64>", "createdAt": "..." }] }
 */
export function keyFileSource(config: KeyFileSourceConfig, options: KeyFileSourceOptions = {}): KeySource {
  const parsed = keyFileSourceConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw invalidConfig(fieldIssuesFromZod(parsed.error, 'keyring'));
  }
  const path = resolveKeyFilePath(parsed.data, options);
  const description = `key file ${path}`;

  return {
    status: { type: 'file', path },
    description,
    canRotate: true,

    async load(context) {
      const existing = await readKeyFile(path);
      if (existing !== undefined) {
        await warnIfLoose(path, context);
        return existing;
      }
      const created = newKey(context);
      const file: KeyFileJson = { version: 1, current: created.id, keys: [toJson(created)] };
      let written: boolean;
      try {
        await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
        written = await writeFileAtomic(path, serialize(file), { mode: FILE_MODE, exclusive: true });
      } catch (err) {
        throw writeError(path, err);
      }
      if (!written) {
        // Another process created the file between our read and our write: use its key.
        return (await readKeyFile(path)) ?? missingFile(path);
      }
      context.logger.info({ path, keyId: created.id }, `created key file ${path} with key ${created.id}`);
      return { currentId: created.id, keys: [created] };
    },

    reload() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw readError(path, err);
      }
      return parseKeyFile(text, path);
    },

    async rotate(context) {
      try {
        return await rotateLocked(context);
      } catch (err) {
        throw err instanceof CofferError ? err : writeError(path, err);
      }
    },
  };

  function rotateLocked(context: KeySourceContext): Promise<LoadedKeys> {
    return withFileLock(`${path}.lock`, async () => {
      // Read under the lock: another replica may have rotated since we loaded.
      const loaded = (await readKeyFile(path)) ?? missingFile(path);
      const added = newKey(context);
      const keys = [...loaded.keys, added];
      const file: KeyFileJson = { version: 1, current: added.id, keys: keys.map(toJson) };
      try {
        await writeFileAtomic(path, serialize(file), { mode: FILE_MODE });
      } catch (err) {
        throw writeError(path, err);
      }
      context.logger.info({ path, keyId: added.id }, `added key ${added.id} to ${path} and made it current`);
      return { currentId: added.id, keys };
    });
  }
}

/** The key file's path for a config: its `path`, or `keyring.json` in the data directory. */
export function resolveKeyFilePath(config: KeyFileSourceConfig, options: KeyFileSourceOptions = {}): string {
  if (config.path !== undefined) return resolve(config.path);
  if (options.dataDir !== undefined) return resolve(join(options.dataDir, KEY_FILE_NAME));
  throw invalidConfig([
    { path: 'keyring.path', message: 'set the key file path, or the data directory to keep it in' },
  ]);
}

function newKey(context: KeySourceContext): KeyMaterial {
  return { id: newKeyId(context.clock), key: randomBytes(32), createdAt: isoNow(context.clock) };
}

function toJson(key: KeyMaterial): KeyFileJson['keys'][number] {
  // Keys read from or made for the file always carry createdAt; the fallback only keeps the
  // file valid should that ever change.
  return {
    id: key.id,
    key: key.key.toString('base64'),
    createdAt: key.createdAt ?? new Date().toISOString(),
  };
}

function serialize(file: KeyFileJson): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

async function readKeyFile(path: string): Promise<LoadedKeys | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw readError(path, err);
  }
  return parseKeyFile(text, path);
}

/** Parses the key file. Never quotes the file: any part of it may be key material. */
export function parseKeyFile(text: string, path: string): LoadedKeys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Deliberately without the SyntaxError: V8 quotes the text around the error position.
    throw malformed(path, [{ path: '(root)', message: 'is not valid JSON' }]);
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) throw malformed(path, fieldIssuesFromZod(parsed.error));
  const file = parsed.data;
  return {
    currentId: file.current,
    keys: file.keys.map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64'), createdAt: k.createdAt })),
  };
}

function isBase64Key(value: string): boolean {
  return BASE64_KEY.test(value) && Buffer.from(value, 'base64').toString('base64') === value;
}

function malformed(path: string, issues: FieldIssue[]): CofferError {
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new CofferError('invalid_config', `key file ${path} is malformed: ${summary}`, {
    details: { file: path, issues },
  });
}

function readError(path: string, err: unknown): CofferError {
  const code = errorCode(err) ?? 'unknown error';
  return new CofferError('invalid_config', `key file ${path} cannot be read (${code})`, {
    cause: err,
    details: { file: path, issues: [{ path: 'keyring.path', message: `cannot be read (${code})` }] },
  });
}

function writeError(path: string, err: unknown): CofferError {
  const code = errorCode(err) ?? 'unknown error';
  return new CofferError('invalid_config', `key file ${path} cannot be written (${code})`, {
    cause: err,
    details: { file: path, issues: [{ path: 'keyring.path', message: `cannot be written (${code})` }] },
  });
}

function missingFile(path: string): never {
  throw new CofferError('invalid_config', `key file ${path} disappeared while Coffer was using it`, {
    details: { file: path },
  });
}

async function warnIfLoose(path: string, context: KeySourceContext): Promise<void> {
  // POSIX modes mean nothing on Windows, where access is governed by ACLs.
  if (process.platform === 'win32') return;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(4, '0');
    context.logger.warn(
      { path, mode: octal },
      `key file ${path} is accessible by other users (mode ${octal}); restrict it with: chmod 600 ${path}`,
    );
  }
}
