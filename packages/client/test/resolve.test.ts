// `{{ secret.field }}` references resolved against the real server.
import { createClient, isCofferApiError, parseTemplate } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, createMember, startCoffer, type TestCoffer } from './support/coffer-server.js';
import { recordingFetch } from './support/fake-fetch.js';

let coffer: TestCoffer;
const password = 'planted-db-password-52b1';

beforeAll(async () => {
  coffer = await startCoffer();
  await coffer.admin.secrets.create({
    name: 'db',
    kind: 'generic',
    values: { host: 'db.internal', port: 5432, password, 'tls.enabled': true },
  });
  await coffer.admin.secrets.create({ name: 'mail', kind: 'generic', values: { user: 'mailer' } });
});
afterAll(() => cleanupServers());

function client() {
  const fetch = recordingFetch();
  return { fetch, client: createClient({ baseUrl: coffer.url, token: coffer.token, fetch }) };
}

describe('resolve', () => {
  it('replaces several references, reading each secret once', async () => {
    const { client: c, fetch } = client();
    const text = await c.resolve(
      'postgres://app:{{ db.password }}@{{db.host}}:{{ db.port }}/app?tls={{ db.tls.enabled }} mail={{ mail.user }}',
    );
    expect(text).toBe(`postgres://app:${password}@db.internal:5432/app?tls=true mail=mailer`);
    expect(fetch.requests.map((r) => new URL(r.url).pathname).sort()).toEqual([
      '/api/v1/secrets/db/values',
      '/api/v1/secrets/mail/values',
    ]);
    expect(fetch.requests.every((r) => r.url.endsWith('reveal=true'))).toBe(true);
  });

  it('makes no request for a template without references, and keeps \\{{ as a literal {{', async () => {
    const { client: c, fetch } = client();
    expect(await c.resolve('plain text, {single} braces, }} alone')).toBe(
      'plain text, {single} braces, }} alone',
    );
    expect(await c.resolve('\\{{ db.password }} is how you write it')).toBe(
      '{{ db.password }} is how you write it',
    );
    expect(fetch.requests).toEqual([]);
    expect(await c.resolve('\\{{ literal }} and {{ db.host }}')).toBe('{{ literal }} and db.internal');
  });

  it('names a missing secret, and returns nothing', async () => {
    const err = await client()
      .client.resolve('x={{ nope.password }} y={{ db.host }}')
      .catch((e: unknown) => e);
    expect(isCofferApiError(err, 'not_found')).toBe(true);
    expect((err as Error).message).toMatch(/^cannot resolve \{\{ nope\.password \}\}: /);
    expect((err as { issues: unknown }).issues).toEqual([
      { path: '{{ nope.password }}', message: expect.any(String) },
    ]);
  });

  it('names a missing field and lists the fields there are, never their values', async () => {
    const err = await client()
      .client.resolve('{{ db.pasword }}')
      .catch((e: unknown) => e);
    expect(isCofferApiError(err, 'field_not_found')).toBe(true);
    expect((err as Error).message).toBe(
      'cannot resolve {{ db.pasword }}: secret "db" has no field "pasword" (its fields: host, password, port, tls.enabled)',
    );
    expect(JSON.stringify(err)).not.toContain(password);
  });

  it('reports every failing reference at once', async () => {
    const err = await client()
      .client.resolve('{{ db.nofield }} {{ ghost.x }} {{ db.nofield }} {{ db.host }}')
      .catch((e: unknown) => e);
    expect(isCofferApiError(err, 'field_not_found')).toBe(true);
    expect((err as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      '{{ db.nofield }}',
      '{{ ghost.x }}',
    ]);
    expect((err as Error).message).toMatch(/^cannot resolve 2 references: /);
  });

  it('refuses what is not a reference, before any request', async () => {
    const { client: c, fetch } = client();
    for (const template of ['{{ db }}', '{{ }}', 'a {{ db.host', '{{ db host }}', '{{ .host }}']) {
      const err = await c.resolve(template).catch((e: unknown) => e);
      expect(isCofferApiError(err, 'invalid_reference'), template).toBe(true);
    }
    expect(fetch.requests).toEqual([]);
  });

  it('a secret the caller may only use cannot be resolved (forbidden or not found)', async () => {
    const member = await createMember(coffer, 'ida');
    const err = await member.client.resolve('{{ db.host }}').catch((e: unknown) => e);
    expect(isCofferApiError(err, 'not_found', 'forbidden')).toBe(true);
  });

  it('resolveAll reads each secret once across every template', async () => {
    const { client: c, fetch } = client();
    const env = await c.resolveAll({
      DB_HOST: '{{ db.host }}',
      DB_URL: 'pg://{{ db.host }}:{{ db.port }}',
      X: 'x',
    });
    expect(env).toEqual({ DB_HOST: 'db.internal', DB_URL: 'pg://db.internal:5432', X: 'x' });
    expect(fetch.requests).toHaveLength(1);
  });

  it('parseTemplate splits at the first dot (secret names have none; fields may)', () => {
    expect(parseTemplate('a{{ s.f.g }}b')).toEqual([
      'a',
      { text: '{{ s.f.g }}', secret: 's', field: 'f.g' },
      'b',
    ]);
  });
});
