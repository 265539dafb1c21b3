import { describe, expect, it } from 'vitest';
import { changesOfForm, formOfSchema, formStateOf, initialFormState, valuesOfForm } from './schema-fields';

// The SMTP kind's schema as the API publishes it (abridged to what forms read).
const smtp = {
  type: 'object',
  'x-coffer-fields': ['host', 'port', 'security', 'username', 'password', 'tls'],
  required: ['host', 'port', 'security'],
  properties: {
    password: {
      type: 'string',
      title: 'Password',
      writeOnly: true,
      'x-coffer-secret': true,
      'x-coffer-order': 4,
    },
    host: {
      type: 'string',
      title: 'Host',
      description: 'The mail server',
      'x-coffer-placeholder': 'smtp.example.com',
    },
    port: { type: 'integer', title: 'Port', default: 587, minimum: 1, maximum: 65535 },
    security: { type: 'string', title: 'Security', enum: ['starttls', 'tls', 'none'], default: 'starttls' },
    username: { type: 'string', title: 'Username', format: 'email' },
    tls: { type: 'boolean', title: 'Verify TLS', default: true },
  },
};

describe('formOfSchema', () => {
  it('reads fields in x-coffer-fields order with labels, help, inputs, required and secret flags', () => {
    const { fields, freeForm } = formOfSchema(smtp);
    expect(freeForm).toBe(false);
    expect(fields.map((f) => [f.name, f.input, f.required, f.secret])).toEqual([
      ['host', 'text', true, false],
      ['port', 'number', true, false],
      ['security', 'select', true, false],
      ['username', 'email', false, false],
      ['password', 'password', false, true],
      ['tls', 'checkbox', false, false],
    ]);
    expect(fields[0]).toMatchObject({
      label: 'Host',
      help: 'The mail server',
      placeholder: 'smtp.example.com',
    });
    expect(fields[1]).toMatchObject({ default: 587, min: 1, max: 65535 });
    expect(fields[2]?.options).toEqual(['starttls', 'tls', 'none']);
  });

  it('falls back to x-coffer-order, and knows free-form kinds', () => {
    const { fields } = formOfSchema({
      properties: { b: { type: 'string', 'x-coffer-order': 1 }, a: { type: 'string', 'x-coffer-order': 0 } },
    });
    expect(fields.map((f) => f.name)).toEqual(['a', 'b']);
    expect(formOfSchema({ 'x-coffer-free-form': true, maxProperties: 100 })).toEqual({
      fields: [],
      freeForm: true,
      maxFields: 100,
    });
  });

  it('renders multi-line secrets as text areas', () => {
    const { fields } = formOfSchema({
      properties: { key: { type: 'string', 'x-coffer-secret': true, 'x-coffer-format': 'multiline' } },
    });
    expect(fields[0]).toMatchObject({ input: 'multiline', secret: true });
  });
});

describe('form state', () => {
  const { fields } = formOfSchema(smtp);

  it('prefills defaults and leaves empty fields out of the values', () => {
    const state = initialFormState(fields);
    expect(state).toEqual({
      host: '',
      port: '587',
      security: 'starttls',
      username: '',
      password: '',
      tls: true,
    });
    expect(valuesOfForm(fields, { ...state, host: 'mail' })).toEqual({
      host: 'mail',
      port: '587',
      security: 'starttls',
      tls: true,
    });
  });

  it('sends only what changed: a secret field still holding the mask is kept by not sending it', () => {
    const before = formStateOf(fields, {
      host: 'mail',
      port: 587,
      security: 'tls',
      username: 'a@b.c',
      password: '••••••••',
    });
    const after = { ...before, port: '2525', username: '' };
    expect(changesOfForm(fields, before, after)).toEqual({
      values: { port: '2525' },
      removeKeys: ['username'],
    });
  });
});
