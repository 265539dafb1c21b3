import { describe, expect, it } from 'vitest';
import { fromDocument, toDocument } from './secret-document.js';

describe('secret documents', () => {
  const entries = [
    { name: 'mail', kind: 'smtp', labels: { env: 'prod' }, values: { host: 'h', port: 587 } },
    { name: 'api', kind: 'generic', description: 'the API', values: { token: 't', on: true } },
  ];

  it('round-trips the full form', () => {
    expect(fromDocument(JSON.parse(JSON.stringify(toDocument(entries))), 'generic')).toEqual(entries);
  });

  it('reads values-only entries with the default kind', () => {
    expect(fromDocument(toDocument(entries, { valuesOnly: true }), 'generic')).toEqual([
      { name: 'mail', kind: 'generic', values: { host: 'h', port: 587 } },
      { name: 'api', kind: 'generic', values: { token: 't', on: true } },
    ]);
  });

  it('reports every problem at once, by path', () => {
    expect(() => fromDocument([], 'generic')).toThrow(/must hold an object/);
    try {
      fromDocument({ a: 1, b: { kind: 2, values: { x: null }, extra: 1 } }, 'generic');
      expect.unreachable();
    } catch (err) {
      expect((err as { issues: unknown[] }).issues).toEqual([
        { path: 'a', message: 'must be an object (the values, or kind and values)' },
        { path: 'b.values.x', message: 'must be a string, number or boolean' },
        { path: 'b.kind', message: 'must be a string' },
        { path: 'b.extra', message: 'unknown key (expected kind, description, labels, values)' },
      ]);
    }
  });
});
