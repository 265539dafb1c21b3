import { expect, it } from 'vitest';
import { isSecretId } from '../backends/external-names.js';
import { timeOrderedUuid } from './time-ordered-id.js';

it('makes RFC 9562 version 7 UUIDs that carry their millisecond', () => {
  // Later than any id this worker made before (test files share its modules): the generator
  // never goes back in time, so an earlier instant would come out as its last one. Only a
  // second ahead, so that the ids other files make after this one stay close to their time.
  const at = Date.now() + 1_000;
  const id = timeOrderedUuid(at);
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(isSecretId(id)).toBe(true);
  expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
});

it('sorts ids in the order they were made, also within one millisecond, and never repeats', () => {
  const at = Date.now() + 2_000;
  const ids = Array.from({ length: 5000 }, () => timeOrderedUuid(at));
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  // a clock that steps back does not break the order
  const after = timeOrderedUuid(at - 10_000);
  expect(after > ids[ids.length - 1]!).toBe(true);
});
