import { randomBytes } from 'node:crypto';
import { crc32c } from '@coffer/gcp-kit';
import { GoogleApiError } from '@coffer/gcp-kit/double';

/**
 * The state and operations of a Secret Manager double, after the REST v1 reference: requests
 * and answers as the JSON the wire carries (int64 as strings, bytes as base64, timestamps as
 * RFC 3339), errors as GoogleApiError.
 */

/** Documented limits of the service. */
export const secretManagerLimits = Object.freeze({
  payloadBytes: 65_536,
  aliasesPerSecret: 50,
  labelsPerSecret: 64,
  listSecretsPageSize: 25_000,
  listVersionsPageSize: 25_000,
});

type Json = Record<string, unknown>;
type State = 'ENABLED' | 'DISABLED' | 'DESTROYED';
const stateNumbers: Record<State, number> = { ENABLED: 1, DISABLED: 2, DESTROYED: 3 };

interface Version {
  number: number;
  createTime: string;
  destroyTime?: string;
  state: State;
  data?: Buffer;
  clientChecksum: boolean;
  etag: string;
}

interface Secret {
  /** `global` or the location of a regional secret. */
  location: string;
  id: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  replication?: Json;
  customerManagedEncryption?: Json;
  createTime: string;
  etag: string;
  aliases: Map<string, number>;
  versions: Map<number, Version>;
  nextVersion: number;
}

const secretIdPattern = /^[A-Za-z0-9_-]{1,255}$/;
const labelKeyPattern = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const labelValuePattern = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const aliasPattern = /^[\p{L}\p{N}][\p{L}\p{N}_-]{0,62}$/u;
const updatable = new Set(['labels', 'version_aliases', 'annotations']);

const now = () => new Date().toISOString();
const newEtag = () => `"${randomBytes(8).toString('hex')}"`;
const invalid = (message: string) => new GoogleApiError('INVALID_ARGUMENT', message);

/** Options of one request that shape the answer. */
export interface AnswerOptions {
  /** `$alt=json;enum-encoding=int`: enums as numbers (what google-gax asks for). */
  intEnums: boolean;
}

function objectOf(value: unknown, what: string): Json {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`Invalid value at '${what}'`);
  return value as Json;
}

function checkLabels(labels: Json): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(labels);
  if (entries.length > secretManagerLimits.labelsPerSecret)
    throw invalid('A secret may have at most 64 labels.');
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalid(`Invalid value at 'secret.labels[${key}]'`);
    if (!labelKeyPattern.test(key)) throw invalid(`Label key [${key}] does not match the required format.`);
    if (!labelValuePattern.test(value))
      throw invalid(`Label value for key [${key}] does not match the required format.`);
    out[key] = value;
  }
  return out;
}

/** Secret Manager's state: secrets of one project, global and regional. */
export class SecretManagerStore {
  readonly #secrets = new Map<string, Secret>();

  constructor(
    readonly projectId: string,
    readonly projectNumber: string,
  ) {}

  #key(location: string, id: string): string {
    return `${location}/${id}`;
  }

  #parentName(location: string): string {
    return location === 'global'
      ? `projects/${this.projectNumber}`
      : `projects/${this.projectNumber}/locations/${location}`;
  }

  #secret(location: string, id: string): Secret {
    const secret = this.#secrets.get(this.#key(location, id));
    if (secret === undefined) {
      throw new GoogleApiError(
        'NOT_FOUND',
        `Secret [${this.#parentName(location)}/secrets/${id}] not found or has no versions.`,
      );
    }
    return secret;
  }

  #version(secret: Secret, ref: string): Version {
    let number: number | undefined;
    if (ref === 'latest') {
      for (const v of secret.versions.values())
        if (v.state !== 'DESTROYED') number = Math.max(number ?? 0, v.number);
    } else if (/^[1-9][0-9]*$/.test(ref)) {
      number = Number(ref);
    } else {
      number = secret.aliases.get(ref);
    }
    const version = number === undefined ? undefined : secret.versions.get(number);
    if (version === undefined) {
      throw new GoogleApiError(
        'NOT_FOUND',
        `Secret Version [${this.#parentName(secret.location)}/secrets/${secret.id}/versions/${ref}] not found.`,
      );
    }
    return version;
  }

  #secretJson(secret: Secret): Json {
    const aliases: Record<string, string> = {};
    for (const [alias, n] of secret.aliases) aliases[alias] = String(n);
    return {
      name: `${this.#parentName(secret.location)}/secrets/${secret.id}`,
      ...(secret.replication === undefined ? {} : { replication: secret.replication }),
      createTime: secret.createTime,
      ...(Object.keys(secret.labels).length === 0 ? {} : { labels: { ...secret.labels } }),
      etag: secret.etag,
      ...(secret.aliases.size === 0 ? {} : { versionAliases: aliases }),
      ...(Object.keys(secret.annotations).length === 0 ? {} : { annotations: { ...secret.annotations } }),
      ...(secret.customerManagedEncryption === undefined
        ? {}
        : { customerManagedEncryption: secret.customerManagedEncryption }),
    };
  }

  #versionJson(secret: Secret, version: Version, options: AnswerOptions): Json {
    const replicas = (secret.replication?.userManaged as { replicas?: { location: string }[] } | undefined)
      ?.replicas;
    return {
      name: `${this.#parentName(secret.location)}/secrets/${secret.id}/versions/${version.number}`,
      createTime: version.createTime,
      ...(version.destroyTime === undefined ? {} : { destroyTime: version.destroyTime }),
      state: options.intEnums ? stateNumbers[version.state] : version.state,
      ...(secret.location !== 'global'
        ? {}
        : {
            replicationStatus:
              replicas === undefined
                ? { automatic: {} }
                : { userManaged: { replicas: replicas.map((r) => ({ location: r.location })) } },
          }),
      etag: version.etag,
      clientSpecifiedPayloadChecksum: version.clientChecksum,
    };
  }

  createSecret(location: string, secretId: string | undefined, body: Json): Json {
    if (secretId === undefined || !secretIdPattern.test(secretId)) {
      throw invalid(
        'Secret ID must contain only letters, numbers, dashes and underscores, and be at most 255 characters.',
      );
    }
    if (this.#secrets.has(this.#key(location, secretId))) {
      throw new GoogleApiError(
        'ALREADY_EXISTS',
        `Secret [${this.#parentName(location)}/secrets/${secretId}] already exists.`,
      );
    }
    const replication =
      body.replication === undefined ? undefined : objectOf(body.replication, 'secret.replication');
    if (location === 'global') {
      const automatic = replication?.automatic !== undefined;
      const userManaged = replication?.userManaged !== undefined;
      if (automatic === userManaged)
        throw invalid('Secret.replication must set exactly one of automatic or userManaged.');
      if (userManaged) {
        const replicas = objectOf(replication!.userManaged, 'secret.replication.user_managed').replicas;
        if (!Array.isArray(replicas) || replicas.length === 0) {
          throw invalid('Secret.replication.user_managed.replicas must not be empty.');
        }
        for (const r of replicas) {
          if (typeof objectOf(r, 'replica').location !== 'string')
            throw invalid('Replica.location is required.');
        }
      }
    } else if (replication !== undefined && Object.keys(replication).length > 0) {
      throw invalid('Regional secrets do not take a replication policy.');
    }
    const secret: Secret = {
      location,
      id: secretId,
      labels: checkLabels(objectOf(body.labels, 'secret.labels')),
      annotations: Object.fromEntries(
        Object.entries(objectOf(body.annotations, 'secret.annotations')).map(([k, v]) => [k, String(v)]),
      ),
      ...(replication === undefined || location !== 'global' ? {} : { replication }),
      ...(body.customerManagedEncryption === undefined
        ? {}
        : {
            customerManagedEncryption: objectOf(
              body.customerManagedEncryption,
              'secret.customer_managed_encryption',
            ),
          }),
      createTime: now(),
      etag: newEtag(),
      aliases: new Map(),
      versions: new Map(),
      nextVersion: 1,
    };
    if (body.versionAliases !== undefined)
      this.#setAliases(secret, objectOf(body.versionAliases, 'secret.version_aliases'));
    this.#secrets.set(this.#key(location, secretId), secret);
    return this.#secretJson(secret);
  }

  getSecret(location: string, id: string): Json {
    return this.#secretJson(this.#secret(location, id));
  }

  updateSecret(location: string, id: string, updateMask: string | undefined, body: Json): Json {
    const secret = this.#secret(location, id);
    if (updateMask === undefined || updateMask === '') throw invalid('update_mask is required.');
    const paths = updateMask.split(',').map((p) => p.trim().replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
    for (const path of paths) {
      if (!updatable.has(path)) throw invalid(`Invalid field in update_mask: ${path}`);
    }
    if (typeof body.etag === 'string' && body.etag !== '' && body.etag !== secret.etag) {
      throw new GoogleApiError(
        'ABORTED',
        'The etag provided in the request does not match the current etag of the secret.',
      );
    }
    // validate everything before changing anything
    const labels = paths.includes('labels') ? checkLabels(objectOf(body.labels, 'secret.labels')) : undefined;
    const next: Secret = { ...secret, aliases: new Map(secret.aliases) };
    if (paths.includes('version_aliases'))
      this.#setAliases(next, objectOf(body.versionAliases, 'secret.version_aliases'));
    if (labels !== undefined) secret.labels = labels;
    if (paths.includes('annotations')) {
      secret.annotations = Object.fromEntries(
        Object.entries(objectOf(body.annotations, 'secret.annotations')).map(([k, v]) => [k, String(v)]),
      );
    }
    secret.aliases = next.aliases;
    secret.etag = newEtag();
    return this.#secretJson(secret);
  }

  #setAliases(secret: Secret, aliases: Json): void {
    const entries = Object.entries(aliases);
    if (entries.length > secretManagerLimits.aliasesPerSecret) {
      throw invalid('A secret may have at most 50 version aliases.');
    }
    const map = new Map<string, number>();
    for (const [alias, value] of entries) {
      if (!aliasPattern.test(alias) || alias === 'latest') throw invalid(`Invalid version alias: ${alias}`);
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1) throw invalid(`Invalid version for alias ${alias}`);
      const version = secret.versions.get(n);
      const unchanged = secret.aliases.get(alias) === n;
      if (!unchanged && (version === undefined || version.state === 'DESTROYED')) {
        throw invalid(`Version alias ${alias} must point to an existing version that is not destroyed.`);
      }
      map.set(alias, n);
    }
    secret.aliases = map;
  }

  deleteSecret(location: string, id: string, etag: string | undefined): Json {
    const secret = this.#secret(location, id);
    if (etag !== undefined && etag !== '' && etag !== secret.etag) {
      throw new GoogleApiError(
        'ABORTED',
        'The etag provided in the request does not match the current etag of the secret.',
      );
    }
    this.#secrets.delete(this.#key(location, id));
    return {};
  }

  listSecrets(location: string, query: URLSearchParams): Json {
    const pageSize = this.#pageSize(query, secretManagerLimits.listSecretsPageSize);
    const match = this.#filter(query.get('filter') ?? '');
    const all = [...this.#secrets.values()]
      .filter((s) => s.location === location && match(s))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const token = query.get('pageToken') ?? '';
    const after = token === '' ? undefined : this.#decodeToken(token);
    const rest = after === undefined ? all : all.filter((s) => s.id > after);
    const page = rest.slice(0, pageSize);
    const more = rest.length > page.length;
    return {
      ...(page.length === 0 ? {} : { secrets: page.map((s) => this.#secretJson(s)) }),
      ...(more ? { nextPageToken: Buffer.from(page[page.length - 1]!.id).toString('base64url') } : {}),
      totalSize: all.length,
    };
  }

  #pageSize(query: URLSearchParams, max: number): number {
    const text = query.get('pageSize');
    if (text === null || text === '' || text === '0') return max;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > max) throw invalid(`page_size must be between 0 and ${max}.`);
    return n;
  }

  #decodeToken(token: string): string {
    const id = Buffer.from(token, 'base64url').toString('utf8');
    if (!secretIdPattern.test(id)) throw invalid('Invalid page token.');
    return id;
  }

  /** The filter syntax Secret Manager documents for secrets: `labels.K=V`, `labels.K:V`, `name:S`, AND. */
  #filter(filter: string): (s: Secret) => boolean {
    const terms = filter
      .split(/\s+AND\s+|\s+/)
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const tests = terms.map((term) => {
      const label = /^labels\.([^=:]+)([=:])(.*)$/.exec(term);
      if (label !== null) {
        const [, key, op, raw] = label;
        const value = raw!.replace(/^"(.*)"$/, '$1');
        return (s: Secret) =>
          op === '='
            ? s.labels[key!] === value
            : value === '*'
              ? key! in s.labels
              : (s.labels[key!] ?? '').includes(value);
      }
      const name = /^name:(.+)$/.exec(term);
      if (name !== null) return (s: Secret) => s.id.includes(name[1]!.replace(/^"(.*)"$/, '$1'));
      throw invalid(`Invalid filter: ${term}`);
    });
    return (s) => tests.every((t) => t(s));
  }

  addVersion(location: string, id: string, body: Json, options: AnswerOptions): Json {
    const secret = this.#secret(location, id);
    const payload = objectOf(body.payload, 'payload');
    if (typeof payload.data !== 'string') throw invalid('Payload data is required.');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload.data))
      throw invalid("Invalid value at 'payload.data' (TYPE_BYTES)");
    const data = Buffer.from(payload.data, 'base64');
    if (data.length > secretManagerLimits.payloadBytes) {
      throw invalid(`Secret Version payload size ${data.length} exceeds the limit of 65536 bytes.`);
    }
    let clientChecksum = false;
    if (payload.dataCrc32c !== undefined) {
      const sent = typeof payload.dataCrc32c === 'string' ? payload.dataCrc32c : String(payload.dataCrc32c);
      if (!/^[0-9]+$/.test(sent)) throw invalid("Invalid value at 'payload.data_crc32c' (TYPE_INT64)");
      if (Number(sent) !== crc32c(data)) {
        throw invalid(
          'The provided data_crc32c does not match the checksum of the data the server received.',
        );
      }
      clientChecksum = true;
    }
    const version: Version = {
      number: secret.nextVersion++,
      createTime: now(),
      state: 'ENABLED',
      data,
      clientChecksum,
      etag: newEtag(),
    };
    secret.versions.set(version.number, version);
    return this.#versionJson(secret, version, options);
  }

  getVersion(location: string, id: string, ref: string, options: AnswerOptions): Json {
    const secret = this.#secret(location, id);
    return this.#versionJson(secret, this.#version(secret, ref), options);
  }

  accessVersion(location: string, id: string, ref: string): Json {
    const secret = this.#secret(location, id);
    const version = this.#version(secret, ref);
    const name = `${this.#parentName(location)}/secrets/${id}/versions/${version.number}`;
    if (version.state !== 'ENABLED' || version.data === undefined) {
      throw new GoogleApiError(
        'FAILED_PRECONDITION',
        `Secret Version [${name}] is in ${version.state} state.`,
      );
    }
    return {
      name,
      payload: { data: version.data.toString('base64'), dataCrc32c: String(crc32c(version.data)) },
    };
  }

  changeVersion(
    location: string,
    id: string,
    ref: string,
    to: State,
    body: Json,
    options: AnswerOptions,
  ): Json {
    const secret = this.#secret(location, id);
    const version = this.#version(secret, ref);
    if (typeof body.etag === 'string' && body.etag !== '' && body.etag !== version.etag) {
      throw new GoogleApiError(
        'ABORTED',
        'The etag provided in the request does not match the current etag of the version.',
      );
    }
    if (version.state === 'DESTROYED') {
      throw new GoogleApiError(
        'FAILED_PRECONDITION',
        `Secret Version [${this.#parentName(location)}/secrets/${id}/versions/${version.number}] is in DESTROYED state.`,
      );
    }
    version.state = to;
    version.etag = newEtag();
    if (to === 'DESTROYED') {
      version.data = undefined;
      version.destroyTime = now();
    }
    return this.#versionJson(secret, version, options);
  }

  listVersions(location: string, id: string, query: URLSearchParams, options: AnswerOptions): Json {
    const secret = this.#secret(location, id);
    const pageSize = this.#pageSize(query, secretManagerLimits.listVersionsPageSize);
    const all = [...secret.versions.values()].sort((a, b) => b.number - a.number);
    const token = query.get('pageToken') ?? '';
    const before = token === '' ? undefined : Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (before !== undefined && !Number.isSafeInteger(before)) throw invalid('Invalid page token.');
    const rest = before === undefined ? all : all.filter((v) => v.number < before);
    const page = rest.slice(0, pageSize);
    const more = rest.length > page.length;
    return {
      ...(page.length === 0 ? {} : { versions: page.map((v) => this.#versionJson(secret, v, options)) }),
      ...(more
        ? { nextPageToken: Buffer.from(String(page[page.length - 1]!.number)).toString('base64url') }
        : {}),
      totalSize: all.length,
    };
  }

  /** Test hooks: state changed behind the client's back. */
  removeSecret(id: string, location = 'global'): boolean {
    return this.#secrets.delete(this.#key(location, id));
  }

  destroyBehindBack(id: string, alias: string, location = 'global'): boolean {
    const secret = this.#secrets.get(this.#key(location, id));
    const n = secret?.aliases.get(alias);
    const version = n === undefined ? undefined : secret?.versions.get(n);
    if (version === undefined) return false;
    version.state = 'DESTROYED';
    version.data = undefined;
    version.destroyTime = now();
    return true;
  }

  setLabels(id: string, labels: Record<string, string>, location = 'global'): boolean {
    const secret = this.#secrets.get(this.#key(location, id));
    if (secret === undefined) return false;
    secret.labels = { ...labels };
    return true;
  }

  /** Ids of the secrets held (`<location>/<id>` for regional ones). */
  secretIds(): string[] {
    return [...this.#secrets.values()]
      .map((s) => (s.location === 'global' ? s.id : `${s.location}/${s.id}`))
      .sort();
  }

  /** Versions not destroyed, in all. */
  liveVersionCount(): number {
    let n = 0;
    for (const s of this.#secrets.values())
      for (const v of s.versions.values()) if (v.state !== 'DESTROYED') n++;
    return n;
  }
}
