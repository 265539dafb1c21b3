import workerThreads from 'node:worker_threads';
import zlib from 'node:zlib';

/**
 * `@kubernetes/client-node` 2.x sends its requests with undici 8, which is written for Node.js
 * 22.19 and later: at load time it reads `zlib.createZstdDecompress` and
 * `worker_threads.markAsUncloneable`, and every fetch calls `Promise.withResolvers`. Coffer
 * supports Node.js 20.19, where none of the three exist. This module (imported before the
 * client) fills in exactly those three when they are missing, and changes nothing on a Node.js
 * that has them:
 * - zstd: requests never ask for it (undici offers `zstd` in Accept-Encoding only when Node has
 *   it), so the stand-in only throws if a server sends zstd unasked;
 * - `markAsUncloneable` only guards undici's web objects against structuredClone;
 * - `Promise.withResolvers` is the standard one (ES2024), written out.
 */
const zlibModule = zlib as unknown as Record<string, unknown>;
if (typeof zlibModule.createZstdDecompress !== 'function') {
  zlibModule.createZstdDecompress = () => {
    throw new Error('zstd content encoding needs Node.js 22.15 or later');
  };
}

const threads = workerThreads as unknown as Record<string, unknown>;
if (typeof threads.markAsUncloneable !== 'function') {
  threads.markAsUncloneable = () => {};
}

const promise = Promise as unknown as { withResolvers?: unknown };
if (typeof promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const made = new this<T>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      return { promise: made, resolve, reject };
    },
  });
}
