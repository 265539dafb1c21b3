// Thousands of generated bad requests to every route in the OpenAPI document (wrong types,
// missing and unknown fields, bad JSON, wrong media types, huge bodies, bad cursors and
// parameters, bad path segments, unknown routes): never a 5xx, never a crash, and the stored
// data is exactly what it was.
import { createTestDatabase, describeEachDialect, type TestDatabase } from '@coffer/core/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';

afterAll(() => cleanupServers());

interface BadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  why: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: unknown;
  anyOf?: JsonSchema[];
  enum?: unknown[];
}

interface Operation {
  parameters?: { in: string; name: string; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
}

/** A small deterministic generator, so a failure can be reproduced. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A value of the wrong type for a schema. */
function wrongValuesFor(schema: JsonSchema | undefined): unknown[] {
  const types = new Set([schema?.type ?? 'any', ...(schema?.anyOf ?? []).map((s) => s.type)].flat());
  const candidates: unknown[] = [];
  if (!types.has('string')) candidates.push('not-the-right-type');
  if (!types.has('number') && !types.has('integer')) candidates.push(12345);
  if (!types.has('boolean')) candidates.push(true);
  if (!types.has('object')) candidates.push({ nested: { deeper: [1, 2, 3] } });
  if (!types.has('array')) candidates.push([1, 'two', null]);
  if (!types.has('null')) candidates.push(null);
  if (types.has('integer') || types.has('number')) candidates.push(1.5e308 * 10, -1);
  if (types.has('string')) candidates.push('x'.repeat(5000));
  return candidates.filter((v) => v !== Number.POSITIVE_INFINITY);
}

/** Bad bodies for an operation: every one of them is invalid for that operation. */
function badBodies(operation: Operation): { body: string; contentType: string; why: string }[] {
  const json = 'application/json';
  const schema = operation.requestBody?.content[json]?.schema ?? {};
  const bodies = [
    { body: '{"a":', contentType: json, why: 'truncated JSON' },
    { body: '{"a": 1,}', contentType: json, why: 'trailing comma' },
    { body: '', contentType: json, why: 'empty JSON body' },
    { body: '[]', contentType: json, why: 'array body' },
    { body: '"text"', contentType: json, why: 'string body' },
    { body: '42', contentType: json, why: 'number body' },
    { body: 'null', contentType: json, why: 'null body' },
    { body: '{"__proto__": {"admin": true}}', contentType: json, why: 'prototype pollution' },
    { body: '{"constructor": {"prototype": {"x": 1}}}', contentType: json, why: 'constructor pollution' },
    { body: `${'['.repeat(5000)}${']'.repeat(5000)}`, contentType: json, why: 'deep nesting' },
    { body: JSON.stringify({ __unknown_field__: 1 }), contentType: json, why: 'unknown field' },
    { body: 'hello', contentType: 'text/plain', why: 'text body' },
    { body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded', why: 'form body' },
    { body: '{"a":1}', contentType: 'application/xml', why: 'other media type' },
    { body: '\u0000\u0001\u0002\uFFFF', contentType: json, why: 'control bytes' },
  ];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    for (const value of wrongValuesFor(property)) {
      bodies.push({
        body: JSON.stringify({ [name]: value }),
        contentType: json,
        why: `${name} of the wrong type`,
      });
    }
  }
  if ((schema.required ?? []).length > 0)
    bodies.push({ body: '{}', contentType: json, why: 'missing fields' });
  return bodies;
}

/** Bad query strings: each one has at least one value the route must refuse. */
function badQueries(operation: Operation): { query: string; why: string }[] {
  const queries = [
    { query: 'zz_unknown=1', why: 'unknown parameter' },
    { query: 'cursor=&zz=1', why: 'empty cursor and unknown parameter' },
  ];
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'query') continue;
    const name = encodeURIComponent(parameter.name);
    queries.push({ query: `${name}=${'x'.repeat(3000)}`, why: `${parameter.name} too long` });
    queries.push({ query: `${name}=%E0%A4%A`, why: `${parameter.name} badly encoded` });
    if (parameter.name === 'cursor') {
      for (const cursor of [
        '!!!',
        Buffer.from('["a",1,2,3]').toString('base64url'),
        Buffer.from('{}').toString('base64url'),
      ]) {
        queries.push({ query: `cursor=${cursor}&zz=1`, why: 'bad cursor' });
        queries.push({ query: `cursor=${cursor}`, why: 'bad cursor alone' });
      }
    }
    if (parameter.name === 'limit') {
      for (const limit of ['0', '-5', '1001', 'abc', '1.5', '1e3000', '']) {
        queries.push({ query: `limit=${limit}`, why: `limit ${limit}` });
      }
    }
  }
  return queries;
}

function queryIsOnlyRead(method: string): boolean {
  return method === 'GET';
}

await describeEachDialect('malformed input', (dialect) => {
  let database: TestDatabase | undefined;
  let server: ServerProcess;
  let admin: ApiClient;
  const real: Record<string, string> = {};

  async function snapshot(): Promise<string> {
    const all = async (path: string) => {
      const items: unknown[] = [];
      let cursor: string | null = null;
      do {
        const separator = path.includes('?') ? '&' : '?';
        const page = await admin.get(`${path}${cursor === null ? '' : `${separator}cursor=${cursor}`}`);
        expect(page.status, `${path}: ${page.text}`).toBe(200);
        items.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      return items;
    };
    const secrets = (await all('/secrets?state=all')) as { id: string; deletedAt: string | null }[];
    const detail = [];
    for (const s of secrets) {
      const live = s.deletedAt === null;
      detail.push({
        s,
        values: live ? (await admin.get(`/secrets/${s.id}/values?reveal=true`)).body : null,
        versions: live ? await all(`/secrets/${s.id}/versions`) : null,
        shares: await all(`/secrets/${s.id}/shares`),
      });
    }
    const groups = (await all('/groups')) as { id: string }[];
    return JSON.stringify({
      detail,
      users: await all('/users'),
      groups: await Promise.all(groups.map(async (g) => (await admin.get(`/groups/${g.id}`)).body)),
      tokens: await all('/tokens?includeInactive=true'),
      keyring: (await admin.get('/keyring')).body.keys,
    });
  }

  beforeAll(async () => {
    database = dialect === 'sqlite' ? undefined : await createTestDatabase(dialect);
    server = await startServer({
      env: {
        COFFER_ADMIN_PASSWORD: 'malformed admin password',
        COFFER_LOGIN_MAX_FAILURES_PER_ADDRESS: '100000',
        COFFER_LOG_LEVEL: 'warn',
        ...(database === undefined ? {} : { COFFER_DATABASE_URL: database.url }),
      },
    });
    const session = await ApiClient.login(server.api, 'admin', 'malformed admin password');
    const token = (await session.post('/tokens', { name: 'fuzz', scope: 'read-write' })).body;
    admin = new ApiClient(server.api, token.token);
    real.tokenId = token.info.id;
    real.adminId = token.info.userId;
    const user = await admin.post('/users', { username: 'target', password: 'target password 123' });
    real.userId = user.body.id;
    const group = await admin.post('/groups', { name: 'crew' });
    real.groupId = group.body.id;
    await admin.put(`/groups/${real.groupId}/members/${real.userId}`);
    const smtp = await admin.post('/secrets', {
      name: 'mail',
      kind: 'smtp',
      values: { host: '127.0.0.1', port: 9, password: 'stored password' },
    });
    real.secretId = smtp.body.id;
    await admin.patch('/secrets/mail/values', { values: { port: 10 } });
    await admin.post('/secrets/mail/shares', { granteeType: 'user', granteeId: real.userId });
    const trashed = await admin.post('/secrets', { name: 'old', kind: 'generic', values: { a: 'b' } });
    await admin.delete(`/secrets/${trashed.body.id}`);
    real.deletedId = trashed.body.id;
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('answers thousands of bad requests to every route without a 5xx, and changes nothing', async () => {
    const before = await snapshot();
    const document = (await admin.get('/openapi.json')).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const next = random(dialect.length * 7919);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

    const pathValues = (name: string, template: string): string[] => {
      const realValue =
        name === 'ref'
          ? pick([real.secretId!, 'mail', real.deletedId!])
          : name === 'userId' || name === 'granteeId'
            ? real.userId!
            : name === 'granteeType'
              ? 'user'
              : name === 'name'
                ? 'sql'
                : template.startsWith('/api/v1/groups')
                  ? real.groupId!
                  : template.startsWith('/api/v1/tokens')
                    ? real.tokenId!
                    : template.startsWith('/api/v1/kinds')
                      ? 'smtp'
                      : real.userId!;
      return [
        realValue,
        'does-not-exist',
        '00000000-0000-0000-0000-000000000000',
        'x'.repeat(700),
        '%00',
        '..%2F..%2Fetc',
        '%F0%9F%92%A3',
        '%E0%A4%A',
        "'; drop table secrets; --",
      ];
    };

    const requests: BadRequest[] = [];
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const [lower, operation] of Object.entries(operations)) {
        const method = lower.toUpperCase();
        const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        const expand = () => {
          let path = template;
          let usesReal = true;
          for (const name of names) {
            const choices = pathValues(name, template);
            const value = next() < 0.5 ? choices[0]! : pick(choices);
            if (value !== choices[0]) usesReal = false;
            path = path.replace(`{${name}}`, value);
          }
          return { path, usesReal };
        };
        const hasBody = operation.requestBody !== undefined;
        const conditional = (operation.parameters ?? []).some(
          (p) => p.in === 'header' && p.name === 'if-match',
        );
        for (let round = 0; round < 3; round++) {
          if (hasBody) {
            for (const bad of badBodies(operation)) {
              const { path } = expand();
              requests.push({
                method,
                path,
                headers: { 'content-type': bad.contentType },
                body: bad.body,
                why: bad.why,
              });
            }
          }
          for (const bad of badQueries(operation)) {
            const { path, usesReal } = expand();
            // A write with a valid body and only a questionable query could be a valid request;
            // writes get their bad query together with a bad body.
            if (!queryIsOnlyRead(method) && hasBody) {
              requests.push({
                method,
                path: `${path}?${bad.query}`,
                headers: { 'content-type': 'application/json' },
                body: '{"__unknown_field__":true}',
                why: `${bad.why} with a bad body`,
              });
            } else if (queryIsOnlyRead(method) || !usesReal || bad.query.includes('zz')) {
              requests.push({ method, path: `${path}?${bad.query}`, headers: {}, why: bad.why });
            }
          }
          if (conditional) {
            for (const tag of ['v1', '"1"', 'W/"x"', '"v0"', `"v${'9'.repeat(20)}"`]) {
              const { path } = expand();
              requests.push({
                method,
                path,
                headers: { 'if-match': tag, 'content-type': 'application/json' },
                body: '{"__unknown_field__":true}',
                why: `If-Match ${tag}`,
              });
            }
          }
        }
        // One huge body per route: over the body limit.
        if (method !== 'GET' && method !== 'DELETE') {
          requests.push({
            method,
            path: expand().path,
            headers: { 'content-type': 'application/json' },
            body: `{"values":{"a":"${'x'.repeat(3 * 1024 * 1024)}"}}`,
            why: 'huge body',
          });
        }
      }
    }
    // Unknown routes and methods.
    for (const tail of [
      '/nope',
      '/secrets/a/b/c/d',
      '/SECRETS',
      '/secrets/%2e%2e/values',
      `/${'a/'.repeat(200)}`,
      '/openapi.yaml',
    ]) {
      const path = `/api/v1${tail}`;
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        requests.push({
          method,
          path,
          headers: { 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
          why: 'unknown route',
        } as BadRequest);
      }
    }
    // Some with wrong credentials.
    for (let i = 0; i < 200; i++) {
      const r = pick(requests);
      const authorization = pick([
        'Bearer',
        'Bearer ',
        `Bearer ${'x'.repeat(600)}`,
        'Basic YTpi',
        'cfr_abc',
        'Bearer cfr_\u0000',
      ]);
      requests.push({ ...r, headers: { ...r.headers, authorization }, why: `${r.why}, bad credentials` });
    }
    expect(requests.length).toBeGreaterThan(2000);

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let index = 0;
    const worker = async () => {
      while (index < requests.length) {
        const r = requests[index++]!;
        let status: number;
        let text: string;
        let contentType: string;
        try {
          const response = await fetch(`${server.url}${r.path}`, {
            method: r.method,
            headers: { authorization: `Bearer ${admin.token}`, ...r.headers },
            ...(r.body === undefined ? {} : { body: r.body }),
          });
          status = response.status;
          contentType = response.headers.get('content-type') ?? '';
          text = await response.text();
        } catch (err) {
          // The client refused to send it (e.g. a header with a NUL byte): nothing reached the server.
          if (r.why.includes('bad credentials')) continue;
          // The server answers 413 before reading a huge body and may close the connection while
          // the client is still sending it; the client then sees a reset instead of the answer.
          if (r.why === 'huge body') {
            statuses.set(0, (statuses.get(0) ?? 0) + 1);
            continue;
          }
          failures.push(`${r.method} ${r.path.slice(0, 80)} (${r.why}): ${(err as Error).message}`);
          continue;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500)
          failures.push(`${r.method} ${r.path.slice(0, 80)} (${r.why}): ${status} ${text.slice(0, 200)}`);
        if (status >= 400 && !contentType.startsWith('application/problem+json')) {
          failures.push(
            `${r.method} ${r.path.slice(0, 80)} (${r.why}): ${status} answered as ${contentType}`,
          );
        }
        if (status >= 200 && status < 300 && r.method !== 'GET') {
          failures.push(
            `${r.method} ${r.path.slice(0, 80)} (${r.why}): a bad write was accepted (${status})`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    expect(failures.slice(0, 20)).toEqual([]);
    expect(server.process.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await snapshot()).toBe(before);
    expect(server.stderr()).toBe('');
    expect(server.stdout()).not.toContain('"level":50');
    console.log(
      `${dialect}: ${requests.length} bad requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
