import { CofferError, isCofferError } from '../errors/coffer-error.js';
import { type ErrorCode, errorCatalog } from '../errors/error-catalog.js';
import type { SecretValues } from '../kinds/kind-types.js';
import type { Backend, ValueRef } from './backend.js';

/**
 * What every backend instance is wrapped in before the engine uses it: errors come out as
 * Coffer's own `CofferError` with a stable code, whatever the backend threw.
 * - a `CofferError` of this copy of `@coffer/core` passes unchanged;
 * - one from another copy (a custom backend module importing its own `@coffer/core`) keeps its
 *   code and message;
 * - anything else becomes `backend_unavailable`, naming the backend, the operation and the ref
 *   plus the error's `code` (`EACCES`, `ThrottlingException`), but not its message, which a
 *   careless backend could have built from a value. The original stays as `cause` for the log.
 */
export function guardBackend(backend: Backend): Backend {
  const fail = (operation: string, ref: ValueRef | undefined, err: unknown): never => {
    throw normalizeBackendError(backend, operation, ref, err);
  };
  const guarded: Backend = {
    name: backend.name,
    type: backend.type,
    capabilities: backend.capabilities,
    put: (ref: ValueRef, values: SecretValues) => backend.put(ref, values).catch((e) => fail('put', ref, e)),
    get: (ref: ValueRef) => backend.get(ref).catch((e) => fail('get', ref, e)),
    delete: (ref: ValueRef) => backend.delete(ref).catch((e) => fail('delete', ref, e)),
    list: (options) => backend.list(options).catch((e) => fail('list', undefined, e)),
  };
  if (backend.rewrap !== undefined) {
    const rewrap = backend.rewrap.bind(backend);
    guarded.rewrap = (onProgress) => rewrap(onProgress).catch((e) => fail('rewrap', undefined, e));
  }
  if (backend.referencedKeyIds !== undefined) {
    const referenced = backend.referencedKeyIds.bind(backend);
    guarded.referencedKeyIds = () => referenced().catch((e) => fail('list key ids', undefined, e));
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
  const what = ref === undefined ? '' : ` secret ${ref.secretId} version ${ref.version}`;
  return new CofferError(
    'backend_unavailable',
    `backend ${backend.name} (${backend.type}) failed to ${operation}${what}${code === undefined ? '' : `: ${code}`}`,
    { cause: err },
  );
}
