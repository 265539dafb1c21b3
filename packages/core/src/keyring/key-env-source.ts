import { scrypt } from 'node:crypto';
import { z } from 'zod';
import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import { fingerprintKeyId, isKeyId } from './key-id.js';
import type { KeyMaterial, KeySource, KeySourceContext, LoadedKeys } from './key-source-types.js';
import { invalidConfig } from './keyring-errors.js';

/** The variable the env source reads unless told otherwise. */
export const DEFAULT_KEY_VARIABLE = 'COFFER_MASTER_KEY';

/**
 * Settings of the environment variable source.
 *
 * @example
 * keyEnvSourceConfigSchema.parse({ source: 'env', variable: 'MY_COFFER_KEY' });
 */
export const keyEnvSourceConfigSchema = z.strictObject({
  source: z.literal('env'),
  /** Name of the variable holding the key(s). */
  variable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .default(DEFAULT_KEY_VARIABLE),
});

/** Settings of the environment variable source; `variable` defaults to `COFFER_MASTER_KEY`. */
export type KeyEnvSourceConfig = z.input<typeof keyEnvSourceConfigSchema>;

/** What the env source needs besides its config. */
export interface KeyEnvSourceOptions {
  /** The environment to read; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * How a passphrase becomes a 256-bit key: scrypt with N = 2^17, r = 8, p = 1 (128 MiB, a few
 * hundred milliseconds once per start; OWASP's recommendation for scrypt) and a fixed salt.
 * The salt cannot be random: nothing but the variable survives a restart, and the same
 * passphrase must give the same key on every start and every replica. A fixed Coffer-specific
 * salt still defeats precomputed tables built for other systems; a random base64 key avoids
 * the question altogether and is what the docs recommend.
 */
export const PASSPHRASE_KDF = {
  algorithm: 'scrypt',
  N: 2 ** 17,
  r: 8,
  p: 1,
  keyLength: 32,
  salt: 'coffer/keyring/env-passphrase/v1',
} as const;

/** Passphrases shorter than this are refused: scrypt slows guessing, it cannot make 8 characters strong. */
export const MIN_PASSPHRASE_LENGTH = 16;

const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;
const LOOKS_LIKE_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;
// `id=KEY`, but not base64 padding: `abcd==` is a bare value, and its prefix must never be
// mistaken for (and printed as) a key id.
const ID_ENTRY = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})=(?!=*$)(.+)$/s;

/**
 * Keys from an environment variable, for deployments that inject secrets through the
 * environment (containers, systemd credentials). The variable holds one key, or several
 * comma-separated `id=KEY` entries of which the first is current. KEY is standard base64 of
 * exactly 32 bytes (44 characters ending in `=`, as `openssl rand -base64 32` prints), or else
 * a passphrase of at least 16 characters, stretched with scrypt ({@link PASSPHRASE_KDF}).
 * An entry without `id=` gets `env-<12 hex>`, a fingerprint of the key, stable across restarts.
 * Coffer cannot change the environment, so `rotate()` throws `unsupported`.
 *
 * @example
 * // COFFER_MASTER_KEY="k2=Zm9v...=,k1=YmFy...="
 * const source = keyEnvSource({ source: 'env' });
 */
export function keyEnvSource(config: KeyEnvSourceConfig, options: KeyEnvSourceOptions = {}): KeySource {
  const parsed = keyEnvSourceConfigSchema.safeParse(config);
  if (!parsed.success) throw invalidConfig(fieldIssuesFromZod(parsed.error, 'keyring'));
  const { variable } = parsed.data;
  const env = options.env ?? process.env;
  const description = `environment variable ${variable}`;

  return {
    status: { type: 'env', variable },
    description,
    canRotate: false,

    async load(context) {
      return parseKeyVariable(env[variable], variable, context);
    },

    // No reload: a process's environment cannot be changed from outside, so reading it again
    // could never find a key that another replica added.

    async rotate() {
      throw new CofferError(
        'unsupported',
        `keys from ${description} cannot be rotated by Coffer: put a new key first in ${variable} ` +
          `("new-id=NEWKEY,<the current entries>"), restart every replica, then re-wrap the stored values; ` +
          'remove the old entry only once no value references its key',
        { details: { source: 'env', variable } },
      );
    },
  };
}

/**
 * Parses the variable's value into keys, deriving passphrase keys with scrypt. Errors name the
 * entry by position (and id, when it has one), never by content.
 */
async function parseKeyVariable(
  raw: string | undefined,
  variable: string,
  context: KeySourceContext,
): Promise<LoadedKeys> {
  const setting = `env.${variable}`;
  if (raw === undefined || raw.trim() === '') {
    throw invalidConfig(
      [{ path: setting, message: 'is not set' }],
      `environment variable ${variable} is not set: set it to a key (openssl rand -base64 32) ` +
        `or a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
  const entries = raw.split(',').map((e) => e.trim());
  // Entries are named by position only: if a passphrase containing `=` was read as `id=KEY`,
  // its "id" is a piece of the passphrase and must not be printed.
  const where = (position: number) => (entries.length === 1 ? 'the value' : `entry ${position}`);
  const issues: FieldIssue[] = [];
  const pending: { id?: string; secret: string; position: number }[] = [];
  entries.forEach((entry, index) => {
    const position = index + 1;
    const named = ID_ENTRY.exec(entry);
    const parsed =
      named !== null && isKeyId(named[1]!) ? { id: named[1]!, secret: named[2]!.trim() } : { secret: entry };
    if (entry === '') {
      issues.push({ path: setting, message: `${where(position)} is empty` });
    } else if (!BASE64_KEY.test(parsed.secret) && [...parsed.secret].length < MIN_PASSPHRASE_LENGTH) {
      issues.push({
        path: setting,
        message: `${where(position)} is neither a base64 key of 32 bytes nor a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`,
      });
    } else {
      pending.push({ ...parsed, position });
    }
  });
  if (issues.length > 0)
    throw invalidConfig(issues, `${variable}: ${issues.map((i) => i.message).join('; ')}`);

  const keys: KeyMaterial[] = [];
  // One at a time: each scrypt derivation takes 128 MiB.
  for (const p of pending) {
    let material = base64Key(p.secret);
    if (material === undefined) {
      if (LOOKS_LIKE_BASE64.test(p.secret)) {
        // Probably a key of the wrong size (openssl rand -base64 16); still a fine passphrase,
        // but the operator should know it is not being used as the key they think it is.
        context.logger.warn(
          { variable, entry: p.position },
          `${variable} entry ${p.position} looks like base64 but not of 32 bytes; it is used as a passphrase`,
        );
      }
      material = await derivePassphraseKey(p.secret);
    }
    keys.push({ id: p.id ?? fingerprintKeyId(material), key: material });
  }

  const seen = new Map<string, number>();
  keys.forEach((k, i) => {
    const position = pending[i]!.position;
    const first = seen.get(k.id);
    if (first !== undefined) {
      issues.push({ path: setting, message: `entries ${first} and ${position} have the same key id` });
    }
    seen.set(k.id, position);
  });
  if (issues.length > 0)
    throw invalidConfig(issues, `${variable}: ${issues.map((i) => i.message).join('; ')}`);
  return { currentId: keys[0]!.id, keys };
}

/** The key when `secret` is canonical standard base64 of 32 bytes. */
function base64Key(secret: string): Buffer | undefined {
  if (!BASE64_KEY.test(secret)) return undefined;
  const key = Buffer.from(secret, 'base64');
  return key.length === 32 && key.toString('base64') === secret ? key : undefined;
}

/**
 * Stretches a passphrase into a 256-bit key with {@link PASSPHRASE_KDF}. NFC normalization makes
 * the same passphrase typed on different systems give the same key.
 *
 * @example
 * const key = await derivePassphraseKey('correct horse battery staple');
 */
export function derivePassphraseKey(passphrase: string): Promise<Buffer> {
  const { N, r, p, keyLength, salt } = PASSPHRASE_KDF;
  return new Promise((resolve, reject) => {
    scrypt(
      passphrase.normalize('NFC'),
      salt,
      keyLength,
      { N, r, p, maxmem: 256 * 1024 * 1024 },
      (err, key) => (err === null ? resolve(key) : reject(err)),
    );
  });
}
