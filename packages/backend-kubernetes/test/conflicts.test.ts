import { valuesKey } from '@coffer/backend-kubernetes';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backendOnDouble, rejection } from './support.js';

// Optimistic concurrency: the backend replaces a version with an update carrying the
// resourceVersion (and uid) it read, deletes with the same preconditions, and answers a 409
// Conflict by reading again. The double's `touch` fault is another writer changing the Secret
// between the backend's read and its write; `remove` is another client deleting it.
const id = (n: number) => `22222222-3333-4444-8555-${String(n).padStart(12, '0')}`;

describe('kubernetes resourceVersion conflicts', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0, maxAttempts: 2 }, { throttle: false });
  });
  afterAll(() => made?.close());
  beforeEach(() => {
    made.double.faults.clear();
    made.double.faults.resetCounts();
  });

  const nameOf = (ref: { secretId: string; version: number }) => `contract-${ref.secretId}-v${ref.version}`;
  const stored = (ref: { secretId: string; version: number }) => {
    const secret = made.double.faults.secret(nameOf(ref)) as { data: Record<string, string> } | undefined;
    return secret === undefined
      ? undefined
      : JSON.parse(Buffer.from(secret.data[valuesKey]!, 'base64').toString('utf8'));
  };

  it('creates a new version with one create, and replaces an existing one by create, read, update', async () => {
    const ref = { secretId: id(1), version: 1 };
    await made.backend.put(ref, { n: 1 });
    expect(made.double.faults.requestCount('create')).toBe(1);
    expect(made.double.faults.requestCount('get')).toBe(0);
    expect(made.double.faults.requestCount('update')).toBe(0);
    await made.backend.put(ref, { n: 2 });
    expect(made.double.faults.requestCount('create')).toBe(2);
    expect(made.double.faults.requestCount('get')).toBe(1);
    expect(made.double.faults.requestCount('update')).toBe(1);
    expect(stored(ref)).toEqual({ n: 2 });
  });

  it('reads again and wins when another writer changed the Secret between its read and its update', async () => {
    const ref = { secretId: id(2), version: 1 };
    await made.backend.put(ref, { n: 1 });
    made.double.faults.resetCounts();
    made.double.faults.inject({ kind: 'touch' }, { verb: 'update', name: nameOf(ref), count: 2 });
    await made.backend.put(ref, { n: 'mine' });
    expect(made.double.faults.requestCount('update')).toBe(3);
    expect(made.double.faults.requestCount('get')).toBe(3);
    expect(stored(ref)).toEqual({ n: 'mine' });
  });

  it('gives up with backend_unavailable (rejected, Conflict) when every round loses, keeping the value', async () => {
    const ref = { secretId: id(3), version: 1 };
    await made.backend.put(ref, { n: 1 });
    made.double.faults.inject({ kind: 'touch' }, { verb: 'update', name: nameOf(ref), count: 100 });
    const err = await rejection(made.backend.put(ref, { n: 2 }));
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'rejected', vendorCode: 'Conflict' });
    made.double.faults.clear();
    expect(await made.backend.get(ref)).toEqual({ n: 1 });
  });

  it('creates the Secret again when it was deleted between the AlreadyExists and the update', async () => {
    const ref = { secretId: id(4), version: 1 };
    await made.backend.put(ref, { n: 1 });
    made.double.faults.inject({ kind: 'remove' }, { verb: 'update', name: nameOf(ref) });
    await made.backend.put(ref, { n: 2 });
    expect(stored(ref)).toEqual({ n: 2 });
  });

  it('deletes with uid and resourceVersion preconditions, reading again after a concurrent change', async () => {
    const ref = { secretId: id(5), version: 1 };
    await made.backend.put(ref, { n: 1 });
    made.double.faults.resetCounts();
    made.double.faults.inject({ kind: 'touch' }, { verb: 'delete', name: nameOf(ref) });
    await made.backend.delete(ref);
    expect(made.double.faults.requestCount('delete')).toBe(2);
    expect(stored(ref)).toBeUndefined();
  });

  it('counts a Secret another client deleted between its read and its delete as deleted', async () => {
    const ref = { secretId: id(6), version: 1 };
    await made.backend.put(ref, { n: 1 });
    made.double.faults.inject({ kind: 'remove' }, { verb: 'delete', name: nameOf(ref) });
    await made.backend.delete(ref);
    expect(stored(ref)).toBeUndefined();
  });

  it('keeps a whole value when two replicas of one deployment replace the same version at once', async () => {
    const ref = { secretId: id(7), version: 3 };
    const second = await backendOnDouble(
      { writesPerSecond: 0 },
      { double: made.double, deploymentId: made.deploymentId },
    );
    try {
      await made.backend.put(ref, { writer: 'first', round: 0 });
      const writes = [];
      for (let round = 1; round <= 10; round++) {
        writes.push(made.backend.put(ref, { writer: 'first', round }));
        writes.push(second.backend.put(ref, { writer: 'second', round }));
      }
      await Promise.all(writes);
      const final = await made.backend.get(ref);
      expect(['first', 'second']).toContain(final.writer);
      expect(final.round).toBeGreaterThanOrEqual(1);
      expect(await second.backend.get(ref)).toEqual(final);
    } finally {
      await second.close();
    }
  });
});
