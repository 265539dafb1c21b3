import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError, isUnauthenticated } from '../api/errors';
import { useOptionalSession } from './session';

export type Resource<T> =
  | { state: 'loading'; data: T | undefined; error: undefined; reload: () => void }
  | { state: 'ready'; data: T; error: undefined; reload: () => void }
  | { state: 'error'; data: T | undefined; error: string; reload: () => void };

/**
 * Loads data for a page: loading, ready or error (the server's message), reloaded when `deps`
 * change or on `reload()`. A 401 ends the session and goes back to the login page.
 *
 * @example
 * const kinds = useResource(() => client.kinds.list(), []);
 */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const session = useOptionalSession();
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ state: 'loading' | 'ready' | 'error'; data?: T; error?: string }>({
    state: 'loading',
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((t) => t + 1), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    let current = true;
    setState((s) => ({ state: 'loading', data: s.data }));
    loadRef.current().then(
      (data) => {
        if (current) setState({ state: 'ready', data });
      },
      (err: unknown) => {
        if (!current) return;
        if (isUnauthenticated(err)) session?.expire();
        setState((s) => ({ state: 'error', data: s.data, error: describeError(err) }));
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  return { ...state, reload } as Resource<T>;
}

/**
 * Runs a user's action: `busy` while it runs, `error` with the server's message when it fails
 * (the thrown error is kept for field messages and conflicts). A 401 ends the session.
 */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const session = useOptionalSession();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ message: string; cause: unknown } | undefined>();
  const actionRef = useRef(action);
  actionRef.current = action;
  const run = useCallback(
    async (...args: A): Promise<{ ok: true; value: R } | { ok: false; cause: unknown }> => {
      setBusy(true);
      setFailure(undefined);
      try {
        const value = await actionRef.current(...args);
        return { ok: true, value };
      } catch (cause) {
        if (isUnauthenticated(cause)) session?.expire();
        setFailure({ message: describeError(cause), cause });
        return { ok: false, cause };
      } finally {
        setBusy(false);
      }
    },
    [session],
  );
  const clear = useCallback(() => setFailure(undefined), []);
  return { run, busy, error: failure?.message, cause: failure?.cause, clear };
}
