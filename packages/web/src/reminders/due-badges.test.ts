import { expect, it } from 'vitest';
import { daysFrom } from './due-badges';

it('counts calendar days, whatever the time of day', () => {
  const morning = Date.parse('2026-12-06T00:30:00Z');
  const evening = Date.parse('2026-12-06T23:30:00Z');
  for (const now of [morning, evening]) {
    expect(daysFrom('2026-12-16T00:00:00.000Z', now)).toBe('in 10 days');
    expect(daysFrom('2026-12-07T00:00:00.000Z', now)).toBe('in 1 day');
    expect(daysFrom('2026-12-06T18:00:00.000Z', now)).toBe('today');
    expect(daysFrom('2026-12-05T00:00:00.000Z', now)).toBe('1 day ago');
    expect(daysFrom('2026-12-03T00:00:00.000Z', now)).toBe('3 days ago');
  }
});
