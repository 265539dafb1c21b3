import type { WrapContext } from '@coffer/core';

/**
 * The keyring's wrap context as the bytes the context tag authenticates (see `context-binding.ts`):
 * the UTF-8 JSON of its entries sorted by key, e.g.
 * `[["coffer-deployment","d-1"],["coffer-secret","3f…"],["coffer-version","2"]]`. Canonical (the
 * same context always gives the same bytes, whatever the order of its keys) and unambiguous (no
 * key or value can run into the next), so a tag matches exactly its own context. (The same
 * encoding as the `gcp-kms` source's additional authenticated data.)
 *
 * @example
 * contextBytes({ 'coffer-version': '1', 'coffer-secret': 's' }).toString(); // '[["coffer-secret","s"],["coffer-version","1"]]'
 */
export function contextBytes(context: WrapContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}
