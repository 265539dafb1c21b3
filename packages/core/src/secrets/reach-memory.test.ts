import { describe, expect, it } from 'vitest';
import type { ResolvedActor } from '../identity/actor.js';
import { ReachMemory, reachKey } from './reach-memory.js';

const mia: ResolvedActor = {
  type: 'user',
  id: 'mia',
  name: 'mia',
  role: 'member',
  groupIds: ['ops', 'dev'],
  scope: 'read-write',
  source: 'api',
};
const levels = ['read', 'write', 'manage'];

describe('ReachMemory', () => {
  it('keeps a decision for its time, then asks for a count again', () => {
    let now = 1_000;
    const memory = new ReachMemory(5_000, 10, () => now);
    const key = reachKey(mia, levels, 3000);
    expect(memory.recall(key)).toBeUndefined();
    memory.remember(key, true);
    now += 4_999;
    expect(memory.recall(key)).toBe(true);
    now += 1;
    expect(memory.recall(key)).toBeUndefined();
    memory.remember(key, false);
    expect(memory.recall(key)).toBe(false);
  });

  it('counts again for an actor whose groups, levels or limit differ', () => {
    const key = reachKey(mia, levels, 3000);
    // The order groups come in does not matter; a group joined or left does.
    expect(reachKey({ ...mia, groupIds: ['dev', 'ops'] }, levels, 3000)).toBe(key);
    expect(reachKey({ ...mia, groupIds: ['ops'] }, levels, 3000)).not.toBe(key);
    expect(reachKey({ ...mia, groupIds: ['ops', 'dev', 'sales'] }, levels, 3000)).not.toBe(key);
    expect(reachKey(mia, ['use', ...levels], 3000)).not.toBe(key);
    expect(reachKey(mia, levels, 0)).not.toBe(key);
    expect(reachKey({ ...mia, type: 'group', id: 'ops', groupIds: ['ops'] }, levels, 3000)).not.toBe(
      reachKey({ ...mia, id: 'ops', groupIds: ['ops'] }, levels, 3000),
    );
  });

  it('holds at most its capacity, forgetting the least recently counted', () => {
    const memory = new ReachMemory(60_000, 3, () => 0);
    for (const id of ['a', 'b', 'c', 'd']) memory.remember(id, true);
    expect(memory.recall('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((k) => memory.recall(k))).toEqual([true, true, true]);
  });
});
