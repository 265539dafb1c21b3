import { describe, expect, it } from 'vitest';
import { createDirectorySyncs } from './directory-syncs.js';

/** A stand-in for fsync that records when each call started and lets the test end it. */
function recordingSync() {
  const calls: { dir: string; end: (err?: Error) => void }[] = [];
  const syncOne = (dir: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ dir, end: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  return { calls, syncOne };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('shared directory fsyncs', () => {
  it('starts at once when none runs, and callers arriving during it share the next one', async () => {
    const { calls, syncOne } = recordingSync();
    const syncs = createDirectorySyncs(syncOne);
    const answered: string[] = [];
    const first = syncs.sync('/d').then(() => answered.push('first'));
    expect(calls).toHaveLength(1);
    // These changes happened after the running fsync started: it cannot answer them.
    const second = syncs.sync('/d').then(() => answered.push('second'));
    const third = syncs.sync('/d').then(() => answered.push('third'));
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.end();
    await first;
    await tick();
    expect(answered).toEqual(['first']);
    expect(calls).toHaveLength(2);
    // Arriving while the shared one runs: waits for yet another.
    const fourth = syncs.sync('/d').then(() => answered.push('fourth'));
    calls[1]!.end();
    await Promise.all([second, third]);
    await tick();
    expect(answered).toEqual(['first', 'second', 'third']);
    expect(calls).toHaveLength(3);
    calls[2]!.end();
    await fourth;
    expect(answered).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('keeps directories apart, and gives a failed fsync to the callers it answered', async () => {
    const { calls, syncOne } = recordingSync();
    const syncs = createDirectorySyncs(syncOne);
    const a = syncs.sync('/a');
    const b = syncs.sync('/b');
    expect(calls.map((c) => c.dir)).toEqual(['/a', '/b']);
    const laterA = syncs.sync('/a');
    calls[0]!.end(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    await tick();
    // The caller waiting for the next fsync gets that one's outcome, not the failed one's.
    expect(calls).toHaveLength(3);
    calls[2]!.end();
    await expect(laterA).resolves.toBeUndefined();
    calls[1]!.end();
    await expect(b).resolves.toBeUndefined();
    // Nothing left running: the next caller starts one at once.
    void syncs.sync('/a');
    expect(calls).toHaveLength(4);
    calls[3]!.end();
  });
});
