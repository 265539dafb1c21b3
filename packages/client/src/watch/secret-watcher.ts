import type { SecretMetadata } from '../api-types.js';
import { isCofferApiError } from '../errors/api-error.js';
import { type RetryPolicy, sleep } from '../http/retry-policy.js';
import { type CallOptions, parseBody, type Transport } from '../http/transport.js';
import { streamWithReady } from './event-stream.js';

/** How {@link CofferClient.watch} learns of changes. */
export interface WatchOptions extends CallOptions {
  /**
   * `stream` listens to the server's event stream (`GET /events`) and reads a secret's metadata
   * only when it changed; `poll` reads every watched secret's metadata every `intervalMs`;
   * `auto` (the default) streams, and polls when the server has no event stream.
   */
  mode?: 'auto' | 'stream' | 'poll';
  /** Time between polls when polling (default 5000 ms). */
  intervalMs?: number;
  /** Yield every watched secret's current state first, before any change (default false). */
  initial?: boolean;
}

/** A watched secret that changed: a new version, or deleted to or restored from the trash. */
export interface SecretChange {
  /** The ref as it was given to `watch`. */
  ref: string;
  /** Its metadata now (`deletedAt` is set when it went to the trash). */
  secret: SecretMetadata;
  /** Its current version. */
  version: number;
}

/** Statuses that say "not now" rather than "never": the next poll tries again. */
const transientStatuses = new Set([0, 429, 502, 503, 504]);

/**
 * Polls `GET /secrets/{ref}` with `If-None-Match` (a `304` means unchanged, if the server
 * supports it) and compares versions otherwise, yielding each change. It ends when the signal
 * aborts or the loop breaks. Passing network trouble (after the client's own retries) skips a
 * poll; a secret that disappears, or credentials that stop working, end it with the error.
 */
export async function* watchSecrets(
  transport: Transport,
  retry: RetryPolicy,
  refs: readonly string[],
  options: WatchOptions = {},
): AsyncGenerator<SecretChange, void, undefined> {
  const watched = [...new Set(refs)];
  if (watched.length === 0) return;
  const intervalMs = Math.max(0, options.intervalMs ?? 5000);
  const signal = options.signal;
  const tags = new Map<string, string>();
  const known = new Map<string, { version: number; deletedAt: string | null }>();

  const poll = async (ref: string): Promise<SecretMetadata | undefined> => {
    const tag = tags.get(ref);
    const response = await transport.send('GET /secrets/{ref}', {
      path: { ref },
      ...(tag === undefined ? {} : { headers: { 'if-none-match': tag } }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.status === 304) return undefined;
    const etag = response.headers.get('etag');
    if (etag !== null) tags.set(ref, etag);
    return (await parseBody(response, 'GET', `/secrets/${encodeURIComponent(ref)}`)) as SecretMetadata;
  };

  let first: (SecretMetadata | undefined)[];
  try {
    first = await Promise.all(watched.map(poll));
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  const ids = new Map<string, string[]>();
  for (const [i, ref] of watched.entries()) {
    const secret = first[i]!;
    known.set(ref, { version: secret.currentVersion, deletedAt: secret.deletedAt });
    ids.set(secret.id, [...(ids.get(secret.id) ?? []), ref]);
    if (options.initial) yield { ref, secret, version: secret.currentVersion };
  }

  /** Reads these refs again and yields those whose version or trash state moved. */
  async function* recheck(which: readonly string[]): AsyncGenerator<SecretChange, void, undefined> {
    const results = await Promise.allSettled(which.map(poll));
    if (signal?.aborted) return;
    for (const [i, ref] of which.entries()) {
      const result = results[i]!;
      if (result.status === 'rejected') {
        if (isCofferApiError(result.reason) && transientStatuses.has(result.reason.status)) continue;
        throw result.reason;
      }
      const secret = result.value;
      if (secret === undefined) continue;
      const before = known.get(ref)!;
      if (before.version === secret.currentVersion && before.deletedAt === secret.deletedAt) continue;
      known.set(ref, { version: secret.currentVersion, deletedAt: secret.deletedAt });
      yield { ref, secret, version: secret.currentVersion };
    }
  }

  if (options.mode !== 'poll') {
    // Opened after the first read: each time it is (re)opened, everything is read once more, so
    // a change made while no stream was open is not missed; otherwise only events say what to read.
    try {
      for await (const message of streamWithReady(
        transport,
        retry,
        { secretIds: [...ids.keys()], ...(signal === undefined ? {} : { signal }) },
        true,
      )) {
        const affected =
          message.access === 'ready' || message.access === 'reset'
            ? watched
            : (ids.get(message.secretId) ?? []);
        if (affected.length > 0) yield* recheck(affected);
      }
      return;
    } catch (err) {
      if (signal?.aborted) return;
      // A server without the event stream: poll it instead (unless streaming was required).
      const noStream = isCofferApiError(err, 'not_found') && options.mode !== 'stream';
      if (!noStream) throw err;
    }
  }

  for (;;) {
    try {
      await sleep(intervalMs, signal);
    } catch {
      return;
    }
    yield* recheck(watched);
    if (signal?.aborted) return;
  }
}
