import { describe, expect, it } from 'vitest';
import { CofferError } from '../../errors/coffer-error.js';
import {
  apiTokenKind,
  awsCredentialsKind,
  builtinKinds,
  databaseKind,
  genericKind,
  type Kind,
  type SecretValues,
  smtpKind,
  sshKeyKind,
} from '../index.js';

// One realistic set of values per built-in kind. A new built-in kind needs one here.
const realistic: Record<string, SecretValues> = {
  generic: { API_KEY: 'k-7d1f0c', 'retry.count': 3, verbose: true },
  smtp: {
    host: 'smtp.example.com',
    port: 465,
    security: 'tls',
    username: 'mailer@example.com',
    password: 'app-password-1',
    from: 'noreply@example.com',
  },
  jira: { baseUrl: 'https://acme.atlassian.net', email: 'bot@acme.com', apiToken: 'ATATT3xFfGF0-example' },
  database: {
    engine: 'mysql',
    host: 'db.internal.example.com',
    port: 3306,
    database: 'orders',
    username: 'orders_app',
    password: 'db-pass-1',
    sslMode: 'verify-full',
  },
  'aws-credentials': {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: 'FwoGZXIvYXdzEXAMPLE',
    region: 'eu-central-1',
  },
  'api-token': {
    baseUrl: 'https://api.example.com/v2',
    token: 'tok_live_example',
    headerName: 'X-Api-Key',
    scheme: '',
  },
  'basic-auth': { url: 'https://intranet.example.com', username: 'admin', password: 'correct horse' },
  'ssh-key': {
    host: 'git.example.com',
    port: 2222,
    username: 'deploy',
    privateKey:
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    passphrase: 'key pass',
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample deploy@example',
  },
  'oauth-client': {
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'coffer-client',
    clientSecret: 'client-secret-1',
    scopes: 'read:users write:tickets',
    audience: 'https://api.example.com',
  },
};

// The secret fields of each kind, as the product promises them.
const secretFields: Record<string, string[]> = {
  smtp: ['password'],
  jira: ['apiToken'],
  database: ['password'],
  'aws-credentials': ['secretAccessKey', 'sessionToken'],
  'api-token': ['token'],
  'basic-auth': ['password'],
  'ssh-key': ['privateKey', 'passphrase'],
  'oauth-client': ['clientSecret'],
};

const declared = builtinKinds.filter((kind) => !kind.freeForm);

function properties(kind: Kind): Record<string, Record<string, unknown>> {
  return kind.jsonSchema.properties as Record<string, Record<string, unknown>>;
}

describe('built-in kinds', () => {
  it('are the documented set, in a stable order, with unique ids, all marked builtin', () => {
    expect(builtinKinds.map((k) => k.id)).toEqual([
      'generic',
      'smtp',
      'jira',
      'database',
      'aws-credentials',
      'api-token',
      'basic-auth',
      'ssh-key',
      'oauth-client',
    ]);
    expect(builtinKinds.every((k) => k.source === 'builtin')).toBe(true);
    expect(Object.keys(realistic).sort()).toEqual(builtinKinds.map((k) => k.id).sort());
  });

  it('each have a display name, a one-line description and an inline SVG logo', () => {
    for (const kind of builtinKinds) {
      expect(kind.displayName.trim()).not.toBe('');
      expect(kind.description.trim()).not.toBe('');
      expect(kind.description).not.toContain('\n');
      expect(kind.logo).toMatch(/^data:image\/svg\+xml;base64,[A-Za-z0-9+/]+=*$/);
      const svg = Buffer.from(kind.logo.slice(kind.logo.indexOf(',') + 1), 'base64').toString('utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/s);
      // Nothing a renderer would fetch or run.
      expect(svg).not.toMatch(/href|<script|url\(|<image/i);
    }
    expect(new Set(builtinKinds.map((k) => k.logo)).size).toBe(builtinKinds.length);
  });

  it.each(builtinKinds.map((kind) => [kind.id, kind] as const))(
    '%s validates a realistic value set unchanged',
    (id, kind) => {
      const values = kind.validate(realistic[id]);
      expect(values).toEqual(realistic[id]);
      expect(kind.schema.safeParse(values).success).toBe(true);
    },
  );

  it.each(builtinKinds.map((kind) => [kind.id, kind] as const))(
    '%s values round-trip through JSON unchanged',
    (id, kind) => {
      const first = kind.validate(realistic[id]);
      const again = kind.validate(JSON.parse(JSON.stringify(first)));
      expect(again).toEqual(first);
      expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    },
  );

  it.each(declared.map((kind) => [kind.id, kind] as const))(
    '%s has the promised secret fields',
    (id, kind) => {
      expect(kind.fields.filter((f) => f.secret).map((f) => f.name)).toEqual(secretFields[id]);
      for (const f of kind.fields) expect(kind.isSecretField(f.name)).toBe(f.secret);
    },
  );

  it.each(declared.map((kind) => [kind.id, kind] as const))(
    '%s JSON Schema agrees with its fields',
    (_id, kind) => {
      const schema = kind.jsonSchema;
      expect(schema).toMatchObject({
        title: kind.displayName,
        description: kind.description,
        type: 'object',
        'x-coffer-kind': kind.id,
        'x-coffer-logo': kind.logo,
        additionalProperties: false,
      });
      expect(schema['x-coffer-fields']).toEqual(kind.fields.map((f) => f.name));
      expect(schema.required).toEqual(kind.fields.filter((f) => f.required).map((f) => f.name));
      const props = properties(kind);
      expect(Object.keys(props)).toEqual(kind.fields.map((f) => f.name));
      kind.fields.forEach((f, order) => {
        const p = props[f.name] ?? {};
        expect(p.title).toBe(f.label);
        expect(p.default).toEqual(f.default);
        expect(p.enum).toEqual(f.options);
        expect(p['x-coffer-secret']).toBe(f.secret ? true : undefined);
        expect(p.writeOnly).toBe(f.secret ? true : undefined);
        expect(p['x-coffer-order']).toBe(order);
        expect(p.type).toBe(f.type === 'enum' ? 'string' : f.type);
        // A secret never has a default: it would be published with the schema.
        if (f.secret) expect(p.default).toBeUndefined();
      });
    },
  );

  it('prefill their defaults', () => {
    const smtp = smtpKind.validate({ host: 'smtp.example.com', username: 'u', password: 'p' });
    expect(smtp).toMatchObject({ port: 587, security: 'starttls' });
    expect(smtp).not.toHaveProperty('from');
    expect(sshKeyKind.validate({ username: 'git', privateKey: 'k' }).port).toBe(22);
    expect(apiTokenKind.validate({ token: 't' })).toEqual({
      token: 't',
      headerName: 'Authorization',
      scheme: 'Bearer',
    });
    const db = databaseKind.validate({ host: 'h', database: 'd', username: 'u', password: 'p' });
    expect(db).toEqual({ engine: 'postgres', host: 'h', database: 'd', username: 'u', password: 'p' });
    expect(properties(smtpKind).port?.default).toBe(587);
  });

  it('take the strings a form sends', () => {
    const smtp = smtpKind.validate({
      host: 'smtp.example.com',
      port: '2525',
      username: 'u',
      password: 'p',
      from: '',
    });
    expect(smtp.port).toBe(2525);
    expect(smtp).not.toHaveProperty('from');
  });

  it('check the shape of well-known values', () => {
    try {
      awsCredentialsKind.validate({ accessKeyId: 'akia-lower', secretAccessKey: 's', region: 'Frankfurt' });
      expect.unreachable();
    } catch (err) {
      expect((err as CofferError).details.issues?.map((i) => i.path)).toEqual([
        'values.accessKeyId',
        'values.region',
      ]);
    }
    for (const region of ['us-east-1', 'us-gov-west-1', 'ap-southeast-2']) {
      expect(
        awsCredentialsKind.validate({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's', region })
          .region,
      ).toBe(region);
    }
  });
});

describe('the generic kind', () => {
  it('accepts any valid field names with string, number and boolean values', () => {
    const values = { DATABASE_URL: 'postgres://h/db', 'smtp.port': 25, _debug: false, 'a-b': '' };
    expect(genericKind.validate(values)).toEqual(values);
    expect(genericKind.validate({})).toEqual({});
    expect(genericKind.freeForm).toBe(true);
    expect(genericKind.fields).toEqual([]);
  });

  it('treats every field as secret and publishes a free-form schema', () => {
    expect(genericKind.isSecretField('DATABASE_URL')).toBe(true);
    expect(genericKind.jsonSchema).toMatchObject({
      type: 'object',
      'x-coffer-kind': 'generic',
      properties: {},
      required: [],
      maxProperties: 100,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$' },
      additionalProperties: {
        type: ['string', 'number', 'boolean'],
        writeOnly: true,
        'x-coffer-secret': true,
      },
    });
  });

  it('rejects bad names, values that are not scalars, more than 100 fields and values over 64 KiB, all at once', () => {
    try {
      genericKind.validate({
        '1abc': 'x',
        'has space': 'x',
        nested: { a: 1 },
        list: [1],
        nothing: null,
        nan: Number.NaN,
        big: 'x'.repeat(65_537),
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CofferError);
      expect((err as CofferError).details.issues).toEqual([
        { path: 'values.1abc', message: expect.stringContaining('invalid field name') },
        { path: 'values.has space', message: expect.stringContaining('invalid field name') },
        { path: 'values.nested', message: 'expected a string, number or boolean' },
        { path: 'values.list', message: 'expected a string, number or boolean' },
        { path: 'values.nothing', message: 'expected a string, number or boolean' },
        { path: 'values.nan', message: 'expected a finite number' },
        { path: 'values.big', message: 'too long: at most 64 KiB' },
      ]);
    }
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));
    expect(() => genericKind.validate(many)).toThrow(/too many fields: at most 100/);
    expect(
      Object.keys(genericKind.validate(Object.fromEntries(Object.entries(many).slice(0, 100)))),
    ).toHaveLength(100);
  });

  it('never lets a key reach the prototype', () => {
    const values = JSON.parse('{"__proto__": "x", "ok": 1}');
    expect(() => genericKind.validate(values)).toThrow(/values\.__proto__: invalid field name/);
  });

  it('agrees with its zod schema', () => {
    expect(genericKind.schema.safeParse(realistic.generic).success).toBe(true);
    expect(genericKind.schema.safeParse({ 'bad name': 1 }).success).toBe(false);
    expect(genericKind.schema.safeParse({ a: null }).success).toBe(false);
  });
});
