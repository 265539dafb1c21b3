import { describe, expect, it } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import {
  defineKind,
  field,
  genericKind,
  isKind,
  JSON_SCHEMA_DIALECT,
  MAX_VALUE_BYTES,
  smtpKind,
} from './index.js';

const logo = 'data:image/svg+xml;base64,PHN2Zy8+';

const mailKind = defineKind({
  id: 'test-mail',
  displayName: 'Test mail',
  description: 'A kind with one field of every type.',
  logo,
  fields: {
    host: field.string({
      label: 'Host',
      help: 'Server name.',
      placeholder: 'mail.example.com',
      maxLength: 20,
    }),
    port: field.integer({ label: 'Port', default: 587, min: 1, max: 65535 }),
    ratio: field.number({ required: false, min: 0, max: 1 }),
    verify: field.boolean({ label: 'Verify', default: true }),
    mode: field.enum(['starttls', 'tls', 'none'] as const, { label: 'Mode', default: 'starttls' }),
    password: field.secret({ label: 'Password', minLength: 4 }),
    key: field.secret({ label: 'Key', multiline: true, required: false }),
    notes: field.text({ required: false }),
    fromAddress: field.string({ format: 'email', required: false }),
    site: field.string({ format: 'url', required: false }),
    relay: field.string({ format: 'hostname', required: false }),
    code: field.string({ pattern: '^[A-Z]{3}$', required: false }),
    scheme: field.string({ default: 'Bearer' }),
  },
});

const minimal = { host: 'mail.example.com', password: 'pw-1234' };

function validationIssues(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    expect((err as CofferError).code).toBe('validation');
    return (err as CofferError).details.issues ?? [];
  }
  throw new Error('expected a validation error');
}

function definitionIssues(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    expect((err as CofferError).code).toBe('invalid_config');
    return (err as CofferError).details.issues ?? [];
  }
  throw new Error('expected an invalid_config error');
}

describe('defineKind', () => {
  it('publishes every field in declaration order with its label, flags and settings', () => {
    expect(mailKind.fields.map((f) => f.name)).toEqual([
      'host',
      'port',
      'ratio',
      'verify',
      'mode',
      'password',
      'key',
      'notes',
      'fromAddress',
      'site',
      'relay',
      'code',
      'scheme',
    ]);
    const byName = Object.fromEntries(mailKind.fields.map((f) => [f.name, f]));
    expect(byName.host).toEqual({
      name: 'host',
      type: 'string',
      label: 'Host',
      help: 'Server name.',
      placeholder: 'mail.example.com',
      required: true,
      secret: false,
      format: 'text',
      maxLength: 20,
    });
    expect(byName.port).toMatchObject({ type: 'integer', default: 587, required: true, min: 1, max: 65535 });
    expect(byName.mode).toMatchObject({
      type: 'enum',
      options: ['starttls', 'tls', 'none'],
      default: 'starttls',
    });
    expect(byName.password).toMatchObject({
      type: 'string',
      secret: true,
      format: 'password',
      required: true,
    });
    expect(byName.key).toMatchObject({ type: 'string', secret: true, format: 'multiline', required: false });
    expect(byName.notes).toMatchObject({
      type: 'string',
      secret: false,
      format: 'multiline',
      required: false,
    });
    // Labels default to the name in words.
    expect(byName.fromAddress?.label).toBe('From address');
    expect(byName.ratio?.label).toBe('Ratio');
    expect(mailKind).toMatchObject({
      id: 'test-mail',
      displayName: 'Test mail',
      logo,
      freeForm: false,
      source: 'app',
    });
    expect(isKind(mailKind)).toBe(true);
  });

  it('says which fields are secret', () => {
    expect(mailKind.isSecretField('password')).toBe(true);
    expect(mailKind.isSecretField('key')).toBe(true);
    expect(mailKind.isSecretField('host')).toBe(false);
    expect(mailKind.isSecretField('nope')).toBe(false);
    expect(genericKind.isSecretField('anything')).toBe(true);
  });

  it('fills in defaults and leaves optional fields out', () => {
    expect(mailKind.validate(minimal)).toEqual({
      host: 'mail.example.com',
      port: 587,
      verify: true,
      mode: 'starttls',
      password: 'pw-1234',
      scheme: 'Bearer',
    });
  });

  it('keeps given values over defaults', () => {
    const values = mailKind.validate({ ...minimal, port: 2525, verify: false, mode: 'tls', scheme: 'Token' });
    expect(values).toMatchObject({ port: 2525, verify: false, mode: 'tls', scheme: 'Token' });
  });

  it('accepts well-formed strings for integer, number and boolean fields', () => {
    const values = mailKind.validate({ ...minimal, port: '2525', ratio: ' 0.25 ', verify: 'false' });
    expect(values).toMatchObject({ port: 2525, ratio: 0.25, verify: false });
    expect(mailKind.validate({ ...minimal, port: '5e2', verify: 'TRUE' })).toMatchObject({
      port: 500,
      verify: true,
    });
  });

  it('rejects strings that are not well-formed numbers or booleans', () => {
    const issues = validationIssues(() =>
      mailKind.validate({ ...minimal, port: '587abc', ratio: '0x1', verify: 'yes' }),
    );
    expect(issues).toEqual([
      { path: 'values.port', message: 'expected an integer' },
      { path: 'values.ratio', message: 'expected a number' },
      { path: 'values.verify', message: 'expected true or false' },
    ]);
    expect(validationIssues(() => mailKind.validate({ ...minimal, port: '587.5' }))).toEqual([
      { path: 'values.port', message: 'expected an integer' },
    ]);
    // Numbers are not accepted for strings, nor strings for booleans: a form sends strings, never the reverse.
    expect(validationIssues(() => mailKind.validate({ ...minimal, host: 42 }))).toEqual([
      { path: 'values.host', message: 'expected a string' },
    ]);
  });

  it('reports every offending field at once, in field order, then unknown fields', () => {
    const issues = validationIssues(() =>
      mailKind.validate({
        port: 70000,
        ratio: 2,
        mode: 'ssl',
        password: 'abc',
        fromAddress: 'not-an-email',
        site: 'ftp://files.example.com',
        relay: 'not a host',
        code: 'abcd',
        colour: 'blue',
      }),
    );
    expect(issues).toEqual([
      { path: 'values.host', message: 'required' },
      { path: 'values.port', message: 'must be at most 65535' },
      { path: 'values.ratio', message: 'must be at most 1' },
      { path: 'values.mode', message: 'must be one of: starttls, tls, none' },
      { path: 'values.password', message: 'too short: at least 4 characters' },
      { path: 'values.fromAddress', message: 'must be an email address' },
      { path: 'values.site', message: 'must be an http or https URL' },
      { path: 'values.relay', message: 'must be a hostname' },
      { path: 'values.code', message: 'must match the pattern ^[A-Z]{3}$' },
      {
        path: 'values.colour',
        message:
          'unknown field; kind "test-mail" has the fields: host, port, ratio, verify, mode, password, key, notes, fromAddress, site, relay, code, scheme',
      },
    ]);
  });

  it('puts every issue in the error message too', () => {
    try {
      mailKind.validate({ port: 0 });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('values.host: required');
      expect((err as Error).message).toContain('values.port: must be at least 1');
      expect((err as Error).message).toContain('values.password: required');
    }
  });

  it('treats "" and null as no value, except that a defaulted string keeps ""', () => {
    const values = mailKind.validate({
      ...minimal,
      port: '',
      verify: null,
      ratio: '',
      notes: '',
      scheme: '',
    });
    expect(values).toEqual({ ...mailKind.validate(minimal), scheme: '' });
    expect(validationIssues(() => mailKind.validate({ host: '', password: null }))).toEqual([
      { path: 'values.host', message: 'required' },
      { path: 'values.password', message: 'required' },
    ]);
  });

  it('ignores unknown properties that are undefined (an object spread with optional fields)', () => {
    expect(mailKind.validate({ ...minimal, extra: undefined })).toEqual(mailKind.validate(minimal));
  });

  it('rejects values that are not an object', () => {
    for (const values of [null, 'host=x', ['x'], 42]) {
      expect(validationIssues(() => mailKind.validate(values))).toEqual([
        { path: 'values', message: 'expected an object mapping field names to values' },
      ]);
    }
  });

  it('rejects strings longer than 64 KiB in any field, counting UTF-8 bytes', () => {
    const atLimit = 'a'.repeat(MAX_VALUE_BYTES);
    expect(mailKind.validate({ ...minimal, notes: atLimit }).notes).toBe(atLimit);
    const tooLong = 'a'.repeat(MAX_VALUE_BYTES + 1);
    // 22,000 euro signs are 66,000 bytes but only 22,000 characters.
    const wideTooLong = '€'.repeat(22_000);
    expect(
      validationIssues(() => mailKind.validate({ ...minimal, notes: tooLong, key: wideTooLong })),
    ).toEqual([
      { path: 'values.key', message: 'too long: at most 64 KiB' },
      { path: 'values.notes', message: 'too long: at most 64 KiB' },
    ]);
  });

  it('reads a field only from the values themselves, never from the object prototype', () => {
    const kind = defineKind({
      id: 'test-proto',
      displayName: 'Proto',
      description: '',
      fields: { constructor: field.string(), toString: field.string({ required: false }) },
    });
    expect(validationIssues(() => kind.validate({}))).toEqual([
      { path: 'values.constructor', message: 'required' },
    ]);
    expect(kind.validate({ constructor: 'c' })).toEqual({ constructor: 'c' });
  });

  it('returns values its zod schema accepts, and the schema rejects unknown keys', () => {
    const values = mailKind.validate(minimal);
    expect(mailKind.schema.safeParse(values).success).toBe(true);
    expect(mailKind.schema.safeParse({ ...values, colour: 'blue' }).success).toBe(false);
    expect(mailKind.schema.safeParse({ ...values, host: undefined }).success).toBe(false);
  });

  it('publishes a JSON Schema that a form renders', () => {
    const small = defineKind({
      id: 'test-small',
      displayName: 'Small',
      description: 'A small kind.',
      logo,
      fields: {
        url: field.string({
          label: 'URL',
          format: 'url',
          help: 'Where it lives.',
          placeholder: 'https://x.example',
        }),
        port: field.integer({ label: 'Port', default: 8080, min: 1, max: 65535 }),
        mode: field.enum(['a', 'b'] as const, { required: false }),
        token: field.secret({ label: 'Token' }),
        key: field.secret({ label: 'Key', multiline: true, required: false }),
        debug: field.boolean({ default: false }),
        note: field.text({ maxLength: 500, required: false }),
      },
    });
    expect(small.jsonSchema).toEqual({
      $schema: JSON_SCHEMA_DIALECT,
      title: 'Small',
      description: 'A small kind.',
      type: 'object',
      'x-coffer-kind': 'test-small',
      'x-coffer-logo': logo,
      'x-coffer-fields': ['url', 'port', 'mode', 'token', 'key', 'debug', 'note'],
      properties: {
        url: {
          type: 'string',
          title: 'URL',
          description: 'Where it lives.',
          minLength: 1,
          format: 'uri',
          'x-coffer-format': 'url',
          'x-coffer-placeholder': 'https://x.example',
          'x-coffer-order': 0,
        },
        port: {
          type: 'integer',
          title: 'Port',
          default: 8080,
          minimum: 1,
          maximum: 65535,
          'x-coffer-order': 1,
        },
        mode: { type: 'string', title: 'Mode', enum: ['a', 'b'], 'x-coffer-order': 2 },
        token: {
          type: 'string',
          title: 'Token',
          minLength: 1,
          'x-coffer-format': 'password',
          writeOnly: true,
          'x-coffer-secret': true,
          'x-coffer-order': 3,
        },
        key: {
          type: 'string',
          title: 'Key',
          'x-coffer-format': 'multiline',
          writeOnly: true,
          'x-coffer-secret': true,
          'x-coffer-order': 4,
        },
        debug: { type: 'boolean', title: 'Debug', default: false, 'x-coffer-order': 5 },
        note: {
          type: 'string',
          title: 'Note',
          maxLength: 500,
          'x-coffer-format': 'multiline',
          'x-coffer-order': 6,
        },
      },
      required: ['url', 'port', 'token', 'debug'],
      additionalProperties: false,
    });
    expect(Object.isFrozen(small.jsonSchema)).toBe(true);
  });

  it('gives a kind without a logo a neutral data: URI logo', () => {
    const kind = defineKind({
      id: 'test-nologo',
      displayName: 'No logo',
      description: '',
      fields: { a: field.string() },
    });
    expect(kind.logo).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(kind.jsonSchema['x-coffer-logo']).toBe(kind.logo);
  });

  it('reports every problem of a faulty definition at once', () => {
    const issues = definitionIssues(() =>
      defineKind({
        id: 'Bad Id',
        displayName: '',
        description: 'x',
        logo: 'https://example.com/logo.png',
        fields: {
          'bad name': field.string(),
          port: field.integer({ default: 70000, max: 65535 }),
          ratio: field.number({ min: 2, max: 1 }),
          mode: field.enum(['a', 'b'], { default: 'c' as 'a' }),
          token: field.string({ secret: true, default: 'abc' }),
          note: field.string({ required: false, default: 'x' }),
          code: field.string({ pattern: '([' }),
          size: field.integer({ default: 1.5 }),
        },
      }),
    );
    expect(issues).toEqual([
      {
        path: 'id',
        message: 'must be 2 to 64 characters of lowercase letters, digits and "-", starting with a letter',
      },
      { path: 'displayName', message: 'must not be empty' },
      { path: 'logo', message: expect.stringContaining('remote logo URLs are not allowed') },
      { path: 'fields.bad name', message: expect.stringContaining('invalid field name') },
      {
        path: 'fields.port.default',
        message: 'the default is not valid for this field: must be at most 65535',
      },
      { path: 'fields.ratio.max', message: 'must not be less than min' },
      {
        path: 'fields.mode.default',
        message: 'the default is not valid for this field: must be one of: a, b',
      },
      {
        path: 'fields.token.default',
        message: expect.stringContaining('a secret field cannot have a default'),
      },
      {
        path: 'fields.note.required',
        message: expect.stringContaining('a field with a default is always present'),
      },
      { path: 'fields.code.pattern', message: 'is not a valid regular expression' },
      {
        path: 'fields.size.default',
        message: 'the default is not valid for this field: expected an integer',
      },
    ]);
  });

  it('refuses a default of the wrong type even when it would coerce', () => {
    const issues = definitionIssues(() =>
      defineKind({
        id: 'test-coerce',
        displayName: 'x',
        description: '',
        fields: { port: field.integer({ default: '587' as unknown as number }) },
      }),
    );
    expect(issues).toEqual([
      {
        path: 'fields.port.default',
        message: 'the default is not valid for this field: expected an integer',
      },
    ]);
  });

  it('refuses a kind without fields and a free-form kind with fields', () => {
    expect(
      definitionIssues(() => defineKind({ id: 'test-empty', displayName: 'x', description: '', fields: {} })),
    ).toEqual([{ path: 'fields', message: 'a kind needs at least one field' }]);
    expect(
      definitionIssues(() =>
        defineKind({
          id: 'test-free',
          displayName: 'x',
          description: '',
          freeForm: true,
          fields: { a: field.string() } as unknown as undefined,
        }),
      ),
    ).toEqual([
      { path: 'fields', message: 'a free-form kind declares no fields: it accepts any field name' },
    ]);
  });

  it('accepts kind ids and field names at the edges of their patterns', () => {
    const kind = defineKind({
      id: `a${'b'.repeat(63)}`,
      displayName: 'Edge',
      description: '',
      fields: { [`_${'x'.repeat(127)}`]: field.string(), 'db.main-host': field.string() },
    });
    expect(kind.fields.map((f) => f.name.length)).toEqual([128, 12]);
    expect(
      definitionIssues(() =>
        defineKind({
          id: `a${'b'.repeat(64)}`,
          displayName: 'x',
          description: '',
          fields: { a: field.string() },
        }),
      ),
    ).toHaveLength(1);
    expect(
      definitionIssues(() =>
        defineKind({ id: 'a', displayName: 'x', description: '', fields: { a: field.string() } }),
      ),
    ).toHaveLength(1);
    expect(
      definitionIssues(() =>
        defineKind({ id: 'ab', displayName: 'x', description: '', fields: { '1a': field.string() } }),
      ),
    ).toHaveLength(1);
  });
});

describe('error messages never contain a submitted value', () => {
  const planted = 'PLANTED-hunter2-Secret';

  function leaks(run: () => unknown): string[] {
    try {
      run();
    } catch (err) {
      const e = err as CofferError;
      const texts = [e.message, String(e.stack), JSON.stringify(e.details), String(e.cause ?? '')];
      return texts.filter((t) => t.includes(planted));
    }
    throw new Error('expected an error');
  }

  it('for every rule a field can break', () => {
    const cases: Record<string, unknown>[] = [
      { ...minimal, port: planted },
      { ...minimal, ratio: planted },
      { ...minimal, verify: planted },
      { ...minimal, mode: planted },
      { ...minimal, host: `${planted}-far-too-long-for-twenty` },
      { ...minimal, password: { nested: planted } },
      { ...minimal, fromAddress: planted },
      { ...minimal, site: planted },
      { ...minimal, relay: `${planted} x` },
      { ...minimal, code: planted },
      { ...minimal, notes: `${planted}${'x'.repeat(MAX_VALUE_BYTES)}` },
      { ...minimal, unknownField: planted },
    ];
    for (const values of cases) expect(leaks(() => mailKind.validate(values))).toEqual([]);
    expect(
      leaks(() => smtpKind.validate({ host: planted, port: planted, security: planted, from: planted })),
    ).toEqual([]);
  });

  it('for free-form values', () => {
    expect(leaks(() => genericKind.validate({ a: `${planted}${'x'.repeat(MAX_VALUE_BYTES)}` }))).toEqual([]);
    expect(leaks(() => genericKind.validate({ a: [planted], b: { planted } }))).toEqual([]);
  });
});
