// The server's one native helper (native/memory.c): glibc's malloc_trim, which hands the C
// heap's free pages back to the system. Node has no way to call it, and without it most of what
// SQLite's page cache and Node's buffers freed stays in the process (docs/performance.md, "Idle
// RSS"). `npm install` builds it where it can (native/build.js); where it was not built, or on a
// system without glibc, the server runs the same without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Gives the C heap's free pages back: true when some were given back, false when there were
 * none, undefined where the C library has no such call.
 */
export type TrimHeap = () => boolean | undefined;

/** Where `native/build.js` puts the helper, from `src/` and from `dist/` alike. */
export const nativeMemoryPath = fileURLToPath(
  new URL('../native/build/Release/coffer_memory.node', import.meta.url),
);

/** The helper's `trimHeap`, or undefined when it was not built or cannot load here. */
export function loadTrimHeap(path = nativeMemoryPath): TrimHeap | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const helper = createRequire(import.meta.url)(path) as { trimHeap?: unknown };
    return typeof helper.trimHeap === 'function' ? (helper.trimHeap as TrimHeap) : undefined;
  } catch {
    // Built for another Node or another system (a copied node_modules): run without it.
    return undefined;
  }
}
