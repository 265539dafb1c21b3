// Gives memory back to the system when the standalone server goes quiet.
//
// After a burst of requests a Node process keeps what the burst made it grow to: V8's young
// generation stays at its largest (32 MiB), the old generation keeps pages that are mostly
// free, and the database keeps its page cache full. An idle process runs no collection, so none
// of it is ever given back by itself: a server that had seeded 10,000 secrets sat at ~165 MiB,
// of which ~28 MiB was live. Once no request has arrived for a while this runs the collections
// that shrink V8's heap and asks the database to drop its cache (docs/performance.md, "Idle
// RSS"). It costs nothing per request: one counter, and a timer that does nothing while
// requests arrive.
import v8 from 'node:v8';
import vm from 'node:vm';
import { loadTrimHeap, type TrimHeap } from './native-memory.js';

type Collect = (options?: { type?: 'minor' | 'major' }) => void;

export interface IdleMemoryOptions {
  /** How often to look whether requests arrived (default 1,000 ms). */
  checkEveryMs?: number;
  /**
   * How long after its first collection the server must stay quiet before it releases memory
   * (default 5,500 ms). V8 shrinks its young generation only at a collection that finds the
   * allocation rate of the last 5 seconds low, so the first collection starts that window.
   */
  settleMs?: number;
  /** Releases what else the process holds (the database's page cache). */
  releaseOther?: () => void;
  /**
   * Hands the C heap's free pages back to the system, last: what `releaseOther` and the
   * collections freed would otherwise stay in the process. By default the server's native
   * helper (`native-memory.ts`) when it was built; `null` for none.
   */
  trimHeap?: TrimHeap | null;
  /**
   * Told after each release: V8's heap (the memory it holds from the system, MiB) before and
   * after, the process's resident memory before, and the time the release took. Resident
   * memory is not read after: V8 hands freed pages back on a thread of its own, a moment later.
   */
  onReleased?: (result: ReleasedMemory) => void;
  /** Told when a step of a release threw; the server goes on as before. */
  onError?: (err: unknown) => void;
  /** The collector; by default V8's own, exposed for this module only. */
  collect?: Collect;
}

export interface ReleasedMemory {
  heapBeforeMiB: number;
  heapAfterMiB: number;
  rssBeforeMiB: number;
  ms: number;
  /**
   * Whether the C heap gave pages back: undefined where there is no way to ask (the native
   * helper was not built, or the C library is not glibc).
   */
  heapTrimmed: boolean | undefined;
}

export interface IdleMemory {
  /** Call on every request; a request starts the wait for quiet over. */
  noteRequest(): void;
  /** Stops the timer. */
  stop(): void;
}

/**
 * Watches for quiet and then gives memory back: one collection when the server first finds no
 * new request, and after `settleMs` more of quiet a minor collection (which shrinks the young
 * generation), a compacting full collection (which frees the old generation's empty pages),
 * `releaseOther` and `trimHeap`. It runs once per quiet spell: the next request starts the watch
 * over.
 * Does nothing when no collector can be had.
 */
export function releaseMemoryWhenIdle(options: IdleMemoryOptions = {}): IdleMemory {
  const collect = options.collect ?? v8Collector();
  const trimHeap = options.trimHeap === undefined ? loadTrimHeap() : (options.trimHeap ?? undefined);
  const checkEveryMs = options.checkEveryMs ?? 1000;
  const settleMs = options.settleMs ?? 5500;
  let requests = 0;
  let seen = 0;
  let phase: 'busy' | 'settling' | 'released' = 'busy';
  let settlingSince = 0;

  const release = () => {
    if (collect === undefined) return;
    const start = performance.now();
    const heapBeforeMiB = heapMiB();
    const rssBeforeMiB = process.memoryUsage.rss() / 2 ** 20;
    collect({ type: 'minor' });
    // A full collection. Not `{ type: 'major' }`: Node 20's V8 takes that for a request it
    // does not carry out at once (measured: the old generation was unchanged after it).
    compacting(() => collect());
    options.releaseOther?.();
    const heapTrimmed = trimHeap?.();
    options.onReleased?.({
      heapBeforeMiB,
      heapAfterMiB: heapMiB(),
      rssBeforeMiB,
      ms: performance.now() - start,
      heapTrimmed,
    });
  };

  const check = () => {
    if (requests !== seen) {
      seen = requests;
      phase = 'busy';
      return;
    }
    if (phase === 'busy') {
      collect?.({ type: 'minor' });
      settlingSince = performance.now();
      phase = 'settling';
    } else if (phase === 'settling' && performance.now() - settlingSince >= settleMs) {
      phase = 'released';
      release();
    }
  };
  // A failed release must never take the server down: it is reported, and tried again after
  // the next request.
  const timer = setInterval(() => {
    try {
      check();
    } catch (err) {
      options.onError?.(err);
    }
  }, checkEveryMs);
  timer.unref();

  return {
    noteRequest: () => {
      requests++;
    },
    stop: () => clearInterval(timer),
  };
}

const heapMiB = () => v8.getHeapStatistics().total_heap_size / 2 ** 20;

/**
 * V8's collector, as `node --expose-gc` would give it, without putting `gc` on the global
 * object: the flag is set only while a new context is made to take the function from.
 */
function v8Collector(): Collect | undefined {
  const global = (globalThis as { gc?: Collect }).gc;
  if (typeof global === 'function') return global;
  try {
    v8.setFlagsFromString('--expose-gc');
    const collect: unknown = vm.runInNewContext('gc');
    v8.setFlagsFromString('--no-expose-gc');
    return typeof collect === 'function' ? (collect as Collect) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a full collection that moves live objects off sparse pages, so the pages can be given
 * back (without it V8 keeps a page as long as one object on it lives: 40 MiB of old-generation
 * pages held 25 MiB of objects here). Only this collection compacts; the flag is reset after it.
 */
function compacting(fullCollection: () => void): void {
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    fullCollection();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}
