import type {
  BatchCreateResult,
  ConnectionTestResult,
  CreateSecretInput,
  FieldValues,
  SecretFilter,
  SecretMetadata,
  SecretValues,
  SecretVersion,
  UpdateMetadataInput,
  UpdateValuesInput,
} from '../api-types.js';
import { CofferApiError, isCofferApiError } from '../errors/api-error.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { type Page, type PageQuery, paginate } from '../pagination.js';
import { callOptions, ifMatch, splitOptions, type WriteOptions } from './resource-support.js';

/** How {@link SecretsApi.values} reads. */
export interface ReadValuesOptions extends CallOptions {
  /** Real values instead of masks for secret fields (needs `read`; audited as a reveal). */
  reveal?: boolean;
  /** A kept older version instead of the current one. */
  version?: number;
}

/** How {@link SecretsApi.modify} reads, retries and writes. */
export interface ModifyOptions extends CallOptions {
  /**
   * Read revealed values (default true). With false, `change` sees secret fields as the mask;
   * a mask it leaves alone keeps the stored value, and no reveal is audited.
   */
  reveal?: boolean;
  /** Read-change-write rounds before a `version_conflict` is given up on (default 5). */
  attempts?: number;
}

/** What `change` of {@link SecretsApi.modify} is told besides the values. */
export interface ModifyContext {
  secretId: string;
  /** The version the values were read at (the write is conditional on it). */
  version: number;
  /** Which round this is (1 first; more after a concurrent write). */
  attempt: number;
}

/** One secret's outcome in {@link SecretsApi.createMany}: the new secret, or the error a single create would have thrown. */
export type BatchCreateOutcome =
  | { name: string; created: true; secret: SecretMetadata }
  | { name: string; created: false; error: CofferApiError };

function outcomeOf(result: BatchCreateResult['results'][number]): BatchCreateOutcome {
  if (result.created && result.secret !== undefined) {
    return { name: result.name, created: true, secret: result.secret };
  }
  const problem = result.error;
  const error = new CofferApiError({
    status: problem?.status ?? 0,
    code: problem?.code ?? 'unexpected_response',
    message: problem?.detail ?? 'the server answered without the secret or a reason',
    ...(problem?.issues === undefined ? {} : { issues: problem.issues }),
    ...(problem?.details === undefined ? {} : { details: problem.details }),
    method: 'POST',
    path: '/secrets/batch',
  });
  return { name: result.name, created: false, error };
}

/** Secrets: metadata, values, versions, the trash, connection tests, and check-and-set. */
export interface SecretsApi {
  /** `GET /secrets`: one page of the secrets the caller may read (admins: all). */
  list(filter?: SecretFilter & PageQuery & CallOptions): Promise<Page<SecretMetadata>>;
  /** Every secret {@link list} finds, page after page. */
  iterate(
    filter?: SecretFilter & { limit?: number } & CallOptions,
  ): AsyncGenerator<SecretMetadata, void, undefined>;
  /** `GET /secrets/{ref}`: metadata by id or name (also of a deleted secret), with `currentVersion`. */
  get(ref: string, options?: CallOptions): Promise<SecretMetadata>;
  /** `POST /secrets`: creates version 1. */
  create(input: CreateSecretInput, options?: CallOptions): Promise<SecretMetadata>;
  /**
   * `POST /secrets/batch`: creates up to 100 secrets in one request; one outcome per secret, in
   * order, with the new `secret` or the `error` a single create would have thrown (one failing
   * does not stop the others).
   */
  createMany(inputs: readonly CreateSecretInput[], options?: CallOptions): Promise<BatchCreateOutcome[]>;
  /** `GET /secrets/{ref}/values`: values, masked unless `reveal` (audited). */
  values(ref: string, options?: ReadValuesOptions): Promise<SecretValues>;
  /**
   * `PATCH /secrets/{ref}/values`: sets `values`, removes `removeKeys`, keeps the rest, as a new
   * version. A secret field sent as the mask keeps its stored value.
   */
  updateValues(ref: string, input: UpdateValuesInput, options?: WriteOptions): Promise<SecretMetadata>;
  /** `PATCH /secrets/{ref}`: description and/or labels (labels replace all labels). */
  updateMetadata(ref: string, input: UpdateMetadataInput, options?: WriteOptions): Promise<SecretMetadata>;
  /** `POST /secrets/{ref}/rename`: id, values and versions stay. */
  rename(ref: string, newName: string, options?: WriteOptions): Promise<SecretMetadata>;
  /** `GET /secrets/{ref}/versions`: kept versions, newest first. */
  versions(ref: string, page?: PageQuery & CallOptions): Promise<Page<SecretVersion>>;
  /** `POST /secrets/{ref}/rollback`: a new version holding the values of `toVersion`. */
  rollback(ref: string, toVersion: number, options?: WriteOptions): Promise<SecretMetadata>;
  /** `DELETE /secrets/{ref}`: to the trash (restorable until `purgeAfter`); the name is free at once. */
  delete(ref: string, options?: WriteOptions): Promise<SecretMetadata>;
  /** `POST /secrets/{ref}/restore`: back from the trash, under `newName` if the name was reused. */
  restore(ref: string, input?: { newName?: string }, options?: WriteOptions): Promise<SecretMetadata>;
  /** `POST /secrets/{ref}/purge`: gone for good, with every version. */
  purge(ref: string, options?: WriteOptions): Promise<void>;
  /** `POST /secrets/delete-all`: every secret the caller manages to the trash. */
  deleteAll(input: { confirm: 'delete-all' }, options?: CallOptions): Promise<{ deleted: number }>;
  /** `POST /secrets/{ref}/test`: does the server get in with these credentials? (`use` suffices) */
  test(ref: string, options?: CallOptions): Promise<ConnectionTestResult>;
  /**
   * Check-and-set: reads the values with their version, calls `change` with them, and writes
   * what it returns conditionally on that version (fields it added or changed are set, fields
   * it dropped are removed). When another writer got in between (412), it reads again and
   * calls `change` again, so no update is lost. Returns the new metadata (or the current one
   * when `change` changed nothing, in which case nothing is written).
   *
   * @example
   * await client.secrets.modify('mail', (values) => ({ ...values, port: 465 }));
   */
  modify(
    ref: string,
    change: (values: FieldValues, context: ModifyContext) => FieldValues | Promise<FieldValues>,
    options?: ModifyOptions,
  ): Promise<SecretMetadata>;
}

export function secretsApi(transport: Transport): SecretsApi {
  const api: SecretsApi = {
    list: (filter) => {
      const { query, call } = splitOptions(filter);
      return transport.call('GET /secrets', { query, ...call });
    },
    iterate: (filter = {}) => {
      const { limit, signal, ...rest } = filter;
      return paginate((page) => api.list({ ...rest, ...page }), {
        ...(limit === undefined ? {} : { limit }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
    get: (ref, options) => transport.call('GET /secrets/{ref}', { path: { ref }, ...callOptions(options) }),
    create: (input, options) => transport.call('POST /secrets', { body: input, ...callOptions(options) }),
    createMany: async (inputs, options) => {
      const { results } = await transport.call('POST /secrets/batch', {
        body: { secrets: [...inputs] },
        ...callOptions(options),
      });
      return results.map(outcomeOf);
    },
    values: (ref, options) => {
      const { query, call } = splitOptions(options);
      return transport.call('GET /secrets/{ref}/values', { path: { ref }, query, ...call });
    },
    updateValues: async (ref, input, options) =>
      transport.call('PATCH /secrets/{ref}/values', {
        path: { ref },
        body: input,
        ...ifMatch(options),
        ...callOptions(options),
      }),
    updateMetadata: async (ref, input, options) =>
      transport.call('PATCH /secrets/{ref}', {
        path: { ref },
        body: input,
        ...ifMatch(options),
        ...callOptions(options),
      }),
    rename: async (ref, newName, options) =>
      transport.call('POST /secrets/{ref}/rename', {
        path: { ref },
        body: { newName },
        ...ifMatch(options),
        ...callOptions(options),
      }),
    versions: (ref, page) => {
      const { query, call } = splitOptions(page);
      return transport.call('GET /secrets/{ref}/versions', { path: { ref }, query, ...call });
    },
    rollback: async (ref, toVersion, options) =>
      transport.call('POST /secrets/{ref}/rollback', {
        path: { ref },
        body: { toVersion },
        ...ifMatch(options),
        ...callOptions(options),
      }),
    delete: (ref, options) =>
      transport.call('DELETE /secrets/{ref}', {
        path: { ref },
        ...ifMatch(options),
        ...callOptions(options),
      }),
    restore: (ref, input, options) =>
      transport.call('POST /secrets/{ref}/restore', {
        path: { ref },
        ...(input?.newName === undefined ? {} : { body: { newName: input.newName } }),
        ...ifMatch(options),
        ...callOptions(options),
      }),
    purge: async (ref, options) => {
      await transport.call('POST /secrets/{ref}/purge', {
        path: { ref },
        ...ifMatch(options),
        ...callOptions(options),
      });
    },
    deleteAll: (input, options) =>
      transport.call('POST /secrets/delete-all', {
        body: { confirm: input.confirm },
        ...callOptions(options),
      }),
    test: (ref, options) =>
      transport.call('POST /secrets/{ref}/test', { path: { ref }, ...callOptions(options) }),
    modify: async (ref, change, options = {}) => {
      const attempts = Math.max(1, options.attempts ?? 5);
      const call = callOptions(options);
      for (let attempt = 1; ; attempt++) {
        const current = await api.values(ref, { reveal: options.reveal ?? true, ...call });
        const next = await change(
          { ...current.values },
          { secretId: current.secretId, version: current.version, attempt },
        );
        if (typeof next !== 'object' || next === null || Array.isArray(next)) {
          throw new TypeError('modify: change must return the new values as an object');
        }
        const { values, removeKeys } = difference(current.values, next);
        if (Object.keys(values).length === 0 && removeKeys.length === 0) {
          return api.get(current.secretId, call);
        }
        try {
          return await api.updateValues(
            current.secretId,
            {
              ...(Object.keys(values).length === 0 ? {} : { values }),
              ...(removeKeys.length === 0 ? {} : { removeKeys }),
            },
            { ifVersion: current.version, ...call },
          );
        } catch (err) {
          if (isCofferApiError(err, 'version_conflict') && attempt < attempts) continue;
          throw err;
        }
      }
    },
  };
  return api;
}

/** The fields `next` sets or changes, and the ones it dropped. */
function difference(current: FieldValues, next: FieldValues): { values: FieldValues; removeKeys: string[] } {
  const values: FieldValues = {};
  for (const [name, value] of Object.entries(next)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(current, name) || current[name] !== value) values[name] = value;
  }
  const removeKeys = Object.keys(current).filter((name) => next[name] === undefined);
  return { values, removeKeys };
}
