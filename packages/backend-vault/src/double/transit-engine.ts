import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EngineAnswer } from './kv-engine.js';

/**
 * The Transit secrets engine for `aes256-gcm96` keys: named keys with versions (create, read,
 * list, rotate, config with `min_decryption_version` / `min_encryption_version` /
 * `deletion_allowed`, delete), `encrypt` (creating a missing key, as Vault's upsert does),
 * `decrypt` and `rewrap`, single items or `batch_input`. Ciphertexts are Vault's:
 * `vault:v<version>:` and base64 of nonce (12 bytes), ciphertext and GCM tag; the key material of
 * each version is held in memory by the double.
 */

interface TransitKey {
  name: string;
  versions: Map<number, { key: Buffer; created: number }>;
  latest: number;
  minDecryption: number;
  minEncryption: number;
  deletionAllowed: boolean;
  exportable: boolean;
}

class UserError extends Error {}

function encryptWith(key: TransitKey, version: number, plaintext: Buffer): string {
  const material = key.versions.get(version)!.key;
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', material, nonce);
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `vault:v${version}:${sealed.toString('base64')}`;
}

function decryptWith(key: TransitKey, ciphertext: string): { plaintext: Buffer; version: number } {
  if (typeof ciphertext !== 'string' || !ciphertext.startsWith('vault:'))
    throw new UserError('invalid ciphertext: no prefix');
  const parts = ciphertext.split(':');
  if (parts.length !== 3) throw new UserError('invalid ciphertext: wrong number of fields');
  const match = /^v([0-9]+)$/.exec(parts[1]!);
  if (match === null) throw new UserError('invalid ciphertext: version number could not be decoded');
  const version = Number(match[1]);
  if (version < key.minDecryption)
    throw new UserError('ciphertext or signature version is disallowed by policy (too old)');
  if (version > key.latest) throw new UserError('invalid ciphertext: version is too new');
  const material = key.versions.get(version);
  if (material === undefined) throw new UserError('invalid ciphertext: key version not found');
  const raw = Buffer.from(parts[2]!, 'base64');
  if (raw.length < 12 + 16) throw new UserError('invalid ciphertext: unable to decrypt');
  const decipher = createDecipheriv('aes-256-gcm', material.key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return {
      plaintext: Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]),
      version,
    };
  } catch {
    throw new UserError('cipher: message authentication failed');
  }
}

function decodeBase64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new UserError(`illegal base64 data in ${what}`);
  }
  return Buffer.from(value, 'base64');
}

export class TransitEngine {
  readonly #keys = new Map<string, TransitKey>();

  exists(name: string): boolean {
    return this.#keys.has(name);
  }

  #info(key: TransitKey): Record<string, unknown> {
    const keys: Record<string, number> = {};
    for (const [n, v] of key.versions) if (n >= key.minDecryption) keys[String(n)] = v.created;
    return {
      allow_plaintext_backup: false,
      auto_rotate_period: 0,
      deletion_allowed: key.deletionAllowed,
      derived: false,
      exportable: key.exportable,
      imported_key: false,
      keys,
      latest_version: key.latest,
      min_available_version: 0,
      min_decryption_version: key.minDecryption,
      min_encryption_version: key.minEncryption,
      name: key.name,
      supports_decryption: true,
      supports_derivation: true,
      supports_encryption: true,
      supports_signing: false,
      type: 'aes256-gcm96',
    };
  }

  #create(name: string): TransitKey {
    const key: TransitKey = {
      name,
      versions: new Map([[1, { key: randomBytes(32), created: Math.floor(Date.now() / 1000) }]]),
      latest: 1,
      minDecryption: 1,
      minEncryption: 0,
      deletionAllowed: false,
      exportable: false,
    };
    this.#keys.set(name, key);
    return key;
  }

  createKey(name: string, body: Record<string, unknown>): EngineAnswer {
    const type = body.type ?? 'aes256-gcm96';
    if (type !== 'aes256-gcm96') return { status: 400, errors: [`unknown key type: ${String(type)}`] };
    const key = this.#keys.get(name) ?? this.#create(name);
    if (body.exportable === true) key.exportable = true;
    return { status: 200, data: this.#info(key) };
  }

  readKey(name: string): EngineAnswer {
    const key = this.#keys.get(name);
    return key === undefined ? { status: 404 } : { status: 200, data: this.#info(key) };
  }

  listKeys(): EngineAnswer {
    if (this.#keys.size === 0) return { status: 404 };
    return { status: 200, data: { keys: [...this.#keys.keys()].sort() } };
  }

  deleteKey(name: string): EngineAnswer {
    const key = this.#keys.get(name);
    if (key === undefined) return { status: 204 };
    if (!key.deletionAllowed) return { status: 400, errors: ['deletion is not allowed for this key'] };
    this.#keys.delete(name);
    return { status: 204 };
  }

  rotate(name: string): EngineAnswer {
    const key = this.#keys.get(name);
    if (key === undefined) return { status: 400, errors: ['key not found'] };
    key.latest++;
    key.versions.set(key.latest, { key: randomBytes(32), created: Math.floor(Date.now() / 1000) });
    return { status: 200, data: this.#info(key) };
  }

  configure(name: string, body: Record<string, unknown>): EngineAnswer {
    const key = this.#keys.get(name);
    if (key === undefined) return { status: 400, errors: [`no existing key named ${name} could be found`] };
    if (body.min_decryption_version !== undefined) {
      const n = Number(body.min_decryption_version);
      if (!Number.isInteger(n) || n < 0) return { status: 400, errors: ['invalid min_decryption_version'] };
      if (n > key.latest)
        return {
          status: 400,
          errors: ['cannot set min decryption version to a value greater than the latest version'],
        };
      if (n > 0) key.minDecryption = n;
    }
    if (body.min_encryption_version !== undefined) {
      const n = Number(body.min_encryption_version);
      if (!Number.isInteger(n) || n < 0) return { status: 400, errors: ['invalid min_encryption_version'] };
      if (n > key.latest)
        return {
          status: 400,
          errors: ['cannot set min encryption version to a value greater than the latest version'],
        };
      key.minEncryption = n;
    }
    if (key.minEncryption > 0 && key.minEncryption < key.minDecryption) {
      return {
        status: 400,
        errors: ['min decryption version should not be less then min available version'],
      };
    }
    if (body.deletion_allowed !== undefined) key.deletionAllowed = body.deletion_allowed === true;
    if (body.exportable === true) key.exportable = true;
    return { status: 200, data: this.#info(key) };
  }

  #encryptVersion(key: TransitKey, requested: unknown): number {
    const n = requested === undefined || requested === null ? 0 : Number(requested);
    if (!Number.isInteger(n) || n < 0) throw new UserError('invalid key version');
    if (n === 0) return key.latest;
    if (n > key.latest)
      throw new UserError('requested version for encryption is greater than the latest key version');
    if (n < key.minEncryption)
      throw new UserError('requested version for encryption is less than the minimum encryption key version');
    return n;
  }

  /** POST encrypt/<name>; `create` says whether the caller may create a missing key. */
  encrypt(name: string, body: Record<string, unknown>, create: boolean): EngineAnswer {
    let key = this.#keys.get(name);
    if (key === undefined) {
      if (!create) return { status: 400, errors: ['encryption key not found'] };
      if ((body.type ?? 'aes256-gcm96') !== 'aes256-gcm96')
        return { status: 400, errors: [`unknown key type ${String(body.type)}`] };
      key = this.#create(name);
    }
    const k = key;
    return this.#items(
      body,
      (item) => {
        const version = this.#encryptVersion(k, item.key_version);
        return {
          ciphertext: encryptWith(k, version, decodeBase64(item.plaintext, 'plaintext')),
          key_version: version,
        };
      },
      'plaintext',
      'missing plaintext to encrypt',
    );
  }

  decrypt(name: string, body: Record<string, unknown>): EngineAnswer {
    const key = this.#keys.get(name);
    if (key === undefined) return { status: 400, errors: ['encryption key not found'] };
    return this.#items(
      body,
      (item) => {
        const { plaintext } = decryptWith(key, item.ciphertext as string);
        return { plaintext: plaintext.toString('base64') };
      },
      'ciphertext',
      'missing ciphertext to decrypt',
    );
  }

  rewrap(name: string, body: Record<string, unknown>): EngineAnswer {
    const key = this.#keys.get(name);
    if (key === undefined) return { status: 400, errors: ['encryption key not found'] };
    return this.#items(
      body,
      (item) => {
        const { plaintext } = decryptWith(key, item.ciphertext as string);
        const version = this.#encryptVersion(key, item.key_version);
        return { ciphertext: encryptWith(key, version, plaintext), key_version: version };
      },
      'ciphertext',
      'missing ciphertext to rewrap',
    );
  }

  #items(
    body: Record<string, unknown>,
    one: (item: Record<string, unknown>) => Record<string, unknown>,
    field: string,
    missing: string,
  ): EngineAnswer {
    if (Array.isArray(body.batch_input)) {
      if (body.batch_input.length === 0) return { status: 400, errors: ['missing batch input to process'] };
      const results = body.batch_input.map((raw) => {
        try {
          return one((raw ?? {}) as Record<string, unknown>);
        } catch (err) {
          if (err instanceof UserError) return { error: err.message };
          throw err;
        }
      });
      return { status: 200, data: { batch_results: results } };
    }
    if (body[field] === undefined) return { status: 400, errors: [missing] };
    try {
      return { status: 200, data: one(body) };
    } catch (err) {
      if (err instanceof UserError) return { status: 400, errors: [err.message] };
      throw err;
    }
  }
}
