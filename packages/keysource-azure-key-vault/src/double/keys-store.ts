import {
  constants,
  generateKeyPair,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { promisify } from 'node:util';
import { badParameter, KeyVaultError, listPage, maxPageSize } from '@coffer/azure-kit/double';

/** Limits of Key Vault's keys that the double enforces, after the service's documentation. */
export const keyVaultKeyLimits = Object.freeze({
  /** Object names: 1 to 127 of `0-9`, `a-z`, `A-Z` and `-`. */
  namePattern: /^[0-9a-zA-Z-]{1,127}$/,
  /** RSA key sizes a vault makes. */
  rsaKeySizes: [2048, 3072, 4096] as readonly number[],
  /** Tags per key version. */
  maxTags: 15,
  /** Items per page of a list operation (`maxresults`); 25 is also the default. */
  maxPageSize,
});

/** The key operations a new key allows when the request names none. */
const allOperations = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];

/** The wrap algorithms the double serves on RSA keys, and the hash of their OAEP padding. */
const wrapAlgorithms: Readonly<Record<string, { padding: number; oaepHash?: string }>> = {
  'RSA-OAEP-256': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
  'RSA-OAEP': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
};

interface StoredVersion {
  version: string;
  kty: 'RSA' | 'RSA-HSM';
  publicKey: KeyObject;
  privateKey: KeyObject;
  keyOps: string[];
  enabled: boolean;
  nbf: number | undefined;
  exp: number | undefined;
  tags: Record<string, string> | undefined;
  created: number;
  updated: number;
  /** Order of creation, for "the current version" (timestamps have one-second steps). */
  sequence: number;
}

interface StoredKey {
  name: string;
  versions: Map<string, StoredVersion>;
  latest: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

// off the event loop: a 4096-bit key takes a while, and clients in the same process wait meanwhile
const generateRsa = promisify(generateKeyPair);

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function keyNotFound(nameOrId: string): KeyVaultError {
  return new KeyVaultError(
    404,
    'KeyNotFound',
    `A key with (name/id) ${nameOrId} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}

function checkName(name: string): void {
  if (!keyVaultKeyLimits.namePattern.test(name)) {
    throw badParameter(
      `The request URI contains an invalid name: ${name}. Follow this link for more information on Key Vault naming: https://aka.ms/KeyVaultNamingRules`,
    );
  }
}

function readTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badParameter('tags must be an object.');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > keyVaultKeyLimits.maxTags) {
    throw badParameter(`A key may have at most ${keyVaultKeyLimits.maxTags} tags.`);
  }
  for (const [, v] of entries) if (typeof v !== 'string') throw badParameter('Tag values must be strings.');
  return Object.fromEntries(entries) as Record<string, string>;
}

function readBase64Url(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(value) || value === '') {
    throw badParameter(`${field} must be a base64url string.`);
  }
  return Buffer.from(value, 'base64url');
}

/** The parts of a create, update or wrap request body the double reads. */
type Input = Record<string, unknown>;

/**
 * The keys of an Azure Key Vault double: RSA keys (software `RSA` or `RSA-HSM`) with their
 * versions, made with node:crypto; `wrapkey`/`unwrapkey` with RSA-OAEP-256 (and RSA-OAEP), new
 * versions by `create` again or `rotate`, attributes (enabled, nbf, exp) and allowed key
 * operations per version, `nextLink` paging. The private keys never leave the double.
 *
 * @example
 * const keys = new KeyVaultKeyStore();
 * keys.vaultUrl = 'https://127.0.0.1:8443';
 * keys.createKey('coffer', { kty: 'RSA', key_size: 2048 });
 */
export class KeyVaultKeyStore {
  /** The vault's URL, set once the server listens; key ids start with it. */
  vaultUrl = '';
  readonly #keys = new Map<string, StoredKey>();
  #sequence = 0;

  async createKey(name: string, input: Input): Promise<object> {
    checkName(name);
    const kty = input.kty;
    if (kty !== 'RSA' && kty !== 'RSA-HSM') {
      throw badParameter(`The double makes RSA keys only (kty RSA or RSA-HSM), not ${String(kty)}.`);
    }
    const size = input.key_size ?? 2048;
    if (typeof size !== 'number' || !keyVaultKeyLimits.rsaKeySizes.includes(size)) {
      throw badParameter(`Invalid key size ${String(size)}: use 2048, 3072 or 4096.`);
    }
    const ops = input.key_ops ?? allOperations;
    if (!Array.isArray(ops) || ops.some((o) => typeof o !== 'string' || !allOperations.includes(o))) {
      throw badParameter('key_ops holds an unknown key operation.');
    }
    const attributes = (input.attributes ?? {}) as Input;
    const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: size });
    const now = nowSeconds();
    const version: StoredVersion = {
      version: randomBytes(16).toString('hex'),
      kty,
      publicKey,
      privateKey,
      keyOps: [...(ops as string[])],
      enabled: attributes.enabled !== false,
      nbf: typeof attributes.nbf === 'number' ? attributes.nbf : undefined,
      exp: typeof attributes.exp === 'number' ? attributes.exp : undefined,
      tags: readTags(input.tags),
      created: now,
      updated: now,
      sequence: ++this.#sequence,
    };
    const key = this.#keys.get(name.toLowerCase()) ?? { name, versions: new Map(), latest: '' };
    key.versions.set(version.version, version);
    key.latest = version.version;
    this.#keys.set(name.toLowerCase(), key);
    return this.#bundle(key, version);
  }

  /** `rotate`: a new version with the current version's type, size and key operations. */
  rotateKey(name: string): Promise<object> {
    const key = this.#key(name);
    const current = key.versions.get(key.latest)!;
    const size = current.publicKey.asymmetricKeyDetails?.modulusLength ?? 2048;
    return this.createKey(key.name, {
      kty: current.kty,
      key_size: size,
      key_ops: current.keyOps,
      ...(current.tags === undefined ? {} : { tags: current.tags }),
    });
  }

  getKey(name: string, version: string): object {
    const { key, stored } = this.#version(name, version);
    return this.#bundle(key, stored);
  }

  updateKey(name: string, version: string, input: Input): object {
    const { key, stored } = this.#version(name, version);
    const attributes = input.attributes;
    if (attributes !== undefined && attributes !== null) {
      if (typeof attributes !== 'object') throw badParameter('attributes must be an object.');
      const a = attributes as Input;
      if (a.enabled !== undefined) stored.enabled = a.enabled === true;
      if (a.nbf !== undefined) stored.nbf = typeof a.nbf === 'number' ? a.nbf : undefined;
      if (a.exp !== undefined) stored.exp = typeof a.exp === 'number' ? a.exp : undefined;
    }
    if (input.key_ops !== undefined) {
      const ops = input.key_ops;
      if (!Array.isArray(ops) || ops.some((o) => typeof o !== 'string' || !allOperations.includes(o))) {
        throw badParameter('key_ops holds an unknown key operation.');
      }
      stored.keyOps = [...(ops as string[])];
    }
    if (input.tags !== undefined) stored.tags = readTags(input.tags);
    stored.updated = nowSeconds();
    return this.#bundle(key, stored);
  }

  listVersions(name: string, query: URLSearchParams, apiVersion: string): object {
    const key = this.#key(name);
    const link = { vaultUrl: this.vaultUrl, path: `/keys/${key.name}/versions`, apiVersion };
    // Key Vault lists versions in the order of their ids, not by time
    const { page, nextLink } = listPage([...key.versions.keys()].sort(), query, link);
    return { value: page.map((v) => this.#item(key, key.versions.get(v)!)), nextLink };
  }

  /** `wrapkey` (`unwrap` false) or `unwrapkey` (`unwrap` true) with the version's RSA key. */
  wrap(name: string, version: string, input: Input, unwrap: boolean): object {
    const { key, stored } = this.#version(name, version);
    const operation = unwrap ? 'unwrapKey' : 'wrapKey';
    this.#usable(stored, operation);
    const algorithm = typeof input.alg === 'string' ? wrapAlgorithms[input.alg] : undefined;
    if (algorithm === undefined) throw badParameter(`Invalid algorithm ${String(input.alg)} for an RSA key.`);
    const value = readBase64Url(input.value, 'value');
    let out: Buffer;
    try {
      out = unwrap
        ? privateDecrypt({ key: stored.privateKey, ...algorithm }, value)
        : publicEncrypt({ key: stored.publicKey, ...algorithm }, value);
    } catch {
      throw badParameter(
        unwrap
          ? 'Unwrap of the key failed: the ciphertext is not valid.'
          : 'The value is too long to wrap with this key.',
      );
    }
    return { kid: this.#kid(key, stored), value: b64url(out) };
  }

  // ---- for tests: changes behind the client's back ----

  /** Enables or disables a version (the latest when `version` is empty); false when there is none. */
  setEnabled(name: string, version: string, enabled: boolean): boolean {
    const key = this.#keys.get(name.toLowerCase());
    const stored = key?.versions.get(version === '' ? (key?.latest ?? '') : version);
    if (stored === undefined) return false;
    stored.enabled = enabled;
    return true;
  }

  /** The versions of a key, oldest first. */
  versionsOf(name: string): string[] {
    const key = this.#keys.get(name.toLowerCase());
    if (key === undefined) return [];
    return [...key.versions.values()].sort((a, b) => a.sequence - b.sequence).map((v) => v.version);
  }

  #key(name: string): StoredKey {
    checkName(name);
    const key = this.#keys.get(name.toLowerCase());
    if (key === undefined) throw keyNotFound(name);
    return key;
  }

  #version(name: string, version: string): { key: StoredKey; stored: StoredVersion } {
    const key = this.#key(name);
    const stored = key.versions.get(version === '' ? key.latest : version);
    if (stored === undefined) throw keyNotFound(`${name}/${version}`);
    return { key, stored };
  }

  #usable(stored: StoredVersion, operation: string): void {
    if (!stored.enabled) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Operation "${operation}" is not allowed on a disabled key.`,
        'KeyDisabled',
      );
    }
    const now = nowSeconds();
    if ((stored.nbf !== undefined && now < stored.nbf) || (stored.exp !== undefined && now > stored.exp)) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Operation "${operation}" is not allowed on an expired or not yet valid key.`,
        'KeyExpired',
      );
    }
    if (!stored.keyOps.includes(operation)) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        `Operation "${operation}" is not permitted for this key.`,
        'KeyOperationForbidden',
      );
    }
  }

  #kid(key: StoredKey, stored: StoredVersion): string {
    return `${this.vaultUrl}/keys/${key.name}/${stored.version}`;
  }

  #attributes(stored: StoredVersion): object {
    return {
      enabled: stored.enabled,
      ...(stored.nbf === undefined ? {} : { nbf: stored.nbf }),
      ...(stored.exp === undefined ? {} : { exp: stored.exp }),
      created: stored.created,
      updated: stored.updated,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
      exportable: false,
    };
  }

  #bundle(key: StoredKey, stored: StoredVersion): object {
    const jwk = stored.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return {
      key: { kid: this.#kid(key, stored), kty: stored.kty, key_ops: stored.keyOps, n: jwk.n, e: jwk.e },
      attributes: this.#attributes(stored),
      ...(stored.tags === undefined ? {} : { tags: stored.tags }),
    };
  }

  #item(key: StoredKey, stored: StoredVersion): object {
    return {
      kid: this.#kid(key, stored),
      attributes: this.#attributes(stored),
      ...(stored.tags === undefined ? {} : { tags: stored.tags }),
    };
  }
}
