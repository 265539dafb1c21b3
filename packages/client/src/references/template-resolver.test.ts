import { describe, expect, it } from 'vitest';
import { isCofferApiError } from '../errors/api-error.js';
import { parseTemplate, resolveTemplates } from './template-resolver.js';

describe('parseTemplate', () => {
  it('splits text and references', () => {
    expect(parseTemplate('')).toEqual([]);
    expect(parseTemplate('no refs')).toEqual(['no refs']);
    expect(parseTemplate('{{a.b}}{{ c-1.d.e }}')).toEqual([
      { text: '{{a.b}}', secret: 'a', field: 'b' },
      { text: '{{ c-1.d.e }}', secret: 'c-1', field: 'd.e' },
    ]);
  });

  it('reads \\{{ as a literal {{', () => {
    expect(parseTemplate('\\{{ a.b }} {{ a.b }}')).toEqual([
      '{{ a.b }} ',
      { text: '{{ a.b }}', secret: 'a', field: 'b' },
    ]);
  });

  it('refuses an unclosed {{ and what is not secret.field', () => {
    for (const bad of ['{{ a.b', '{{ a }}', '{{ a. }}', '{{ a.b c }}', '{{ -a.b }}']) {
      expect(() => parseTemplate(bad), bad).toThrow(/reference|closing/);
      try {
        parseTemplate(bad);
      } catch (err) {
        expect(isCofferApiError(err, 'invalid_reference')).toBe(true);
      }
    }
  });
});

describe('resolveTemplates', () => {
  it('reads each secret once and keeps values out of errors', async () => {
    const reads: string[] = [];
    const reveal = async (secret: string) => {
      reads.push(secret);
      return {
        secretId: secret,
        version: 1,
        values: { user: 'u', pass: 'hunter2' },
        revealed: true,
        maskedFields: [],
      };
    };
    expect(await resolveTemplates({ a: '{{ s.user }}:{{ s.pass }}', b: '{{ s.user }}' }, reveal)).toEqual({
      a: 'u:hunter2',
      b: 'u',
    });
    expect(reads).toEqual(['s']);
    const err = await resolveTemplates({ a: '{{ s.nope }}' }, reveal).catch((e: unknown) => e);
    expect(isCofferApiError(err, 'field_not_found')).toBe(true);
    expect(JSON.stringify(err)).not.toContain('hunter2');
  });
});
