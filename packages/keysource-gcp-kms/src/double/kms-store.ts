import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { crc32c } from '@coffer/gcp-kit';
import { GoogleApiError } from '@coffer/gcp-kit/double';

/** Documented limits of Cloud KMS that the double enforces. */
export const cloudKmsLimits = Object.freeze({
  /** Bytes of plaintext `encrypt` takes (64 KiB). */
  maxPlaintextBytes: 65_536,
  /** Bytes of additional authenticated data `encrypt` and `decrypt` take (64 KiB). */
  maxAadBytes: 65_536,
  /** Bytes of ciphertext `decrypt` takes (plaintext limit plus overhead). */
  maxCiphertextBytes: 65_536 + 800,
  /** Key ring and key ids: letters, digits, `_` and `-`, 1 to 63. */
  idPattern: /^[a-zA-Z0-9_-]{1,63}$/,
  /** Versions a `list` page holds at most. */
  maxPageSize: 1000,
});

/** Enum numbers of the Cloud KMS v1 protos, for answers with `$alt=json;enum-encoding=int`. */
const enumNumbers: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  state: {
    CRYPTO_KEY_VERSION_STATE_UNSPECIFIED: 0,
    ENABLED: 1,
    DISABLED: 2,
    DESTROYED: 3,
    DESTROY_SCHEDULED: 4,
    PENDING_GENERATION: 5,
  },
  purpose: { CRYPTO_KEY_PURPOSE_UNSPECIFIED: 0, ENCRYPT_DECRYPT: 1 },
  protectionLevel: { PROTECTION_LEVEL_UNSPECIFIED: 0, SOFTWARE: 1, HSM: 2 },
  algorithm: { CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED: 0, GOOGLE_SYMMETRIC_ENCRYPTION: 1 },
};

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED' | 'DESTROY_SCHEDULED';

interface Version {
  id: number;
  material: Buffer;
  state: VersionState;
  createTime: string;
  destroyTime: string | undefined;
  destroyEventTime: string | undefined;
}

interface CryptoKey {
  name: string;
  createTime: string;
  labels: Record<string, string>;
  protectionLevel: 'SOFTWARE' | 'HSM';
  destroyScheduledDuration: string;
  rotationPeriod: string | undefined;
  nextRotationTime: string | undefined;
  versions: Version[];
  primary: number | undefined;
}

/** How an answer encodes enums: names, or the proto numbers google-gax's REST transport asks for. */
export interface AnswerOptions {
  intEnums: boolean;
}

type Json = Record<string, unknown>;

/** The double's own ciphertext layout: `GKD1`, version id (4 bytes), IV, tag, data. */
const magic = Buffer.from('GKD1', 'ascii');
const headerBytes = magic.length + 4;

function invalid(message: string): GoogleApiError {
  return new GoogleApiError('INVALID_ARGUMENT', message);
}

function readBytes(input: Json, field: string, required: boolean, max: number): Buffer | undefined {
  const value = input[field];
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(`${field} is required.`);
    return undefined;
  }
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
    throw invalid(`Invalid value at '${field}' (TYPE_BYTES), Base64 decoding failed.`);
  }
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length > max) throw invalid(`The ${field} is too large: at most ${max} bytes.`);
  return bytes;
}

/** An int64 wrapper (`google.protobuf.Int64Value`), which JSON carries as a string or a number. */
function readInt64(input: Json, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalid(`Invalid value at '${field}' (TYPE_INT64), "${String(value)}"`);
  }
  return n;
}

function checkCrc(data: Buffer, given: number | undefined, field: string, dataField: string): boolean {
  if (given === undefined) return false;
  if (crc32c(data) !== given) {
    throw invalid(`The checksum in field ${field} did not match the data in field ${dataField}.`);
  }
  return true;
}

function now(): string {
  return new Date().toISOString();
}

function durationSeconds(text: string): number {
  return Number(/^([0-9]+(?:\.[0-9]+)?)s$/.exec(text)?.[1] ?? 0);
}

/**
 * The state of a Cloud KMS double: key rings, symmetric ENCRYPT_DECRYPT keys and their versions
 * (ENABLED, DISABLED, DESTROY_SCHEDULED, DESTROYED), the primary version, and the methods Coffer
 * and an operator use, answering as Cloud KMS documents (the ciphertext format is the double's
 * own and opaque, but like Cloud KMS's it names the version that made it, decrypts on the key
 * whatever the primary, and fails unless the additional authenticated data is exactly the same).
 *
 * @example
 * const store = new CloudKmsStore('coffer-double', '123456789012');
 * store.createKeyRing('projects/coffer-double/locations/global', 'coffer');
 */
export class CloudKmsStore {
  readonly #rings = new Map<string, { createTime: string }>();
  readonly #keys = new Map<string, CryptoKey>();

  constructor(
    readonly projectId: string,
    readonly projectNumber: string,
  ) {}

  /** A resource name with the project number replaced by the project id. */
  canonical(name: string): string {
    return name.replace(/^projects\/([^/]+)/, (whole, project: string) =>
      project === this.projectNumber ? `projects/${this.projectId}` : whole,
    );
  }

  createKeyRing(parent: string, keyRingId: string | undefined): Json {
    if (keyRingId === undefined || !cloudKmsLimits.idPattern.test(keyRingId)) {
      throw invalid('keyRingId must match [a-zA-Z0-9_-]{1,63}.');
    }
    const name = `${this.canonical(parent)}/keyRings/${keyRingId}`;
    if (this.#rings.has(name)) throw new GoogleApiError('ALREADY_EXISTS', `KeyRing ${name} already exists.`);
    const ring = { createTime: now() };
    this.#rings.set(name, ring);
    return { name, createTime: ring.createTime };
  }

  getKeyRing(name: string): Json {
    const ring = this.#rings.get(this.canonical(name));
    if (ring === undefined) throw new GoogleApiError('NOT_FOUND', `KeyRing ${name} not found.`);
    return { name: this.canonical(name), createTime: ring.createTime };
  }

  createCryptoKey(
    parent: string,
    cryptoKeyId: string | undefined,
    input: Json,
    skipInitialVersion: boolean,
    options: AnswerOptions,
  ): Json {
    const ringName = this.canonical(parent);
    if (!this.#rings.has(ringName)) throw new GoogleApiError('NOT_FOUND', `KeyRing ${parent} not found.`);
    if (cryptoKeyId === undefined || !cloudKmsLimits.idPattern.test(cryptoKeyId)) {
      throw invalid('cryptoKeyId must match [a-zA-Z0-9_-]{1,63}.');
    }
    const purpose = input.purpose ?? 'ENCRYPT_DECRYPT';
    if (purpose !== 'ENCRYPT_DECRYPT' && purpose !== 1) {
      throw invalid('The double makes ENCRYPT_DECRYPT keys only.');
    }
    const template = (input.versionTemplate ?? {}) as Json;
    const level = template.protectionLevel ?? 'SOFTWARE';
    if (level !== 'SOFTWARE' && level !== 'HSM' && level !== 1 && level !== 2) {
      throw invalid('versionTemplate.protectionLevel must be SOFTWARE or HSM.');
    }
    const algorithm = template.algorithm ?? 'GOOGLE_SYMMETRIC_ENCRYPTION';
    if (algorithm !== 'GOOGLE_SYMMETRIC_ENCRYPTION' && algorithm !== 1) {
      throw invalid('An ENCRYPT_DECRYPT key takes the algorithm GOOGLE_SYMMETRIC_ENCRYPTION.');
    }
    const name = `${ringName}/cryptoKeys/${cryptoKeyId}`;
    if (this.#keys.has(name)) throw new GoogleApiError('ALREADY_EXISTS', `CryptoKey ${name} already exists.`);
    const labels = (input.labels ?? {}) as Record<string, string>;
    const key: CryptoKey = {
      name,
      createTime: now(),
      labels: { ...labels },
      protectionLevel: level === 'HSM' || level === 2 ? 'HSM' : 'SOFTWARE',
      destroyScheduledDuration:
        typeof input.destroyScheduledDuration === 'string' ? input.destroyScheduledDuration : '86400s',
      rotationPeriod: typeof input.rotationPeriod === 'string' ? input.rotationPeriod : undefined,
      nextRotationTime: typeof input.nextRotationTime === 'string' ? input.nextRotationTime : undefined,
      versions: [],
      primary: undefined,
    };
    this.#keys.set(name, key);
    if (!skipInitialVersion) key.primary = this.#addVersion(key).id;
    return this.#keyJson(key, options);
  }

  getCryptoKey(name: string, options: AnswerOptions): Json {
    return this.#keyJson(this.#key(name), options);
  }

  /** Encrypts with the key's primary version, or with the version `name` names. */
  encrypt(name: string, input: Json, options: AnswerOptions): Json {
    const { key, version } = this.#encryptingVersion(name);
    const plaintext = readBytes(input, 'plaintext', true, cloudKmsLimits.maxPlaintextBytes)!;
    const aad = readBytes(input, 'additionalAuthenticatedData', false, cloudKmsLimits.maxAadBytes);
    const verifiedPlaintext = checkCrc(
      plaintext,
      readInt64(input, 'plaintextCrc32c'),
      'plaintext_crc32c',
      'plaintext',
    );
    const verifiedAad = checkCrc(
      aad ?? Buffer.alloc(0),
      readInt64(input, 'additionalAuthenticatedDataCrc32c'),
      'additional_authenticated_data_crc32c',
      'additional_authenticated_data',
    );
    const ciphertext = this.#seal(key, version, plaintext, aad ?? Buffer.alloc(0));
    return {
      name: `${key.name}/cryptoKeyVersions/${version.id}`,
      ciphertext: ciphertext.toString('base64'),
      ciphertextCrc32c: String(crc32c(ciphertext)),
      verifiedPlaintextCrc32c: verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAad,
      protectionLevel: this.#enum('protectionLevel', key.protectionLevel, options),
    };
  }

  /** Decrypts with whichever version made the ciphertext; INVALID_ARGUMENT for anything that does not authenticate. */
  decrypt(name: string, input: Json, options: AnswerOptions): Json {
    const key = this.#key(name);
    const ciphertext = readBytes(input, 'ciphertext', true, cloudKmsLimits.maxCiphertextBytes)!;
    const aad = readBytes(input, 'additionalAuthenticatedData', false, cloudKmsLimits.maxAadBytes);
    checkCrc(ciphertext, readInt64(input, 'ciphertextCrc32c'), 'ciphertext_crc32c', 'ciphertext');
    checkCrc(
      aad ?? Buffer.alloc(0),
      readInt64(input, 'additionalAuthenticatedDataCrc32c'),
      'additional_authenticated_data_crc32c',
      'additional_authenticated_data',
    );
    const failed = () => invalid('Decryption failed: the ciphertext is invalid.');
    if (ciphertext.length < headerBytes + 28 || !ciphertext.subarray(0, magic.length).equals(magic)) {
      throw failed();
    }
    const versionId = ciphertext.readUInt32BE(magic.length);
    const version = key.versions.find((v) => v.id === versionId);
    if (version === undefined) throw failed();
    if (version.state !== 'ENABLED') throw this.#notEnabled(key, version);
    const plaintext = this.#open(key, version, ciphertext, aad ?? Buffer.alloc(0));
    if (plaintext === undefined) throw failed();
    return {
      plaintext: plaintext.toString('base64'),
      plaintextCrc32c: String(crc32c(plaintext)),
      usedPrimary: key.primary === version.id,
      protectionLevel: this.#enum('protectionLevel', key.protectionLevel, options),
    };
  }

  updatePrimaryVersion(name: string, input: Json, options: AnswerOptions): Json {
    const key = this.#key(name);
    const id = input.cryptoKeyVersionId;
    if (typeof id !== 'string' || !/^[0-9]+$/.test(id)) throw invalid('cryptoKeyVersionId is required.');
    const version = key.versions.find((v) => v.id === Number(id));
    if (version === undefined) {
      throw new GoogleApiError('NOT_FOUND', `${key.name}/cryptoKeyVersions/${id} not found.`);
    }
    if (version.state !== 'ENABLED') throw this.#notEnabled(key, version);
    key.primary = version.id;
    return this.#keyJson(key, options);
  }

  createVersion(parent: string, options: AnswerOptions): Json {
    const key = this.#key(parent);
    return this.#versionJson(key, this.#addVersion(key), options);
  }

  getVersion(name: string, options: AnswerOptions): Json {
    const { key, version } = this.#version(name);
    return this.#versionJson(key, version, options);
  }

  listVersions(parent: string, query: URLSearchParams, options: AnswerOptions): Json {
    const key = this.#key(parent);
    const size = Math.min(Number(query.get('pageSize') ?? '0') || cloudKmsLimits.maxPageSize, 1000);
    const token = query.get('pageToken') ?? '';
    const start = token === '' ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw invalid('The page token is invalid.');
    const filter = query.get('filter') ?? '';
    let versions = key.versions;
    const state = /^state\s*=\s*([A-Z_]+)$/.exec(filter.trim())?.[1];
    if (filter.trim() !== '' && state === undefined) throw invalid(`Invalid filter: ${filter}`);
    if (state !== undefined) versions = versions.filter((v) => v.state === state);
    const page = versions.slice(start, start + size);
    const next =
      start + size < versions.length ? Buffer.from(String(start + size)).toString('base64url') : '';
    return {
      ...(page.length === 0
        ? {}
        : { cryptoKeyVersions: page.map((v) => this.#versionJson(key, v, options)) }),
      ...(next === '' ? {} : { nextPageToken: next }),
      totalSize: versions.length,
    };
  }

  /** `PATCH` with `updateMask=state`: enables or disables a version. */
  patchVersion(name: string, updateMask: string | undefined, input: Json, options: AnswerOptions): Json {
    const { key, version } = this.#version(name);
    const paths = (updateMask ?? '').split(',').filter((p) => p !== '');
    if (paths.length === 0 || paths.some((p) => p !== 'state')) {
      throw invalid('The double updates the state of a version only (updateMask=state).');
    }
    const wanted = typeof input.state === 'number' ? nameOf('state', input.state) : input.state;
    if (wanted !== 'ENABLED' && wanted !== 'DISABLED') {
      throw invalid('state may only be set to ENABLED or DISABLED.');
    }
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
      throw new GoogleApiError(
        'FAILED_PRECONDITION',
        `${key.name}/cryptoKeyVersions/${version.id} is in state ${version.state} and cannot be updated.`,
      );
    }
    version.state = wanted;
    return this.#versionJson(key, version, options);
  }

  /** Schedules a version's destruction after the key's `destroyScheduledDuration`. */
  destroyVersion(name: string, options: AnswerOptions): Json {
    const { key, version } = this.#version(name);
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
      throw new GoogleApiError(
        'FAILED_PRECONDITION',
        `${key.name}/cryptoKeyVersions/${version.id} is already ${version.state}.`,
      );
    }
    if (key.primary === version.id) key.primary = undefined;
    version.state = 'DESTROY_SCHEDULED';
    version.destroyTime = new Date(
      Date.now() + durationSeconds(key.destroyScheduledDuration) * 1000,
    ).toISOString();
    return this.#versionJson(key, version, options);
  }

  /** Destroys a version's key material at once, as when its scheduled time has come (tests only). */
  destroyNow(keyName: string, versionId: number): boolean {
    const key = this.#keys.get(this.canonical(keyName));
    const version = key?.versions.find((v) => v.id === versionId);
    if (key === undefined || version === undefined) return false;
    if (key.primary === version.id) key.primary = undefined;
    version.state = 'DESTROYED';
    version.material.fill(0);
    version.destroyEventTime = now();
    return true;
  }

  /** Sets a version's state behind the client's back (tests only). */
  setState(keyName: string, versionId: number, state: 'ENABLED' | 'DISABLED'): boolean {
    const version = this.#keys.get(this.canonical(keyName))?.versions.find((v) => v.id === versionId);
    if (version === undefined || (version.state !== 'ENABLED' && version.state !== 'DISABLED')) return false;
    version.state = state;
    return true;
  }

  /** The primary version id of a key (tests only). */
  primaryOf(keyName: string): number | undefined {
    return this.#keys.get(this.canonical(keyName))?.primary;
  }

  #addVersion(key: CryptoKey): Version {
    const version: Version = {
      id: (key.versions.at(-1)?.id ?? 0) + 1,
      material: randomBytes(32),
      state: 'ENABLED',
      createTime: now(),
      destroyTime: undefined,
      destroyEventTime: undefined,
    };
    key.versions.push(version);
    return version;
  }

  #key(name: string): CryptoKey {
    const key = this.#keys.get(this.canonical(name));
    if (key === undefined) throw new GoogleApiError('NOT_FOUND', `${name} not found.`);
    return key;
  }

  #version(name: string): { key: CryptoKey; version: Version } {
    const m = /^(.+)\/cryptoKeyVersions\/([^/]+)$/.exec(name);
    const key = this.#key(m?.[1] ?? name);
    const version = key.versions.find((v) => String(v.id) === m?.[2]);
    if (version === undefined) throw new GoogleApiError('NOT_FOUND', `${name} not found.`);
    return { key, version };
  }

  #encryptingVersion(name: string): { key: CryptoKey; version: Version } {
    if (name.includes('/cryptoKeyVersions/')) {
      const found = this.#version(name);
      if (found.version.state !== 'ENABLED') throw this.#notEnabled(found.key, found.version);
      return found;
    }
    const key = this.#key(name);
    const version = key.versions.find((v) => v.id === key.primary);
    if (version === undefined) {
      throw new GoogleApiError('FAILED_PRECONDITION', `${key.name} has no primary version.`);
    }
    if (version.state !== 'ENABLED') throw this.#notEnabled(key, version);
    return { key, version };
  }

  #notEnabled(key: CryptoKey, version: Version): GoogleApiError {
    return new GoogleApiError(
      'FAILED_PRECONDITION',
      `${key.name}/cryptoKeyVersions/${version.id} is not enabled, current state is: ${version.state}.`,
    );
  }

  #aad(key: CryptoKey, header: Buffer, aad: Buffer): Buffer {
    // bound to the key too: a ciphertext never decrypts on another key, whatever its material
    return Buffer.concat([header, createHash('sha256').update(key.name).digest(), aad]);
  }

  #seal(key: CryptoKey, version: Version, plaintext: Buffer, aad: Buffer): Buffer {
    const header = Buffer.alloc(headerBytes);
    magic.copy(header);
    header.writeUInt32BE(version.id, magic.length);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', version.material, iv);
    cipher.setAAD(this.#aad(key, header, aad));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
  }

  #open(key: CryptoKey, version: Version, ciphertext: Buffer, aad: Buffer): Buffer | undefined {
    try {
      const header = ciphertext.subarray(0, headerBytes);
      const decipher = createDecipheriv(
        'aes-256-gcm',
        version.material,
        ciphertext.subarray(headerBytes, headerBytes + 12),
      );
      decipher.setAAD(this.#aad(key, header, aad));
      decipher.setAuthTag(ciphertext.subarray(headerBytes + 12, headerBytes + 28));
      return Buffer.concat([decipher.update(ciphertext.subarray(headerBytes + 28)), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  #enum(field: string, value: string, options: AnswerOptions): string | number {
    return options.intEnums ? (enumNumbers[field]?.[value] ?? 0) : value;
  }

  #versionJson(key: CryptoKey, version: Version, options: AnswerOptions): Json {
    return {
      name: `${key.name}/cryptoKeyVersions/${version.id}`,
      state: this.#enum('state', version.state, options),
      protectionLevel: this.#enum('protectionLevel', key.protectionLevel, options),
      algorithm: this.#enum('algorithm', 'GOOGLE_SYMMETRIC_ENCRYPTION', options),
      createTime: version.createTime,
      generateTime: version.createTime,
      ...(version.destroyTime === undefined ? {} : { destroyTime: version.destroyTime }),
      ...(version.destroyEventTime === undefined ? {} : { destroyEventTime: version.destroyEventTime }),
    };
  }

  #keyJson(key: CryptoKey, options: AnswerOptions): Json {
    const primary = key.versions.find((v) => v.id === key.primary);
    return {
      name: key.name,
      ...(primary === undefined ? {} : { primary: this.#versionJson(key, primary, options) }),
      purpose: this.#enum('purpose', 'ENCRYPT_DECRYPT', options),
      createTime: key.createTime,
      ...(key.nextRotationTime === undefined ? {} : { nextRotationTime: key.nextRotationTime }),
      ...(key.rotationPeriod === undefined ? {} : { rotationPeriod: key.rotationPeriod }),
      versionTemplate: {
        protectionLevel: this.#enum('protectionLevel', key.protectionLevel, options),
        algorithm: this.#enum('algorithm', 'GOOGLE_SYMMETRIC_ENCRYPTION', options),
      },
      ...(Object.keys(key.labels).length === 0 ? {} : { labels: { ...key.labels } }),
      destroyScheduledDuration: key.destroyScheduledDuration,
    };
  }
}

function nameOf(field: string, n: number): string | undefined {
  const table = enumNumbers[field] ?? {};
  return Object.keys(table).find((k) => table[k] === n);
}
