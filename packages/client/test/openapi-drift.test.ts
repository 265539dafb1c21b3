// Keeps the client in step with the server: the committed types must be what the running
// server's OpenAPI document generates, and every operation in that document must be reachable
// through a named method of the client.
import { readFileSync } from 'node:fs';
import { type CofferClient, createClient } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServer } from '../../server/test/support/server-process.js';
import type { OpenApiDocument } from '../scripts/openapi-to-typescript.js';
import { fetchOpenApiTypes, generatedTypesPath } from '../scripts/openapi-types-source.js';
import { cleanupServers } from './support/coffer-server.js';
import { scriptedFetch } from './support/fake-fetch.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({ env: { COFFER_LOG_LEVEL: 'warn' } });
});
afterAll(() => cleanupServers());

/** Where two texts first differ, as a short excerpt of each. */
function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `line ${i + 1}:\n  committed: ${a[i] ?? '(end)'}\n  generated: ${b[i] ?? '(end)'}`;
  }
  return '(none)';
}

describe('the OpenAPI document', () => {
  it('generates exactly the committed src/generated/openapi.ts', async () => {
    const generated = await fetchOpenApiTypes(server.api);
    const committed = readFileSync(generatedTypesPath, 'utf8');
    if (generated !== committed) {
      expect.fail(
        "packages/client/src/generated/openapi.ts is out of step with the server's OpenAPI document.\n" +
          'Run `npx tsc -b && npm run generate -w @coffer/client`, fix what no longer compiles in the client, ' +
          `and commit the result. First difference at ${firstDifference(committed, generated)}`,
      );
    }
  });

  it('has no operation the client lacks a method for, and the client none the server lacks', async () => {
    const document = (await (await fetch(`${server.api}/openapi.json`)).json()) as OpenApiDocument;
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({
        name: `${method.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`,
        pattern: new RegExp(`^${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      })),
    );

    const reached = new Set<string>();
    const answer = {
      items: [],
      nextCursor: null,
      values: { a: 'b' },
      secretId: 's1',
      version: 1,
      csrfToken: 'c',
      results: [],
    };
    const fake = scriptedFetch((request) => {
      const path = new URL(request.url).pathname;
      const operation = operations.find((o) => o.pattern.test(`${request.method} ${path}`));
      reached.add(operation?.name ?? `unknown: ${request.method} ${path}`);
      return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
    });
    const client = createClient({ baseUrl: 'http://coffer.test', fetch: fake });

    const calls: Calls = {
      auth: {
        login: (c) => c.auth.login({ username: 'u', password: 'p' }),
        logout: (c) => c.auth.logout(),
        me: (c) => c.auth.me(),
        sso: (c) => c.auth.sso(),
        ssoToken: (c) => c.auth.ssoToken({ code: 'c', codeVerifier: 'v'.repeat(43) }),
      },
      secrets: {
        list: (c) => c.secrets.list(),
        iterate: (c) => drain(c.secrets.iterate()),
        get: (c) => c.secrets.get('s'),
        create: (c) => c.secrets.create({ name: 's', kind: 'generic', values: {} }),
        createMany: (c) => c.secrets.createMany([{ name: 's', kind: 'generic', values: {} }]),
        values: (c) => c.secrets.values('s'),
        updateValues: (c) => c.secrets.updateValues('s', { values: {} }),
        updateMetadata: (c) => c.secrets.updateMetadata('s', { description: '' }),
        rename: (c) => c.secrets.rename('s', 't'),
        versions: (c) => c.secrets.versions('s'),
        rollback: (c) => c.secrets.rollback('s', 1),
        delete: (c) => c.secrets.delete('s'),
        restore: (c) => c.secrets.restore('s'),
        purge: (c) => c.secrets.purge('s'),
        deleteAll: (c) => c.secrets.deleteAll({ confirm: 'delete-all' }),
        test: (c) => c.secrets.test('s'),
        modify: (c) => c.secrets.modify('s', () => ({ a: 'c' })),
      },
      shares: {
        list: (c) => c.shares.list('s'),
        grant: (c) => c.shares.grant('s', { granteeType: 'user', granteeId: 'u' }),
        revoke: (c) => c.shares.revoke('s', 'user', 'u'),
      },
      shareLinks: {
        create: (c) => c.shareLinks.create('s'),
        list: (c) => c.shareLinks.list('s'),
        revoke: (c) => c.shareLinks.revoke('l'),
        preview: (c) => c.shareLinks.preview('/s/l#k'),
        open: (c) => c.shareLinks.open({ id: 'l', key: 'k' }, { passphrase: 'p' }),
      },
      kinds: {
        list: (c) => c.kinds.list(),
        iterate: (c) => drain(c.kinds.iterate()),
        get: (c) => c.kinds.get('smtp'),
      },
      users: {
        list: (c) => c.users.list(),
        iterate: (c) => drain(c.users.iterate()),
        create: (c) => c.users.create({ username: 'u' }),
        get: (c) => c.users.get('u'),
        update: (c) => c.users.update('u', { displayName: 'U' }),
        setPassword: (c) => c.users.setPassword('u', { newPassword: 'p' }),
        endSessions: (c) => c.users.endSessions('u'),
      },
      groups: {
        list: (c) => c.groups.list(),
        iterate: (c) => drain(c.groups.iterate()),
        create: (c) => c.groups.create({ name: 'g' }),
        get: (c) => c.groups.get('g'),
        update: (c) => c.groups.update('g', { name: 'h' }),
        delete: (c) => c.groups.delete('g'),
        members: (c) => c.groups.members('g'),
        addMember: (c) => c.groups.addMember('g', 'u'),
        removeMember: (c) => c.groups.removeMember('g', 'u'),
      },
      tokens: {
        list: (c) => c.tokens.list(),
        iterate: (c) => drain(c.tokens.iterate()),
        create: (c) => c.tokens.create({ name: 't', scope: 'read-only' }),
        revoke: (c) => c.tokens.revoke('t'),
      },
      audit: {
        query: (c) => c.audit.query(),
        iterate: (c) => drain(c.audit.iterate()),
        verify: (c) => c.audit.verify(),
        export: (c) => drain(c.audit.export()),
        exportLines: (c) => drain(c.audit.exportLines()),
      },
      backends: {
        list: (c) => c.backends.list(),
        definitions: (c) => c.backends.definitions(),
        get: (c) => c.backends.get('sql'),
      },
      migration: {
        status: (c) => c.migration.status(),
        start: (c) => c.migration.start(),
        failures: (c) => c.migration.failures(),
        dropKeptSources: (c) => c.migration.dropKeptSources(),
      },
      keyring: {
        status: (c) => c.keyring.status(),
        rotate: (c) => c.keyring.rotate(),
      },
      reminders: {
        due: (c) => c.reminders.due({ within: '30d' }),
        iterateDue: (c) => drain(c.reminders.iterateDue()),
        run: (c) => c.reminders.run(),
      },
    };

    // Every method of every resource is in the table above (a new method must be added there).
    for (const resource of Object.keys(calls) as ResourceName[]) {
      expect(Object.keys(calls[resource]).sort(), resource).toEqual(Object.keys(client[resource]).sort());
    }
    for (const resource of Object.values(calls)) {
      for (const call of Object.values<(c: CofferClient) => Promise<unknown>>(resource)) await call(client);
    }
    // The event stream: a JSON answer is not one, so the call fails after its one request.
    await expect(drain(client.events())).rejects.toMatchObject({ code: 'unexpected_response' });
    const missing = operations.map((o) => o.name).filter((name) => !reached.has(name));
    expect(missing, 'operations no client method calls').toEqual([]);
    expect(
      [...reached].filter((name) => name.startsWith('unknown')),
      'calls to no operation',
    ).toEqual([]);
  });
});

/** `auth`, `secrets`, ...: the members of the client that are objects of methods. */
type ResourceName = {
  [K in keyof CofferClient]: CofferClient[K] extends (...args: never[]) => unknown
    ? never
    : CofferClient[K] extends object
      ? K
      : never;
}[keyof CofferClient];

/** A call of every method of every resource: a new method without one here does not compile. */
type Calls = { [R in ResourceName]: Record<keyof CofferClient[R], (c: CofferClient) => Promise<unknown>> };

async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iterable);
}
