/**
 * The KV version 2 secrets engine as Vault documents it (and as its plugin behaves): versions
 * with a sliding window of `max_versions` (the larger of the key's and the mount's, 10 when both
 * are 0), check-and-set writes, soft delete / undelete / destroy, metadata with
 * `custom_metadata` (at most 64 keys, keys up to 128 and values up to 512 bytes, printable),
 * `cas_required` and `delete_version_after`, and LIST of keys under a folder.
 */

/** An answer of the engine: a status and the `data` of Vault's response envelope (or an error). */
export type EngineAnswer =
  | { status: 200; data: unknown; warnings?: string[] }
  | { status: 204 }
  | { status: 404; data?: unknown }
  | { status: 400 | 405; errors: string[] };

interface VersionMeta {
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

interface KeyMeta {
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterSeconds: number;
  customMetadata: Record<string, string> | null;
  createdTime: string;
  updatedTime: string;
  versions: Map<number, VersionMeta>;
}

export interface KvMountConfig {
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterSeconds: number;
}

const defaultMaxVersions = 10;

function now(): string {
  return new Date().toISOString();
}

function isPrintable(s: string): boolean {
  // Go's unicode.IsPrint, near enough: no control characters
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
  }
  return true;
}

function duration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** Go durations as the API accepts them: seconds as a number, or "1h30m", "45s". */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value !== 'string') return undefined;
  if (/^[0-9]+$/.test(value)) return Number(value);
  const match = /^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/.exec(value);
  if (match === null || value === '') return undefined;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

function versionsParam(raw: unknown): number[] | undefined {
  if (Array.isArray(raw)) {
    const out = raw.map((v) => Number(v));
    return out.every((v) => Number.isInteger(v)) ? out : undefined;
  }
  if (typeof raw === 'number') return [raw];
  if (typeof raw === 'string') {
    const out = raw
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => Number(s.trim()));
    return out.every((v) => Number.isInteger(v)) ? out : undefined;
  }
  return undefined;
}

function validateCustomMetadata(custom: Record<string, string>): string[] {
  const prefix = 'custom_metadata validation failed';
  const keys = Object.keys(custom);
  if (keys.length > 64) return [`${prefix}: payload must contain at most 64 keys, provided ${keys.length}`];
  const errors: string[] = [];
  for (const [key, value] of Object.entries(custom)) {
    const keyLen = Buffer.byteLength(key);
    const valueLen = Buffer.byteLength(value);
    if (keyLen === 0 || keyLen > 128) {
      errors.push(`${prefix}: length of key "${key}" is ${keyLen} but must be 0 < len(key) <= 128`);
    }
    if (valueLen === 0 || valueLen > 512) {
      errors.push(
        `${prefix}: length of value for key "${key}" is ${valueLen} but must be 0 < len(value) <= 512`,
      );
    }
    if (!isPrintable(key)) errors.push(`${prefix}: key "${key}" contains unprintable characters`);
    if (!isPrintable(value)) errors.push(`${prefix}: value for key "${key}" contains unprintable characters`);
  }
  return errors.length === 0
    ? []
    : [`${errors.length} errors occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`];
}

export class KvEngine {
  readonly config: KvMountConfig = { maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0 };
  readonly #keys = new Map<string, KeyMeta>();
  /** Version data as the JSON text Vault stores, by `<key>\u0000<version>`. */
  readonly #data = new Map<string, string>();

  /** Whether a key has metadata (Vault's existence check: create vs update capability). */
  exists(key: string): boolean {
    return this.#keys.has(key);
  }

  readConfig(): EngineAnswer {
    return {
      status: 200,
      data: {
        max_versions: this.config.maxVersions,
        cas_required: this.config.casRequired,
        delete_version_after: duration(this.config.deleteVersionAfterSeconds),
      },
    };
  }

  writeConfig(body: Record<string, unknown>): EngineAnswer {
    if (body.max_versions !== undefined) {
      const n = Number(body.max_versions);
      if (!Number.isInteger(n) || n < 0) return { status: 400, errors: ['invalid max_versions'] };
      this.config.maxVersions = n;
    }
    if (body.cas_required !== undefined) this.config.casRequired = body.cas_required === true;
    if (body.delete_version_after !== undefined) {
      const s = parseDuration(body.delete_version_after);
      if (s === undefined) return { status: 400, errors: ['invalid delete_version_after'] };
      this.config.deleteVersionAfterSeconds = s;
    }
    return { status: 204 };
  }

  #deletionTimeFor(meta: KeyMeta, from: number): string {
    const mount = this.config.deleteVersionAfterSeconds;
    const key = meta.deleteVersionAfterSeconds;
    const after = key > 0 && (mount === 0 || key < mount) ? key : mount;
    return after > 0 ? new Date(from + after * 1000).toISOString() : '';
  }

  #deleted(v: VersionMeta): boolean {
    return v.deletionTime !== '' && Date.parse(v.deletionTime) <= Date.now();
  }

  readData(key: string, version: number): EngineAnswer {
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 404 };
    const n = version > 0 ? version : meta.currentVersion;
    const vm = meta.versions.get(n);
    if (vm === undefined) return { status: 404 };
    const metadata = {
      created_time: vm.createdTime,
      custom_metadata: meta.customMetadata,
      deletion_time: vm.deletionTime,
      destroyed: vm.destroyed,
      version: n,
    };
    if (this.#deleted(vm) || vm.destroyed) return { status: 404, data: { data: null, metadata } };
    const raw = this.#data.get(`${key}\u0000${n}`);
    return { status: 200, data: { data: raw === undefined ? null : JSON.parse(raw), metadata } };
  }

  writeData(key: string, body: Record<string, unknown>): EngineAnswer {
    if (key === '') return { status: 400, errors: ['missing path'] };
    const data = body.data;
    if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
      return { status: 400, errors: ['no data provided'] };
    }
    const meta = this.#keys.get(key) ?? this.#newMeta();
    const options = body.options as Record<string, unknown> | undefined;
    if (options !== undefined && options !== null && options.cas !== undefined) {
      const cas = Number(options.cas);
      if (!Number.isInteger(cas)) return { status: 400, errors: ['error parsing check-and-set parameter'] };
      if (cas !== meta.currentVersion) {
        return { status: 400, errors: ['check-and-set parameter did not match the current version'] };
      }
    } else if (this.config.casRequired || meta.casRequired) {
      return { status: 400, errors: ['check-and-set parameter required for this call'] };
    }
    const created = now();
    const vm: VersionMeta = {
      createdTime: created,
      deletionTime: this.#deletionTimeFor(meta, Date.parse(created)),
      destroyed: false,
    };
    meta.currentVersion++;
    meta.versions.set(meta.currentVersion, vm);
    meta.updatedTime = created;
    if (meta.createdTime === '') meta.createdTime = created;
    this.#data.set(`${key}\u0000${meta.currentVersion}`, JSON.stringify(data));
    const max = Math.max(meta.maxVersions, this.config.maxVersions) || defaultMaxVersions;
    if (meta.currentVersion - meta.oldestVersion >= max) {
      const last = meta.currentVersion - max;
      for (let i = meta.oldestVersion; i <= last; i++) {
        meta.versions.delete(i);
        this.#data.delete(`${key}\u0000${i}`);
      }
      meta.oldestVersion = last + 1;
    }
    this.#keys.set(key, meta);
    return {
      status: 200,
      data: {
        created_time: vm.createdTime,
        custom_metadata: meta.customMetadata,
        deletion_time: vm.deletionTime,
        destroyed: false,
        version: meta.currentVersion,
      },
    };
  }

  /** DELETE data/<key>: soft-deletes the latest version. */
  deleteLatest(key: string): EngineAnswer {
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 204 };
    const lv = meta.versions.get(meta.currentVersion);
    if (lv === undefined || lv.destroyed || this.#deleted(lv)) return { status: 204 };
    lv.deletionTime = now();
    return { status: 204 };
  }

  deleteVersions(key: string, body: Record<string, unknown>): EngineAnswer {
    const versions = versionsParam(body.versions);
    if (versions === undefined || versions.length === 0)
      return { status: 400, errors: ['No version number provided'] };
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 204 };
    for (const n of versions) {
      const v = meta.versions.get(n);
      if (v === undefined || v.destroyed || this.#deleted(v)) continue;
      v.deletionTime = now();
    }
    return { status: 204 };
  }

  undeleteVersions(key: string, body: Record<string, unknown>): EngineAnswer {
    const versions = versionsParam(body.versions);
    if (versions === undefined || versions.length === 0)
      return { status: 400, errors: ['No version number provided'] };
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 204 };
    for (const n of versions) {
      const v = meta.versions.get(n);
      if (v === undefined || v.destroyed) continue;
      v.deletionTime = this.#deletionTimeFor(meta, Date.now());
    }
    return { status: 204 };
  }

  destroyVersions(key: string, body: Record<string, unknown>): EngineAnswer {
    const versions = versionsParam(body.versions);
    if (versions === undefined || versions.length === 0)
      return { status: 400, errors: ['no version number provided'] };
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 204 };
    for (const n of versions) {
      const v = meta.versions.get(n);
      if (v === undefined || v.destroyed) continue;
      v.destroyed = true;
      this.#data.delete(`${key}\u0000${n}`);
    }
    return { status: 204 };
  }

  readMetadata(key: string): EngineAnswer {
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 404 };
    const versions: Record<string, unknown> = {};
    for (const [n, v] of meta.versions) {
      versions[String(n)] = {
        created_time: v.createdTime,
        deletion_time: v.deletionTime,
        destroyed: v.destroyed,
      };
    }
    return {
      status: 200,
      data: {
        cas_required: meta.casRequired,
        created_time: meta.createdTime,
        current_version: meta.currentVersion,
        custom_metadata: meta.customMetadata,
        delete_version_after: duration(meta.deleteVersionAfterSeconds),
        max_versions: meta.maxVersions,
        oldest_version: meta.oldestVersion,
        updated_time: meta.updatedTime,
        versions,
      },
    };
  }

  writeMetadata(key: string, body: Record<string, unknown>): EngineAnswer {
    if (key === '') return { status: 400, errors: ['missing path'] };
    const has = (k: string) => body[k] !== undefined && body[k] !== null;
    if (
      !has('max_versions') &&
      !has('cas_required') &&
      !has('delete_version_after') &&
      !has('custom_metadata')
    ) {
      return { status: 204 };
    }
    let custom: Record<string, string> | undefined;
    if (has('custom_metadata')) {
      const raw = body.custom_metadata;
      if (typeof raw !== 'object' || Array.isArray(raw)) {
        return { status: 400, errors: ['custom_metadata validation failed: expected a map'] };
      }
      custom = {};
      for (const [k, v] of Object.entries(raw as Record<string, unknown>))
        custom[k] = v === null ? '' : String(v);
      const errors = validateCustomMetadata(custom);
      if (errors.length > 0) return { status: 400, errors };
    }
    let maxVersions: number | undefined;
    if (has('max_versions')) {
      maxVersions = Number(body.max_versions);
      if (!Number.isInteger(maxVersions) || maxVersions < 0)
        return { status: 400, errors: ['invalid max_versions'] };
    }
    let dva: number | undefined;
    if (has('delete_version_after')) {
      dva = parseDuration(body.delete_version_after);
      if (dva === undefined) return { status: 400, errors: ['invalid delete_version_after'] };
    }
    const warnings: string[] = [];
    if (has('cas_required') && this.config.casRequired && body.cas_required !== true) {
      warnings.push(
        '"cas_required" set to false, but is mandated by backend config. This value will be ignored.',
      );
    }
    const meta = this.#keys.get(key) ?? this.#newMeta(now());
    if (maxVersions !== undefined) meta.maxVersions = maxVersions;
    if (has('cas_required')) meta.casRequired = body.cas_required === true;
    if (dva !== undefined) meta.deleteVersionAfterSeconds = dva;
    if (custom !== undefined) meta.customMetadata = custom;
    this.#keys.set(key, meta);
    return warnings.length > 0 ? { status: 200, data: null, warnings } : { status: 204 };
  }

  deleteMetadata(key: string): EngineAnswer {
    const meta = this.#keys.get(key);
    if (meta === undefined) return { status: 204 };
    for (const n of meta.versions.keys()) this.#data.delete(`${key}\u0000${n}`);
    this.#keys.delete(key);
    return { status: 204 };
  }

  /** LIST metadata/<folder>: the keys and sub-folders directly under it, sorted; 404 when none. */
  list(folder: string): EngineAnswer {
    const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
    const out = new Set<string>();
    for (const key of this.#keys.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    if (out.size === 0) return { status: 404 };
    return { status: 200, data: { keys: [...out].sort() } };
  }

  /** Keys with metadata (tests). */
  keys(): string[] {
    return [...this.#keys.keys()].sort();
  }

  /** Versions neither destroyed nor pruned, over all keys (tests). */
  storedVersionCount(): number {
    return this.#data.size;
  }

  #newMeta(created = ''): KeyMeta {
    return {
      currentVersion: 0,
      oldestVersion: 0,
      maxVersions: 0,
      casRequired: false,
      deleteVersionAfterSeconds: 0,
      customMetadata: null,
      createdTime: created,
      updatedTime: created,
      versions: new Map(),
    };
  }
}
