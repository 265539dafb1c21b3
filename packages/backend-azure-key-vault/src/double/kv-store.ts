import { randomBytes } from 'node:crypto';
import { badParameter, KeyVaultError, listPage, maxPageSize } from '@coffer/azure-kit/double';
import { deletedSecretNotFound, secretNotFound } from './kv-error.js';

/** Limits of Key Vault's secrets that the double enforces, after the service's documentation. */
export const keyVaultLimits = Object.freeze({
  /** "Secrets ... with a maximum size of 25k bytes each" (what the service takes: 25,600 bytes of UTF-8). */
  maxValueBytes: 25_600,
  /** Object names: 1 to 127 of `0-9`, `a-z`, `A-Z` and `-`. */
  namePattern: /^[0-9a-zA-Z-]{1,127}$/,
  /** Tags per secret version, and the length of a tag's name and value. */
  maxTags: 15,
  maxTagNameLength: 512,
  maxTagValueLength: 256,
  maxContentTypeLength: 255,
  /** Items per page of a list operation (`maxresults`); 25 is also the default. */
  maxPageSize,
});

interface StoredVersion {
  version: string;
  value: string;
  contentType: string | undefined;
  tags: Record<string, string> | undefined;
  enabled: boolean;
  nbf: number | undefined;
  exp: number | undefined;
  created: number;
  updated: number;
  /** Order of creation, for "the latest version" (timestamps have one-second steps). */
  sequence: number;
}

interface StoredSecret {
  name: string;
  versions: Map<string, StoredVersion>;
  latest: string;
  deletedDate?: number;
  scheduledPurgeDate?: number;
}

/** The parts of a set or update request body the double reads. */
interface SecretInput {
  value?: unknown;
  contentType?: unknown;
  tags?: unknown;
  attributes?: unknown;
}

export interface VaultPolicy {
  /** Days a deleted secret stays recoverable (7 to 90; the service's default is 90). */
  retentionDays: number;
  /** Purge protection: a deleted secret cannot be purged before its retention ends. */
  purgeProtection: boolean;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function newVersionId(): string {
  return randomBytes(16).toString('hex');
}

function checkName(name: string): void {
  if (!keyVaultLimits.namePattern.test(name)) {
    throw badParameter(`The request URI contains an invalid name: ${name}`);
  }
}

function checkTags(tags: unknown): Record<string, string> | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (typeof tags !== 'object' || Array.isArray(tags)) throw badParameter('Property tags has invalid value.');
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > keyVaultLimits.maxTags) {
    throw badParameter(`The number of tags exceeds the maximum of ${keyVaultLimits.maxTags}.`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw badParameter(`Property tags.${k} has invalid value.`);
    if (k.length > keyVaultLimits.maxTagNameLength || v.length > keyVaultLimits.maxTagValueLength) {
      throw badParameter('A tag name or value exceeds the maximum length.');
    }
    out[k] = v;
  }
  return out;
}

function checkContentType(contentType: unknown): string | undefined {
  if (contentType === undefined || contentType === null) return undefined;
  if (typeof contentType !== 'string' || contentType.length > keyVaultLimits.maxContentTypeLength) {
    throw badParameter('Property contentType has invalid value.');
  }
  return contentType;
}

function checkAttributes(attributes: unknown): { enabled?: boolean; nbf?: number; exp?: number } {
  if (attributes === undefined || attributes === null) return {};
  if (typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw badParameter('Property attributes has invalid value.');
  }
  const a = attributes as Record<string, unknown>;
  const out: { enabled?: boolean; nbf?: number; exp?: number } = {};
  if (a.enabled !== undefined && a.enabled !== null) {
    if (typeof a.enabled !== 'boolean') throw badParameter('Property attributes.enabled has invalid value.');
    out.enabled = a.enabled;
  }
  for (const key of ['nbf', 'exp'] as const) {
    const v = a[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw badParameter(`Property attributes.${key} has invalid value.`);
    }
    out[key] = v;
  }
  return out;
}

/**
 * The state of one vault's secrets: every version of every secret, the soft-deleted secrets
 * with their purge dates, and the wire shapes (`SecretBundle`, `SecretItem`,
 * `DeletedSecretBundle`, list results with `nextLink`) the REST API answers with. Names are
 * case-insensitive, as in Key Vault; a name pending deletion cannot be set again until it is
 * recovered or purged (409 `ObjectIsDeletedButRecoverable`).
 */
export class KeyVaultStore {
  readonly #live = new Map<string, StoredSecret>();
  readonly #deleted = new Map<string, StoredSecret>();
  #sequence = 0;

  /** What ids and links start with: `https://127.0.0.1:PORT`, set once the server listens. */
  vaultUrl = '';

  constructor(readonly policy: VaultPolicy) {}

  get recoveryLevel(): string {
    const custom = this.policy.retentionDays < 90 ? 'CustomizedRecoverable' : 'Recoverable';
    return this.policy.purgeProtection ? custom : `${custom}+Purgeable`;
  }

  setSecret(name: string, input: SecretInput): object {
    checkName(name);
    const key = name.toLowerCase();
    if (this.#deleted.has(key)) {
      throw new KeyVaultError(
        409,
        'Conflict',
        `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        'ObjectIsDeletedButRecoverable',
      );
    }
    if (typeof input.value !== 'string') throw badParameter('Property value is required.');
    if (Buffer.byteLength(input.value, 'utf8') > keyVaultLimits.maxValueBytes) {
      throw badParameter(
        `The secret value exceeds the maximum allowed size of ${keyVaultLimits.maxValueBytes} bytes.`,
      );
    }
    const tags = checkTags(input.tags);
    const contentType = checkContentType(input.contentType);
    const attributes = checkAttributes(input.attributes);
    const now = nowSeconds();
    const version: StoredVersion = {
      version: newVersionId(),
      value: input.value,
      contentType,
      tags,
      enabled: attributes.enabled ?? true,
      nbf: attributes.nbf,
      exp: attributes.exp,
      created: now,
      updated: now,
      sequence: ++this.#sequence,
    };
    const secret = this.#live.get(key) ?? { name, versions: new Map(), latest: version.version };
    secret.versions.set(version.version, version);
    secret.latest = version.version;
    this.#live.set(key, secret);
    return this.#bundle(secret, version, true);
  }

  getSecret(name: string, versionId: string): object {
    const { secret, version } = this.#find(name, versionId);
    if (!version.enabled) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        'Operation get is not allowed on a disabled secret.',
        'SecretDisabled',
      );
    }
    return this.#bundle(secret, version, true);
  }

  updateSecret(name: string, versionId: string, input: SecretInput): object {
    const { secret, version } = this.#find(name, versionId);
    const tags = checkTags(input.tags);
    const contentType = checkContentType(input.contentType);
    const attributes = checkAttributes(input.attributes);
    if (input.tags !== undefined) version.tags = tags;
    if (input.contentType !== undefined) version.contentType = contentType;
    if (attributes.enabled !== undefined) version.enabled = attributes.enabled;
    if (attributes.nbf !== undefined) version.nbf = attributes.nbf;
    if (attributes.exp !== undefined) version.exp = attributes.exp;
    version.updated = nowSeconds();
    return this.#bundle(secret, version, false);
  }

  deleteSecret(name: string): object {
    checkName(name);
    const key = name.toLowerCase();
    const secret = this.#live.get(key);
    if (secret === undefined) throw secretNotFound(name);
    this.#live.delete(key);
    const now = nowSeconds();
    secret.deletedDate = now;
    secret.scheduledPurgeDate = now + this.policy.retentionDays * 86_400;
    this.#deleted.set(key, secret);
    return this.#deletedBundle(secret);
  }

  getDeletedSecret(name: string): object {
    checkName(name);
    const secret = this.#deleted.get(name.toLowerCase());
    if (secret === undefined) throw deletedSecretNotFound(name);
    return this.#deletedBundle(secret);
  }

  purgeDeletedSecret(name: string): void {
    checkName(name);
    const key = name.toLowerCase();
    if (!this.#deleted.has(key)) throw deletedSecretNotFound(name);
    if (this.policy.purgeProtection) {
      throw new KeyVaultError(
        403,
        'Forbidden',
        'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
      );
    }
    this.#deleted.delete(key);
  }

  recoverDeletedSecret(name: string): object {
    checkName(name);
    const key = name.toLowerCase();
    const secret = this.#deleted.get(key);
    if (secret === undefined) throw deletedSecretNotFound(name);
    this.#deleted.delete(key);
    delete secret.deletedDate;
    delete secret.scheduledPurgeDate;
    this.#live.set(key, secret);
    return this.#bundle(secret, secret.versions.get(secret.latest)!, false);
  }

  listSecrets(query: URLSearchParams, apiVersion: string): object {
    const link = { vaultUrl: this.vaultUrl, path: '/secrets', apiVersion };
    const { page, nextLink } = listPage([...this.#live.keys()].sort(), query, link);
    const value = page.map((k) => {
      const secret = this.#live.get(k)!;
      return this.#item(secret, secret.versions.get(secret.latest)!, false);
    });
    return { value, nextLink };
  }

  listVersions(name: string, query: URLSearchParams, apiVersion: string): object {
    checkName(name);
    const secret = this.#live.get(name.toLowerCase());
    if (secret === undefined) throw secretNotFound(name);
    const link = { vaultUrl: this.vaultUrl, path: `/secrets/${secret.name}/versions`, apiVersion };
    // Key Vault lists versions in the order of their ids, not by time
    const { page, nextLink } = listPage([...secret.versions.keys()].sort(), query, link);
    return { value: page.map((v) => this.#item(secret, secret.versions.get(v)!, true)), nextLink };
  }

  listDeletedSecrets(query: URLSearchParams, apiVersion: string): object {
    const link = { vaultUrl: this.vaultUrl, path: '/deletedsecrets', apiVersion };
    const { page, nextLink } = listPage([...this.#deleted.keys()].sort(), query, link);
    return {
      value: page.map((k) => {
        const secret = this.#deleted.get(k)!;
        return {
          ...this.#item(secret, secret.versions.get(secret.latest)!, false),
          recoveryId: `${this.vaultUrl}/deletedsecrets/${secret.name}`,
          deletedDate: secret.deletedDate,
          scheduledPurgeDate: secret.scheduledPurgeDate,
        };
      }),
      nextLink,
    };
  }

  // ---- for tests: changes behind the client's back, and what is stored ----

  /** Deletes a secret as the portal would (soft delete); false when there is none. */
  removeBehindBack(name: string): boolean {
    if (!this.#live.has(name.toLowerCase())) return false;
    this.deleteSecret(name);
    return true;
  }

  /** Disables every enabled version whose tag `tag` is `value`; the count disabled. */
  disableBehindBack(name: string, tag: string, value: string): number {
    const secret = this.#live.get(name.toLowerCase());
    let n = 0;
    for (const v of secret?.versions.values() ?? []) {
      if (v.enabled && v.tags?.[tag] === value) {
        v.enabled = false;
        n++;
      }
    }
    return n;
  }

  /** Replaces the tags of every version of a secret; false when there is none. */
  setTagsBehindBack(name: string, tags: Record<string, string>): boolean {
    const secret = this.#live.get(name.toLowerCase());
    if (secret === undefined) return false;
    for (const v of secret.versions.values()) v.tags = { ...tags };
    return true;
  }

  /** Names of the live secrets, as created. */
  secretNames(): string[] {
    return [...this.#live.values()].map((s) => s.name).sort();
  }

  /** Names pending deletion. */
  deletedNames(): string[] {
    return [...this.#deleted.values()].map((s) => s.name).sort();
  }

  /** Enabled versions over all live secrets. */
  enabledVersionCount(): number {
    let n = 0;
    for (const s of this.#live.values()) for (const v of s.versions.values()) if (v.enabled) n++;
    return n;
  }

  /** Every value stored, live, disabled or deleted (tests look for planted values). */
  allValues(): string[] {
    const out: string[] = [];
    for (const map of [this.#live, this.#deleted])
      for (const s of map.values()) for (const v of s.versions.values()) out.push(v.value);
    return out;
  }

  #find(name: string, versionId: string): { secret: StoredSecret; version: StoredVersion } {
    checkName(name);
    const secret = this.#live.get(name.toLowerCase());
    if (secret === undefined) throw secretNotFound(versionId === '' ? name : `${name}/${versionId}`);
    const version = secret.versions.get(versionId === '' ? secret.latest : versionId.toLowerCase());
    if (version === undefined) throw secretNotFound(`${name}/${versionId}`);
    return { secret, version };
  }

  #attributes(version: StoredVersion): object {
    return {
      enabled: version.enabled,
      ...(version.nbf === undefined ? {} : { nbf: version.nbf }),
      ...(version.exp === undefined ? {} : { exp: version.exp }),
      created: version.created,
      updated: version.updated,
      recoveryLevel: this.recoveryLevel,
      recoverableDays: this.policy.retentionDays,
    };
  }

  #bundle(secret: StoredSecret, version: StoredVersion, withValue: boolean): object {
    return {
      ...(withValue ? { value: version.value } : {}),
      id: `${this.vaultUrl}/secrets/${secret.name}/${version.version}`,
      ...(version.contentType === undefined ? {} : { contentType: version.contentType }),
      attributes: this.#attributes(version),
      ...(version.tags === undefined ? {} : { tags: { ...version.tags } }),
    };
  }

  #item(secret: StoredSecret, version: StoredVersion, withVersion: boolean): object {
    return {
      id: withVersion
        ? `${this.vaultUrl}/secrets/${secret.name}/${version.version}`
        : `${this.vaultUrl}/secrets/${secret.name}`,
      attributes: this.#attributes(version),
      ...(version.tags === undefined ? {} : { tags: { ...version.tags } }),
      ...(version.contentType === undefined ? {} : { contentType: version.contentType }),
    };
  }

  #deletedBundle(secret: StoredSecret): object {
    return {
      recoveryId: `${this.vaultUrl}/deletedsecrets/${secret.name}`,
      deletedDate: secret.deletedDate,
      scheduledPurgeDate: secret.scheduledPurgeDate,
      ...this.#bundle(secret, secret.versions.get(secret.latest)!, false),
    };
  }
}
