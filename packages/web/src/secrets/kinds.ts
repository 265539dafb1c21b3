import { client } from '../api/client';
import type { Kind } from '../api/types';
import { type Resource, useResource } from '../app/use-resource';

let cached: Promise<Kind[]> | undefined;

/** Every kind, loaded once per page load (kinds change only when the server restarts). */
export function loadKinds(): Promise<Kind[]> {
  cached ??= client.kinds.list().then(
    (page) => page.items,
    (err: unknown) => {
      cached = undefined;
      throw err;
    },
  );
  return cached;
}

export function useKinds(): Resource<Kind[]> {
  return useResource(loadKinds, []);
}

/** Kinds by id, for looking up a secret's logo and display name. */
export function kindMap(kinds: readonly Kind[] | undefined): Map<string, Kind> {
  return new Map((kinds ?? []).map((k) => [k.id, k]));
}
