import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ReleasedMemory, releaseMemoryWhenIdle } from './idle-memory.js';

// The standalone server gives memory back once it has been quiet for a while, and never while
// requests arrive (docs/performance.md, "Idle RSS").

describe('releaseMemoryWhenIdle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A watch on fake timers, recording what it asked for. */
  function watched() {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const calls: string[] = [];
    const idle = releaseMemoryWhenIdle({
      collect: (options) => calls.push(options?.type ?? 'full'),
      releaseOther: () => calls.push('database'),
      trimHeap: () => {
        calls.push('trim');
        return true;
      },
    });
    return { idle, calls };
  }

  it('collects once on quiet, then releases after 5.5 s more of it, once per quiet spell', () => {
    const { idle, calls } = watched();
    idle.noteRequest();
    vi.advanceTimersByTime(1000); // the request is seen
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1000); // quiet: the first collection starts V8's 5 s window
    expect(calls).toEqual(['minor']);
    vi.advanceTimersByTime(5000);
    expect(calls).toEqual(['minor']);
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual(['minor', 'minor', 'full', 'database', 'trim']);
    vi.advanceTimersByTime(60_000); // still quiet: nothing more to give back
    expect(calls).toHaveLength(5);

    idle.noteRequest(); // a new spell of work, then quiet again
    vi.advanceTimersByTime(1000 + 1000 + 6000);
    expect(calls).toEqual([
      'minor',
      'minor',
      'full',
      'database',
      'trim',
      'minor',
      'minor',
      'full',
      'database',
      'trim',
    ]);
    idle.stop();
  });

  it('does nothing while requests keep arriving, and starts over when one arrives while settling', () => {
    const { idle, calls } = watched();
    for (let i = 0; i < 100; i++) {
      idle.noteRequest();
      vi.advanceTimersByTime(700);
    }
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(2000);
    expect(calls).toEqual(['minor']);
    vi.advanceTimersByTime(3000);
    idle.noteRequest(); // before the release was due
    vi.advanceTimersByTime(3000);
    expect(calls).toEqual(['minor', 'minor']); // the second is a new first collection, not a release
    vi.advanceTimersByTime(6000);
    expect(calls).toEqual(['minor', 'minor', 'minor', 'full', 'database', 'trim']);
    idle.stop();
    vi.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(6);
  });

  it('trims the C heap after the database let go of its cache, and says whether that gave pages back', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const results: (boolean | undefined)[] = [];
    for (const trimHeap of [() => true, () => false, null]) {
      const idle = releaseMemoryWhenIdle({
        collect: () => {},
        trimHeap,
        onReleased: (r) => results.push(r.heapTrimmed),
      });
      vi.advanceTimersByTime(8000);
      idle.stop();
    }
    expect(results).toEqual([true, false, undefined]);
  });

  it('reports a release that failed and keeps going', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const errors: unknown[] = [];
    let fail = true;
    const released: string[] = [];
    const idle = releaseMemoryWhenIdle({
      collect: () => {},
      releaseOther: () => {
        if (fail) throw new Error('the database is closed');
        released.push('database');
      },
      onError: (err) => errors.push(err),
    });
    vi.advanceTimersByTime(8000);
    expect(errors).toEqual([new Error('the database is closed')]);
    fail = false;
    vi.advanceTimersByTime(60_000); // not retried while still quiet
    expect(released).toEqual([]);
    idle.noteRequest();
    vi.advanceTimersByTime(9000);
    expect(released).toEqual(['database']);
    idle.stop();
  });

  it("with V8's own collector, frees old-generation pages that only a few live objects kept", () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
    // Objects that survive long enough to reach the old generation, then all but 1 in 50 let go:
    // every page keeps a few live objects, so a collection that does not move them frees nothing.
    let objects: { n: number; text: string }[] | undefined = Array.from({ length: 400_000 }, (_, n) => ({
      n,
      text: `object ${n}`,
    }));
    const kept = objects.filter((_, i) => i % 50 === 0);
    const released: ReleasedMemory[] = [];
    const idle = releaseMemoryWhenIdle({ onReleased: (r) => released.push(r) });
    vi.advanceTimersByTime(2000); // quiet: the first collection moves them to the old generation
    objects = undefined;
    const before = oldSpace().physical_space_size;
    vi.advanceTimersByTime(6000);
    idle.stop();
    expect(released).toHaveLength(1);
    expect(released[0]!.heapAfterMiB).toBeLessThan(released[0]!.heapBeforeMiB - 10);
    expect(objects).toBeUndefined();
    expect(kept).toHaveLength(8000);
    expect(oldSpace().physical_space_size).toBeLessThan(before - 10 * 2 ** 20);
  });
});
