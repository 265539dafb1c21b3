import { describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import { defineKind, field, type KindDefinition, kindFromDefinition } from './index.js';

const logo = 'data:image/svg+xml;base64,PHN2Zy8+';

const grafana: KindDefinition = {
  $schema: 'https://example.com/ignored.json',
  id: 'grafana',
  displayName: 'Grafana',
  description: 'A Grafana instance and a service account token.',
  logo,
  fields: [
    { name: 'url', type: 'string', label: 'URL', format: 'url' },
    { name: 'token', type: 'secret', label: 'Service account token' },
    { name: 'orgId', type: 'integer', label: 'Organization', default: 1, min: 1 },
    { name: 'theme', type: 'enum', options: ['light', 'dark'], required: false },
    { name: 'caCert', type: 'text', required: false },
    { name: 'key', type: 'secret', multiline: true, required: false },
    { name: 'verify', type: 'boolean', default: true },
    { name: 'ratio', type: 'number', required: false, max: 1 },
  ],
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    kindFromDefinition(input);
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    expect((err as CofferError).code).toBe('invalid_config');
    return (err as CofferError).details.issues ?? [];
  }
  throw new Error('expected an invalid_config error');
}

describe('kindFromDefinition', () => {
  it('reads a definition into the same kind defineKind makes', () => {
    const fromJson = kindFromDefinition(grafana, { source: '/etc/coffer/kinds/grafana.json' });
    const fromTs = defineKind({
      id: 'grafana',
      displayName: 'Grafana',
      description: 'A Grafana instance and a service account token.',
      logo,
      fields: {
        url: field.string({ label: 'URL', format: 'url' }),
        token: field.secret({ label: 'Service account token' }),
        orgId: field.integer({ label: 'Organization', default: 1, min: 1 }),
        theme: field.enum(['light', 'dark'], { required: false }),
        caCert: field.text({ required: false }),
        key: field.secret({ multiline: true, required: false }),
        verify: field.boolean({ default: true }),
        ratio: field.number({ required: false, max: 1 }),
      },
    });
    expect(fromJson.fields).toEqual(fromTs.fields);
    expect(fromJson.jsonSchema).toEqual(fromTs.jsonSchema);
    expect(fromJson.source).toBe('/etc/coffer/kinds/grafana.json');
    expect(fromJson.validate({ url: 'https://grafana.example.com', token: 'glsa_x', orgId: '3' })).toEqual({
      url: 'https://grafana.example.com',
      token: 'glsa_x',
      orgId: 3,
      verify: true,
    });
  });

  it('defaults description to empty and source to app', () => {
    const kind = kindFromDefinition({
      id: 'tiny',
      displayName: 'Tiny',
      fields: [{ name: 'a', type: 'string' }],
    });
    expect(kind.description).toBe('');
    expect(kind.source).toBe('app');
  });

  it('reads a free-form kind', () => {
    const kind = kindFromDefinition({ id: 'env-file', displayName: 'Env file', freeForm: true });
    expect(kind.freeForm).toBe(true);
    expect(kind.validate({ A: '1', B: 2 })).toEqual({ A: '1', B: 2 });
    expect(
      issuesOf({
        id: 'env-file',
        displayName: 'Env',
        freeForm: true,
        fields: [{ name: 'a', type: 'string' }],
      }),
    ).toEqual([
      { path: 'fields', message: 'a free-form kind declares no fields: it accepts any field name' },
    ]);
  });

  it('reports every problem at once, each at its path', () => {
    const issues = issuesOf({
      id: 'Bad_Id',
      displayName: 7,
      colour: 'blue',
      fields: [
        { name: 'ok', type: 'string' },
        { name: 'port', type: 'integr' },
        { name: 'size', type: 'integer', minLength: 3 },
        { name: 'mode', type: 'enum', options: ['a', 'b'], default: 'c' },
        { name: '9lives', type: 'string' },
        { name: 'ok', type: 'boolean' },
        { type: 'string' },
        'not an object',
        { name: 'pick', type: 'enum', options: [] },
      ],
    });
    expect(issues).toEqual([
      { path: 'displayName', message: 'expected a string' },
      {
        path: 'colour',
        message:
          'unknown setting; allowed: $schema, id, displayName, description, logo, freeForm, rotateEveryDays, fields',
      },
      { path: 'id', message: expect.stringContaining('lowercase letters, digits and "-"') },
      {
        path: 'fields[1].type',
        message: 'must be one of: string, text, secret, integer, number, boolean, enum',
      },
      {
        path: 'fields[2].minLength',
        message:
          'unknown setting; allowed: type, name, label, help, placeholder, required, secret, min, max, default',
      },
      { path: 'fields[3].default', message: 'the default is not valid for this field: must be one of: a, b' },
      { path: 'fields[4].name', message: expect.stringContaining('invalid field name') },
      { path: 'fields[5].name', message: 'duplicate field name "ok" (also fields[0].name)' },
      { path: 'fields[6].name', message: 'required' },
      { path: 'fields[7]', message: 'expected an object' },
      { path: 'fields[8].options', message: 'needs at least 1 entry' },
    ]);
  });

  it('reports missing required settings', () => {
    expect(issuesOf({})).toEqual([
      { path: 'id', message: 'required' },
      { path: 'displayName', message: 'required' },
    ]);
    expect(issuesOf({ id: 'nofields', displayName: 'No fields' })).toEqual([
      { path: 'fields', message: 'a kind needs at least one field' },
    ]);
    expect(issuesOf([])).toEqual([{ path: '(root)', message: 'expected an object' }]);
  });

  it('refuses a remote logo and anything that is not a data: URI', () => {
    const base = { id: 'remote', displayName: 'Remote', fields: [{ name: 'a', type: 'string' }] };
    for (const url of [
      'https://cdn.example.com/logo.svg',
      'http://example.com/x.png',
      '//cdn.example.com/x.svg',
    ]) {
      expect(issuesOf({ ...base, logo: url })).toEqual([
        { path: 'logo', message: expect.stringContaining('remote logo URLs are not allowed') },
      ]);
    }
    expect(issuesOf({ ...base, logo: 'logo.svg' })).toEqual([
      { path: 'logo', message: 'expected a data:image/svg+xml or data:image/png URI' },
    ]);
    expect(issuesOf({ ...base, logo: 'data:text/html;base64,PGgxPg==' })).toHaveLength(1);
    expect(issuesOf({ ...base, logo: 'data:image/png;base64,not base64!' })).toEqual([
      { path: 'logo', message: 'the data: URI is not valid base64' },
    ]);
    expect(kindFromDefinition({ ...base, logo: 'data:image/png;base64,iVBORw0KGgo=' }).logo).toBe(
      'data:image/png;base64,iVBORw0KGgo=',
    );
  });
});
