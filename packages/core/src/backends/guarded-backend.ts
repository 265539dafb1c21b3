import { CofferError, isCofferError } from '../errors/coffer-error.js';
import { type ErrorCode, errorCatalog } from '../errors/error-catalog.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Backend, TransactionalWrites, ValueRef } from './backend.js';

/**
 * What every backend instance is wrapped in before the engine uses it: errors come out as
 * Coffer's own `CofferError` with a stable code, whatever the backend threw.
 * - a `CofferError` of this copy of `@coffer/core` passes unchanged;
 * - one from another copy (a custom backend module importing its own `@coffer/core`) keeps its
 *   code and message;
 * - anything else becomes `backend_unavailable`, naming the backend, the operation and the ref
 *   plus the error's name and `code` (`EACCES`, `ThrottlingException`), but neither its
 *   message nor its stack, which a careless backend could have built from a value; so the
 *   original error is not kept as `cause` either (the log would print it).
 * A backend method that throws instead of rejecting is caught the same way.
 */
export function guardBackend(backend: Backend): Backend {
  const fail = (operation: string, ref: ValueRef | undefined, err: unknown): never => {
    throw normalizeBackendError(backend, operation, ref, err);
  };
  const call = <T>(operation: string, ref: ValueRef | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return run().catch((e: unknown) => fail(operation, ref, e));
    } catch (e) {
      return Promise.reject(normalizeBackendError(backend, operation, ref, e));
    }
  };
  const transactional = backend.transactional;
  const guarded: Backend = {
    name: backend.name,
    type: backend.type,
    capabilities: backend.capabilities,
    ...(backend.limits === undefined ? {} : { limits: backend.limits }),
    put: (ref: ValueRef, values: SecretValues) => call('put', ref, () => backend.put(ref, values)),
    get: (ref: ValueRef) => call('get', ref, () => backend.get(ref)),
    delete: (ref: ValueRef) => call('delete', ref, () => backend.delete(ref)),
    list: (options) => call('list', undefined, () => backend.list(options)),
    ...(transactional === undefined
      ? {}
      : {
          // Sealing is the backend's work and is guarded like a put; the statements it returns
          // run in the engine's transaction, whose database errors stay as they are (a busy or
          // deadlocked transaction must still be recognised and retried).
          transactional: {
            preparePut: (ref, values) => call('put', ref, () => transactional.preparePut(ref, values)),
            deleteVersions: (tx, secretId, versions) => transactional.deleteVersions(tx, secretId, versions),
            openSealed: (blob, ref) => call('get', ref, () => transactional.openSealed(blob, ref)),
          } satisfies TransactionalWrites,
        }),
  };
  if (backend.rewrap !== undefined) {
    const rewrap = backend.rewrap.bind(backend);
    guarded.rewrap = (onProgress) => call('rewrap', undefined, () => rewrap(onProgress));
  }
  if (backend.referencedKeyIds !== undefined) {
    const referenced = backend.referencedKeyIds.bind(backend);
    guarded.referencedKeyIds = () => call('list key ids', undefined, () => referenced());
  }
  if (backend.prepareSecrets !== undefined) {
    const prepare = backend.prepareSecrets.bind(backend);
    guarded.prepareSecrets = (secretIds) => call('prepare', undefined, () => prepare(secretIds));
  }
  if (backend.close !== undefined) guarded.close = backend.close.bind(backend);
  return guarded;
}

/** See {@link guardBackend}. */
export function normalizeBackendError(
  backend: Pick<Backend, 'name' | 'type'>,
  operation: string,
  ref: ValueRef | undefined,
  err: unknown,
): CofferError {
  if (isCofferError(err)) return err;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; details?: unknown } | null;
  if (
    e !== null &&
    typeof e === 'object' &&
    e.name === 'CofferError' &&
    typeof e.code === 'string' &&
    Object.hasOwn(errorCatalog, e.code)
  ) {
    return new CofferError(e.code as ErrorCode, String(e.message), {
      cause: err,
      ...(e.details !== null && typeof e.details === 'object'
        ? { details: e.details as Record<string, unknown> }
        : {}),
    });
  }
  // Only a code that looks like one (`EACCES`, `ThrottlingException`) is quoted.
  const code =
    e !== null && typeof e === 'object' && typeof e.code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(e.code)
      ? e.code
      : undefined;
  // The error's class name (`TypeError`, `S3ServiceException`) is code, not data.
  const name =
    e !== null &&
    typeof e === 'object' &&
    typeof e.name === 'string' &&
    e.name !== 'Error' &&
    /^[A-Za-z0-9_.]{1,64}$/.test(e.name)
      ? e.name
      : undefined;
  const what = ref === undefined ? '' : ` secret ${ref.secretId} version ${ref.version}`;
  const why = [name, code].filter((x) => x !== undefined).join(' ');
  return new CofferError(
    'backend_unavailable',
    `backend ${backend.name} (${backend.type}) failed to ${operation}${what}${why === '' ? '' : `: ${why}`}`,
  );
}
