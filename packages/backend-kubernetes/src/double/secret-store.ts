import { randomBytes, randomUUID } from 'node:crypto';
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  invalid,
  KubeStatusError,
  notFound,
  type StatusCause,
  staleObject,
} from './k8s-status.js';
import { jsonMergePatch, jsonPatch, strategicMergePatch } from './patches.js';
import {
  labelValueProblem,
  parseLabelSelector,
  parseSecretFieldSelector,
  qualifiedNameProblem,
  type Selector,
} from './selectors.js';

/** What the API server allows in one Secret's `data` (decoded bytes of all values): 1 MiB. */
export const maxSecretBytes = 1_048_576;

/** A Secret's metadata as the double keeps it (the subset of ObjectMeta it serves). */
export interface SecretMetadata {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

/** One stored Secret; `data` holds canonical base64, as the API serves it. */
export interface StoredSecret {
  metadata: SecretMetadata;
  type: string;
  data?: Record<string, string>;
  immutable?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Watcher {
  namespace: string;
  labels: Selector;
  fields: Selector;
  send(type: WatchEventType, secret: StoredSecret): void;
}

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

/** One page of a list: the Secrets and the list's metadata (resourceVersion, continue). */
export interface SecretPage {
  items: StoredSecret[];
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
}

interface Snapshot {
  takenAt: number;
  items: StoredSecret[];
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dataKey = /^[-._a-zA-Z0-9]+$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const subdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value))
    throw badRequest(
      `Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal into Go struct field ${field} of type map[string]string`,
    );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw badRequest(
        `Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal ${typeof v} into Go struct field ${field} of type string`,
      );
    }
    out[k] = v;
  }
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function sortedKeys<T>(map: Record<string, T> | undefined): Record<string, T> | undefined {
  if (map === undefined) return undefined;
  const out: Record<string, T> = {};
  for (const key of Object.keys(map).sort()) out[key] = map[key]!;
  return out;
}

/** The wire form of a stored Secret (a copy). */
export function secretJson(secret: StoredSecret, withType = true): Record<string, unknown> {
  const m = secret.metadata;
  const metadata: Record<string, unknown> = {
    name: m.name,
    ...(m.generateName === undefined ? {} : { generateName: m.generateName }),
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    creationTimestamp: m.creationTimestamp,
    ...(m.deletionTimestamp === undefined ? {} : { deletionTimestamp: m.deletionTimestamp }),
    ...(m.deletionGracePeriodSeconds === undefined
      ? {}
      : { deletionGracePeriodSeconds: m.deletionGracePeriodSeconds }),
    ...(m.labels === undefined ? {} : { labels: { ...m.labels } }),
    ...(m.annotations === undefined ? {} : { annotations: { ...m.annotations } }),
    ...(m.ownerReferences === undefined ? {} : { ownerReferences: structuredClone(m.ownerReferences) }),
    ...(m.finalizers === undefined ? {} : { finalizers: [...m.finalizers] }),
  };
  return {
    ...(withType ? { kind: 'Secret', apiVersion: 'v1' } : {}),
    metadata,
    ...(secret.immutable === undefined ? {} : { immutable: secret.immutable }),
    ...(secret.data === undefined ? {} : { data: { ...secret.data } }),
    type: secret.type,
  };
}

/** The fields a field selector reads. */
function fieldsOf(secret: StoredSecret): Record<string, string> {
  return {
    'metadata.name': secret.metadata.name,
    'metadata.namespace': secret.metadata.namespace,
    type: secret.type,
  };
}

/** Continue tokens as the API server makes them: base64 JSON naming the list's revision and where to go on. */
function continueToken(rv: number, lastName: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastName}\u0000` })).toString(
    'base64',
  );
}

function readContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {
      v?: unknown;
      rv?: unknown;
      start?: unknown;
    };
    if (parsed.v === 'meta.k8s.io/v1' && typeof parsed.rv === 'number' && typeof parsed.start === 'string') {
      return { rv: parsed.rv, start: parsed.start };
    }
  } catch {
    // falls through to the refusal
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

/**
 * The double's etcd and registry for Secrets: namespaces, Secrets with uid, creationTimestamp and
 * a resourceVersion from one cluster-wide counter that only goes up, the API server's validation
 * of Secrets (names, labels, data keys, base64, the 1 MiB limit, immutability), optimistic
 * concurrency, consistent paginated lists and watches.
 */
export class SecretStore {
  readonly #namespaces = new Map<
    string,
    { uid: string; creationTimestamp: string; resourceVersion: string }
  >();
  readonly #secrets = new Map<string, Map<string, StoredSecret>>();
  readonly #watchers = new Set<Watcher>();
  readonly #snapshots = new Map<string, Snapshot>();
  #revision = 100;

  constructor(
    /** How long a continue token stays usable before it is compacted away (410 Expired). */
    readonly continueTtlMs = 300_000,
    readonly now: () => Date = () => new Date(),
  ) {}

  /** The current revision (what a list reports as its resourceVersion). */
  get revision(): number {
    return this.#revision;
  }

  #next(): string {
    this.#revision += 1;
    return String(this.#revision);
  }

  #timestamp(): string {
    return `${this.now().toISOString().slice(0, 19)}Z`;
  }

  createNamespace(name: string): void {
    if (this.#namespaces.has(name)) return;
    this.#namespaces.set(name, {
      uid: randomUUID(),
      creationTimestamp: this.#timestamp(),
      resourceVersion: this.#next(),
    });
    this.#secrets.set(name, new Map());
  }

  /** Removes a namespace and everything in it (what `kubectl delete namespace` ends with). */
  deleteNamespace(name: string): boolean {
    const secrets = this.#secrets.get(name);
    if (secrets === undefined) return false;
    for (const secret of secrets.values()) this.#emit('DELETED', secret);
    this.#secrets.delete(name);
    this.#namespaces.delete(name);
    this.#next();
    return true;
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  namespaceJson(name: string): Record<string, unknown> {
    const ns = this.#namespaces.get(name);
    if (ns === undefined) throw notFound('namespaces', name);
    return {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name,
        uid: ns.uid,
        resourceVersion: ns.resourceVersion,
        creationTimestamp: ns.creationTimestamp,
        labels: { 'kubernetes.io/metadata.name': name },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
  }

  namespaceNames(): string[] {
    return [...this.#namespaces.keys()].sort();
  }

  #in(namespace: string): Map<string, StoredSecret> {
    return this.#secrets.get(namespace) ?? new Map();
  }

  /** A Secret as stored (not a copy: callers must not change it), or undefined. */
  peek(namespace: string, name: string): StoredSecret | undefined {
    return this.#in(namespace).get(name);
  }

  names(namespace: string): string[] {
    return [...this.#in(namespace).keys()].sort();
  }

  get(namespace: string, name: string): StoredSecret {
    const secret = this.#in(namespace).get(name);
    if (secret === undefined) throw notFound('secrets', name);
    return secret;
  }

  /**
   * Reads a Secret from a request body into the stored shape, checking the JSON types the way
   * decoding does (400) and the API's validation rules (422).
   */
  #fromBody(namespace: string, body: unknown, nameFromUrl?: string): StoredSecret {
    if (!isObject(body)) throw badRequest("Object 'Kind' is missing in 'null'");
    if (body.kind !== undefined && body.kind !== 'Secret') {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (v1)`,
      );
    }
    if (body.apiVersion !== undefined && body.apiVersion !== 'v1') {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (v1)`,
      );
    }
    const meta = isObject(body.metadata) ? body.metadata : {};
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    let name = typeof meta.name === 'string' ? meta.name : '';
    const generateName =
      typeof meta.generateName === 'string' && meta.generateName !== '' ? meta.generateName : undefined;
    if (nameFromUrl !== undefined && name !== nameFromUrl) {
      throw badRequest(
        `the name of the object (${name}) does not match the name on the URL (${nameFromUrl})`,
      );
    }
    if (name === '' && generateName !== undefined) {
      name = `${generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    }
    const data = stringMap(body.data, 'Secret.data');
    const stringData = stringMap(body.stringData, 'Secret.stringData');
    const causes: StatusCause[] = [];
    const decoded: Record<string, Buffer> = {};
    for (const [key, value] of Object.entries(data ?? {})) {
      if (!base64.test(value)) {
        const at = [...value].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
        throw badRequest(
          `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at === -1 ? value.length : at}`,
        );
      }
      decoded[key] = Buffer.from(value, 'base64');
    }
    for (const [key, value] of Object.entries(stringData ?? {})) decoded[key] = Buffer.from(value, 'utf8');
    const labels = stringMap(meta.labels, 'ObjectMeta.labels');
    const annotations = stringMap(meta.annotations, 'ObjectMeta.annotations');
    const type = typeof body.type === 'string' && body.type !== '' ? body.type : 'Opaque';
    if (name === '') {
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      });
    } else if (name.length > 253 || !dnsSubdomain.test(name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": ${name.length > 253 ? 'must be no more than 253 characters' : subdomainMessage}`,
        field: 'metadata.name',
      });
    }
    for (const [key, value] of Object.entries(labels ?? {})) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem !== undefined) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: "${key}": ${keyProblem}`,
          field: 'metadata.labels',
        });
      }
      const valueProblem = labelValueProblem(value);
      if (valueProblem !== undefined) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: "${value}": ${valueProblem}`,
          field: `metadata.labels`,
        });
      }
    }
    for (const key of Object.keys(annotations ?? {})) {
      const problem = qualifiedNameProblem(key.toLowerCase());
      if (problem !== undefined) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: "${key}": ${problem}`,
          field: 'metadata.annotations',
        });
      }
    }
    const annotationBytes = Object.entries(annotations ?? {}).reduce(
      (n, [k, v]) => n + k.length + v.length,
      0,
    );
    if (annotationBytes > 262_144) {
      causes.push({
        reason: 'FieldValueTooLong',
        message: 'Too long: must have at most 262144 bytes',
        field: 'metadata.annotations',
      });
    }
    let total = 0;
    for (const [key, value] of Object.entries(decoded)) {
      if (key.length > 253 || !dataKey.test(key) || key === '.' || key === '..') {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
          field: `data[${key}]`,
        });
      }
      total += value.length;
    }
    if (total > maxSecretBytes) {
      causes.push({
        reason: 'FieldValueTooLong',
        message: `Too long: must have at most ${maxSecretBytes} bytes`,
        field: 'data',
      });
    }
    if (causes.length > 0) throw invalid('Secret', name, causes);
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers.map(String) : undefined;
    const ownerReferences = Array.isArray(meta.ownerReferences)
      ? structuredClone(meta.ownerReferences)
      : undefined;
    const keys = Object.keys(decoded).sort();
    return {
      metadata: {
        name,
        namespace,
        uid: typeof meta.uid === 'string' ? meta.uid : '',
        resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
        creationTimestamp: '',
        ...(generateName === undefined ? {} : { generateName }),
        ...(labels === undefined || Object.keys(labels).length === 0 ? {} : { labels: sortedKeys(labels)! }),
        ...(annotations === undefined || Object.keys(annotations).length === 0
          ? {}
          : { annotations: sortedKeys(annotations)! }),
        ...(finalizers === undefined || finalizers.length === 0 ? {} : { finalizers }),
        ...(ownerReferences === undefined || ownerReferences.length === 0 ? {} : { ownerReferences }),
      },
      type,
      ...(keys.length === 0
        ? {}
        : { data: Object.fromEntries(keys.map((k) => [k, decoded[k]!.toString('base64')])) }),
      ...(typeof body.immutable === 'boolean' ? { immutable: body.immutable } : {}),
    };
  }

  /** POST: a new Secret; the namespace must exist, the name must be free. */
  create(namespace: string, body: unknown, dryRun = false): StoredSecret {
    const secret = this.#fromBody(namespace, body);
    if (!this.#namespaces.has(namespace)) throw notFound('namespaces', namespace);
    if (secret.metadata.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    const secrets = this.#in(namespace);
    if (secrets.has(secret.metadata.name)) throw alreadyExists('secrets', secret.metadata.name);
    secret.metadata.uid = randomUUID();
    secret.metadata.creationTimestamp = this.#timestamp();
    if (dryRun) return secret;
    secret.metadata.resourceVersion = this.#next();
    secrets.set(secret.metadata.name, secret);
    this.#emit('ADDED', secret);
    return secret;
  }

  /** PUT: replaces a Secret; a resourceVersion in the body must be the current one (409 otherwise). */
  update(namespace: string, name: string, body: unknown, dryRun = false): StoredSecret {
    const next = this.#fromBody(namespace, body, name);
    const current = this.get(namespace, name);
    return this.#replace(current, next, dryRun);
  }

  #replace(current: StoredSecret, next: StoredSecret, dryRun: boolean): StoredSecret {
    const name = current.metadata.name;
    if (next.metadata.uid !== '' && next.metadata.uid !== current.metadata.uid) {
      throw conflict(
        'secrets',
        name,
        `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (
      next.metadata.resourceVersion !== '' &&
      next.metadata.resourceVersion !== current.metadata.resourceVersion
    ) {
      throw conflict('secrets', name, staleObject);
    }
    const causes: StatusCause[] = [];
    if (next.type !== current.type) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${next.type}": field is immutable`,
        field: 'type',
      });
    }
    if (current.immutable === true) {
      if (!sameJson(next.data, current.data)) {
        causes.push({
          reason: 'FieldValueForbidden',
          message: 'Forbidden: field is immutable when `immutable` is set',
          field: 'data',
        });
      }
      if (next.immutable !== true) {
        causes.push({
          reason: 'FieldValueForbidden',
          message: 'Forbidden: field is immutable when `immutable` is set',
          field: 'immutable',
        });
      }
    }
    if (causes.length > 0) throw invalid('Secret', name, causes);
    const merged: StoredSecret = {
      ...next,
      metadata: {
        ...next.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        resourceVersion: current.metadata.resourceVersion,
        ...(current.metadata.generateName === undefined
          ? {}
          : { generateName: current.metadata.generateName }),
        ...(current.metadata.deletionTimestamp === undefined
          ? {}
          : { deletionTimestamp: current.metadata.deletionTimestamp, deletionGracePeriodSeconds: 0 }),
      },
    };
    // an update that changes nothing keeps the resourceVersion, as the API server does
    if (sameJson(secretJson(merged), secretJson(current))) return current;
    if (dryRun) return merged;
    const secrets = this.#in(current.metadata.namespace);
    if (merged.metadata.deletionTimestamp !== undefined && (merged.metadata.finalizers ?? []).length === 0) {
      secrets.delete(name);
      merged.metadata.resourceVersion = this.#next();
      this.#emit('DELETED', merged);
      return merged;
    }
    merged.metadata.resourceVersion = this.#next();
    secrets.set(name, merged);
    this.#emit('MODIFIED', merged);
    return merged;
  }

  /** PATCH in one of the three formats; the patched object is then validated as an update. */
  patch(namespace: string, name: string, contentType: string, patch: unknown, dryRun = false): StoredSecret {
    const current = this.get(namespace, name);
    const base = secretJson(current) as Parameters<typeof jsonMergePatch>[0];
    let patched: unknown;
    if (contentType === 'application/merge-patch+json') patched = jsonMergePatch(base, patch as never);
    else if (contentType === 'application/strategic-merge-patch+json')
      patched = strategicMergePatch(base, patch as never);
    else if (contentType === 'application/json-patch+json') patched = jsonPatch(base, patch as never);
    else
      throw new KubeStatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
    if (!isObject(patched)) throw badRequest('the patched object is not an object');
    const meta = isObject(patched.metadata) ? patched.metadata : {};
    const causes: StatusCause[] = [];
    if (meta.name !== name)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${String(meta.name)}": field is immutable`,
        field: 'metadata.name',
      });
    if (meta.uid !== undefined && meta.uid !== current.metadata.uid) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${String(meta.uid)}": field is immutable`,
        field: 'metadata.uid',
      });
    }
    if (causes.length > 0) throw invalid('Secret', name, causes);
    return this.#replace(current, this.#fromBody(namespace, patched, name), dryRun);
  }

  /**
   * DELETE: removes the Secret, or marks it (deletionTimestamp) while finalizers remain.
   * Preconditions (uid, resourceVersion) that do not match are a 409 Conflict.
   */
  delete(
    namespace: string,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string } = {},
    dryRun = false,
  ): { secret: StoredSecret; gone: boolean } {
    const current = this.get(namespace, name);
    if (preconditions.uid !== undefined && preconditions.uid !== current.metadata.uid) {
      throw conflict(
        'secrets',
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (
      preconditions.resourceVersion !== undefined &&
      preconditions.resourceVersion !== current.metadata.resourceVersion
    ) {
      throw conflict(
        'secrets',
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    if (dryRun) return { secret: current, gone: (current.metadata.finalizers ?? []).length === 0 };
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp !== undefined) return { secret: current, gone: false };
      const marked: StoredSecret = {
        ...current,
        metadata: {
          ...current.metadata,
          deletionTimestamp: this.#timestamp(),
          deletionGracePeriodSeconds: 0,
          resourceVersion: this.#next(),
        },
      };
      this.#in(namespace).set(name, marked);
      this.#emit('MODIFIED', marked);
      return { secret: marked, gone: false };
    }
    this.#in(namespace).delete(name);
    const gone: StoredSecret = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: this.#next() },
    };
    this.#emit('DELETED', gone);
    return { secret: gone, gone: true };
  }

  /**
   * A page of Secrets in name order. With `limit`, a continue token leads on to the rest of the
   * same snapshot (the revision the first page saw); a token older than `continueTtlMs` is
   * refused with 410 Expired, as after etcd compaction.
   */
  list(namespace: string, options: ListOptions = {}): SecretPage {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseSecretFieldSelector(options.fieldSelector);
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    this.#dropOldSnapshots();
    let rv = this.#revision;
    let start = '';
    let all: StoredSecret[];
    if (
      options.continueToken !== undefined &&
      options.continueToken !== null &&
      options.continueToken !== ''
    ) {
      const token = readContinue(options.continueToken);
      const snapshot = this.#snapshots.get(`${namespace}@${token.rv}`);
      if (snapshot === undefined) throw expired();
      rv = token.rv;
      start = token.start;
      all = snapshot.items;
    } else {
      all = [...this.#in(namespace).values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    }
    const items: StoredSecret[] = [];
    let next: string | undefined;
    let remaining = 0;
    for (const secret of all) {
      if (secret.metadata.name < start) continue;
      if (!labels.matches(secret.metadata.labels ?? {}) || !fields.matches(fieldsOf(secret))) continue;
      if (limit !== undefined && items.length >= limit) {
        remaining++;
        if (next === undefined) next = continueToken(rv, items[items.length - 1]!.metadata.name);
        continue;
      }
      items.push(secret);
    }
    if (next !== undefined && !this.#snapshots.has(`${namespace}@${rv}`)) {
      this.#snapshots.set(`${namespace}@${rv}`, { takenAt: performance.now(), items: all });
    }
    return {
      items,
      metadata: {
        resourceVersion: String(rv),
        ...(next === undefined ? {} : { continue: next }),
        // the API server counts what is left only when no selector filters the list
        ...(next !== undefined && labels.empty && fields.empty ? { remainingItemCount: remaining } : {}),
      },
    };
  }

  #dropOldSnapshots(): void {
    const cutoff = performance.now() - this.continueTtlMs;
    for (const [key, snapshot] of this.#snapshots) if (snapshot.takenAt < cutoff) this.#snapshots.delete(key);
    while (this.#snapshots.size > 64) this.#snapshots.delete(this.#snapshots.keys().next().value!);
  }

  /** Forgets every continue token handed out (as a compaction would). */
  compact(): void {
    this.#snapshots.clear();
  }

  /** Subscribes to changes of matching Secrets in a namespace; returns the unsubscribe. */
  watch(
    namespace: string,
    options: { labelSelector?: string | null; fieldSelector?: string | null },
    send: Watcher['send'],
  ): () => void {
    const watcher: Watcher = {
      namespace,
      labels: parseLabelSelector(options.labelSelector),
      fields: parseSecretFieldSelector(options.fieldSelector),
      send,
    };
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  #emit(type: WatchEventType, secret: StoredSecret): void {
    for (const w of this.#watchers) {
      if (w.namespace !== secret.metadata.namespace) continue;
      if (!w.labels.matches(secret.metadata.labels ?? {}) || !w.fields.matches(fieldsOf(secret))) continue;
      w.send(type, secret);
    }
  }

  // --- changes behind the client's back (faults) ---

  /** Deletes a Secret as another client would (finalizers ignored). */
  removeBehindBack(namespace: string, name: string): boolean {
    const current = this.#in(namespace).get(name);
    if (current === undefined) return false;
    this.#in(namespace).delete(name);
    this.#emit('DELETED', { ...current, metadata: { ...current.metadata, resourceVersion: this.#next() } });
    return true;
  }

  /** Changes a Secret as another writer would: new labels, data or annotations, a new resourceVersion. */
  modifyBehindBack(
    namespace: string,
    name: string,
    change: {
      labels?: Record<string, string>;
      data?: Record<string, string>;
      annotations?: Record<string, string>;
    },
  ): boolean {
    const current = this.#in(namespace).get(name);
    if (current === undefined) return false;
    const next: StoredSecret = {
      ...current,
      ...(change.data === undefined ? {} : { data: { ...change.data } }),
      metadata: {
        ...current.metadata,
        ...(change.labels === undefined ? {} : { labels: { ...change.labels } }),
        ...(change.annotations === undefined
          ? {}
          : { annotations: { ...current.metadata.annotations, ...change.annotations } }),
        resourceVersion: this.#next(),
      },
    };
    this.#in(namespace).set(name, next);
    this.#emit('MODIFIED', next);
    return true;
  }
}
