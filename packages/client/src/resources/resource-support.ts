import type { CallOptions } from '../http/transport.js';

/** Options of a write that can be made check-and-set. */
export interface WriteOptions extends CallOptions {
  /**
   * Write only if this is still the secret's current version (sent as `If-Match: "v<n>"`);
   * otherwise the call fails with `version_conflict` (412) and nothing changes.
   */
  ifVersion?: number;
  /**
   * With `ifVersion`, for metadata writes (`updateMetadata`, `rename`): write only if the
   * secret's `revision` is still this one, i.e. nothing changed since it was read (sent as
   * `If-Match: "v<n>-r<m>"`). Without it, two edits of the labels from the same read both land.
   */
  ifRevision?: number;
}

/** Splits a method's options into the query it sends and the signal it passes on. */
export function splitOptions<T extends CallOptions>(
  options: T | undefined,
): { query: Omit<T, 'signal'>; call: CallOptions } {
  const { signal, ...query } = options ?? ({} as T);
  return { query, call: signal === undefined ? {} : { signal } };
}

/** The headers of {@link WriteOptions}. */
export function ifMatch(options: WriteOptions | undefined): { headers?: Record<string, string> } {
  const version = options?.ifVersion;
  const revision = options?.ifRevision;
  if (version === undefined) {
    if (revision !== undefined) throw new TypeError('ifRevision needs ifVersion (the ETag carries both)');
    return {};
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new TypeError(`ifVersion must be a positive whole number (got ${String(version)})`);
  }
  if (revision === undefined) return { headers: { 'if-match': `"v${version}"` } };
  if (!Number.isInteger(revision) || revision < 1) {
    throw new TypeError(`ifRevision must be a positive whole number (got ${String(revision)})`);
  }
  return { headers: { 'if-match': `"v${version}-r${revision}"` } };
}

/** Only the signal of an options object (the rest belongs to the body or query). */
export function callOptions(options: CallOptions | undefined): CallOptions {
  return options?.signal === undefined ? {} : { signal: options.signal };
}
