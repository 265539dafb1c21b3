import type { CallOptions } from '../http/transport.js';

/** Options of a write that can be made check-and-set. */
export interface WriteOptions extends CallOptions {
  /**
   * Write only if this is still the secret's current version (sent as `If-Match: "v<n>"`);
   * otherwise the call fails with `version_conflict` (412) and nothing changes.
   */
  ifVersion?: number;
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
  if (version === undefined) return {};
  if (!Number.isInteger(version) || version < 1) {
    throw new TypeError(`ifVersion must be a positive whole number (got ${String(version)})`);
  }
  return { headers: { 'if-match': `"v${version}"` } };
}

/** Only the signal of an options object (the rest belongs to the body or query). */
export function callOptions(options: CallOptions | undefined): CallOptions {
  return options?.signal === undefined ? {} : { signal: options.signal };
}
