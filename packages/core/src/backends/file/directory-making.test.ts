import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDirectoryMaking } from './directory-making.js';

/** A stand-in for the file system: the test decides when each mkdir and each flush ends, and how. */
function controlledFileSystem() {
  const makes: { dir: string; end: (created: string | undefined) => void }[] = [];
  const flushes: { dir: string; created: string | undefined; end: (err?: Error) => void }[] = [];
  const making = createDirectoryMaking({
    make: (dir) =>
      new Promise((resolve) => {
        makes.push({ dir, end: resolve });
      }),
    flush: (dir, created) =>
      created === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            flushes.push({ dir, created, end: (err) => (err === undefined ? resolve() : reject(err)) });
          }),
    levels: (dir) => [dir, dirname(dir)],
  });
  return { making, makes, flushes };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Follows a promise: `state()` is pending, done or failed. */
function follow(promise: Promise<unknown>) {
  let state: 'pending' | 'done' | 'failed' = 'pending';
  promise.then(
    () => {
      state = 'done';
    },
    () => {
      state = 'failed';
    },
  );
  return () => state;
}

describe('making directories for concurrent writers', () => {
  it('keeps a writer that found a directory made an instant ago waiting for its maker to flush it', async () => {
    const { making, makes, flushes } = controlledFileSystem();
    const first = making.make('/space/ab/secret');
    const second = making.make('/space/ab/secret');
    expect(makes).toHaveLength(2);
    // The second mkdir's completion runs first, though the first mkdir made the directory.
    makes[1]!.end(undefined);
    const { durable: secondDurable } = await second;
    makes[0]!.end('/space/ab');
    const { durable: firstDurable } = await first;
    expect(flushes.map((f) => f.created)).toEqual(['/space/ab']);
    const secondState = follow(secondDurable);
    const firstState = follow(firstDurable);
    await tick();
    // Both directories exist, neither entry is on disk yet: nobody may be answered.
    expect(secondState()).toBe('pending');
    expect(firstState()).toBe('pending');
    flushes[0]!.end();
    await tick();
    expect(secondState()).toBe('done');
    expect(firstState()).toBe('done');
  });

  it('fails the writers that depended on a flush that failed', async () => {
    const { making, makes, flushes } = controlledFileSystem();
    const first = making.make('/space/ab/secret');
    const second = making.make('/space/ab/secret');
    makes[0]!.end('/space/ab/secret');
    makes[1]!.end(undefined);
    const [{ durable: a }, { durable: b }] = await Promise.all([first, second]);
    flushes[0]!.end(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    await expect(b).rejects.toThrow('EIO');
  });

  it('makes a writer in the same shard wait for the flush of a shard directory another made', async () => {
    const { making, makes, flushes } = controlledFileSystem();
    const first = making.make('/space/ab/one');
    const second = making.make('/space/ab/two');
    makes[0]!.end('/space/ab'); // made the shard and its own directory
    makes[1]!.end('/space/ab/two'); // made only its own directory, in the new shard
    const [{ durable: a }, { durable: b }] = await Promise.all([first, second]);
    const state = follow(b);
    flushes[1]!.end(); // its own directory is in the shard on disk, the shard not yet in the space
    await tick();
    expect(state()).toBe('pending');
    flushes[0]!.end();
    await Promise.all([a, b]);
  });

  it('does not wait for makes that were done before it, nor for other shards', async () => {
    const { making, makes, flushes } = controlledFileSystem();
    const earlier = making.make('/space/ab/one');
    makes[0]!.end('/space/ab/one');
    const { durable } = await earlier;
    flushes[0]!.end();
    await durable;
    const elsewhere = making.make('/space/cd/three');
    const later = making.make('/space/ab/one');
    makes[1]!.end('/space/cd/three');
    makes[2]!.end(undefined);
    const { durable: laterDurable } = await later;
    await laterDurable; // the other shard's flush is still running
    expect(flushes).toHaveLength(2);
    flushes[1]!.end();
    await (await elsewhere).durable;
  });

  it('makes writers wait for a batch holding their shard until it is durable', async () => {
    const { making, makes } = controlledFileSystem();
    const batchDone = making.hold(['/space/ab']);
    const put = making.make('/space/ab/secret');
    makes[0]!.end(undefined);
    const { durable } = await put;
    const state = follow(durable);
    await tick();
    expect(state()).toBe('pending');
    batchDone();
    await tick();
    expect(state()).toBe('done');
  });

  it('passes a failed mkdir to its writer and does not hold up the next ones', async () => {
    const failing = createDirectoryMaking({
      make: async (dir) => {
        if (dir.endsWith('bad')) throw new Error('EACCES');
        return undefined;
      },
      flush: async () => {},
      levels: (dir) => [dir, dirname(dir)],
    });
    await expect(failing.make('/space/ab/bad')).rejects.toThrow('EACCES');
    await (await failing.make('/space/ab/good')).durable;
  });

  it('does not fail a writer with a concurrent one whose mkdir failed', async () => {
    let failBad!: (err: Error) => void;
    const making = createDirectoryMaking({
      make: (dir) =>
        dir.endsWith('bad')
          ? new Promise<undefined>((_, reject) => {
              failBad = reject;
            })
          : Promise.resolve(undefined),
      flush: async () => {},
      levels: (dir) => [dir, dirname(dir)],
    });
    const bad = making.make('/space/ab/bad');
    // Its mkdir returns while the other's is still running: it waits on that one.
    const { durable } = await making.make('/space/ab/good');
    failBad(new Error('EACCES'));
    await expect(bad).rejects.toThrow('EACCES');
    await durable;
  });
});
