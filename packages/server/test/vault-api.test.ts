// The Vault KV v2-compatible door (/v1) over real HTTP against the real server process, on
// every SQL dialect: the mapping of paths to secrets, the envelope, check-and-set, versions,
// LIST, delete/undelete/destroy, access for every kind of principal, audit records, masking,
// and planted values that must never come back in an error, a log line or an audit record.
// The tests in one dialect run in order and build on each other.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type Json } from './support/api-client.js';
import { cleanupServers, type ServerProcess, startServer } from './support/server-process.js';

interface VaultResponse {
  status: number;
  contentType: string | null;
  text: string;
  body: Json;
}

/** A bare Vault client: what any Vault SDK sends, with every answer kept for the leak check. */
class VaultHttp {
  readonly answers: string[];
  readonly base: string;
  readonly token: string | undefined;

  constructor(base: string, token: string | undefined, answers: string[]) {
    this.base = base;
    this.token = token;
    this.answers = answers;
  }

  as(token: string | undefined): VaultHttp {
    return new VaultHttp(this.base, token, this.answers);
  }

  async request(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<VaultResponse> {
    const headers: Record<string, string> = {
      'x-vault-request': 'true',
      ...(this.token === undefined ? {} : { 'x-vault-token': this.token }),
      ...options.headers,
    };
    const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    // LIST is no method fetch sends; node:http sends any token.
    const response = await new Promise<{ status: number; contentType: string | null; text: string }>(
      (resolve, reject) => {
        const req = httpRequest(`${this.base}/v1/${path}`, { method, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, text }),
          );
        });
        req.on('error', reject);
        req.end(body);
      },
    );
    this.answers.push(response.text);
    return { ...response, body: response.text === '' ? undefined : JSON.parse(response.text) };
  }

  get = (path: string, headers?: Record<string, string>) =>
    this.request('GET', path, headers === undefined ? {} : { headers });
  post = (path: string, body?: unknown) => this.request('POST', path, body === undefined ? {} : { body });
  list = (path: string) => this.request('LIST', path);
  delete = (path: string) => this.request('DELETE', path);
  patch = (path: string, body: unknown, contentType = 'application/merge-patch+json') =>
    this.request('PATCH', path, { body, headers: { 'content-type': contentType } });
}

function expectVaultError(response: VaultResponse, status: number, first?: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.contentType).toBe('application/json');
  expect(Array.isArray(response.body.errors)).toBe(true);
  if (first !== undefined) expect(response.body.errors[0]).toBe(first);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

afterAll(() => cleanupServers());

await describeEachDialect('Vault KV v2 API', (dialect) => {
  const planted: string[] = [];
  const plant = (label: string) => {
    const value = `planted-${label}-${randomBytes(8).toString('hex')}`;
    planted.push(value);
    return value;
  };
  const answers: string[] = [];
  const adminPassword = plant('admin-password');
  let database: TestDatabase | undefined;
  let server: ServerProcess;
  let admin: ApiClient;
  const ids: Record<'alice' | 'bob' | 'carol' | 'eve', string> = { alice: '', bob: '', carol: '', eve: '' };
  let opsGroupId: string;
  /** One Vault client per principal, each with its own Coffer API token. */
  const v = {} as Record<'admin' | 'alice' | 'aliceReadOnly' | 'bob' | 'carol' | 'eve', VaultHttp>;

  async function tokenFor(userId: string | undefined, scope: 'read-only' | 'read-write'): Promise<string> {
    const created = await admin.post('/tokens', {
      ...(userId === undefined ? {} : { userId }),
      name: `vault-${scope}`,
      scope,
    });
    expect(created.status, created.text).toBe(201);
    planted.push(created.body.token);
    return created.body.token;
  }

  async function audit(query: string): Promise<Json[]> {
    const page = await admin.get(`/audit?limit=200&${query}`);
    expect(page.status, page.text).toBe(200);
    return page.body.items;
  }

  beforeAll(async () => {
    database = dialect === 'sqlite' ? undefined : await createTestDatabase(dialect);
    server = await startServer({
      env: {
        COFFER_ADMIN_PASSWORD: adminPassword,
        COFFER_LOG_LEVEL: 'trace',
        COFFER_VAULT_API: 'true',
        COFFER_VERSIONS_KEEP: '3',
        ...(database === undefined ? {} : { COFFER_DATABASE_URL: database.url }),
      },
    });
    admin = await ApiClient.login(server.api, 'admin', adminPassword);
    const ops = await admin.post('/groups', { name: 'ops' });
    opsGroupId = ops.body.id;
    for (const name of Object.keys(ids) as (keyof typeof ids)[]) {
      const user = await admin.post('/users', { username: name, password: plant(`${name}-password`) });
      expect(user.status, user.text).toBe(201);
      ids[name] = user.body.id;
    }
    expect((await admin.put(`/groups/${opsGroupId}/members/${ids.bob}`)).status).toBe(204);
    const vault = new VaultHttp(server.url, undefined, answers);
    v.admin = vault.as(await tokenFor(undefined, 'read-write'));
    v.alice = vault.as(await tokenFor(ids.alice, 'read-write'));
    v.aliceReadOnly = vault.as(await tokenFor(ids.alice, 'read-only'));
    v.bob = vault.as(await tokenFor(ids.bob, 'read-write'));
    v.carol = vault.as(await tokenFor(ids.carol, 'read-write'));
    v.eve = vault.as(await tokenFor(ids.eve, 'read-write'));
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  describe('the door', () => {
    it('answers health and seal status without a token, and token lookups with one', async () => {
      const anonymous = v.alice.as(undefined);
      const health = await anonymous.get('sys/health');
      expect(health.status).toBe(200);
      expect(health.contentType).toBe('application/json');
      expect(health.body).toMatchObject({ initialized: true, sealed: false, standby: false });
      expect(health.body.version).toMatch(/^1\.\d+\.\d+\+coffer\./);
      expect((await anonymous.get('sys/health?activecode=204')).status).toBe(204);
      expect((await anonymous.get('sys/seal-status')).body).toMatchObject({ sealed: false, t: 1, n: 1 });

      const self = await v.alice.get('auth/token/lookup-self');
      expect(self.status, self.text).toBe(200);
      expect(self.body.data).toMatchObject({
        display_name: 'token-vault-read-write',
        entity_id: ids.alice,
        expire_time: null,
        ttl: 0,
        type: 'service',
        renewable: false,
        policies: ['default'],
        meta: { username: 'alice', scope: 'read-write' },
      });
      expect(self.body.data.id).toBe(v.alice.token);
      // `Authorization: Bearer` works as well as X-Vault-Token.
      const bearer = await anonymous.get('auth/token/lookup-self', {
        authorization: `Bearer ${v.alice.token}`,
      });
      expect(bearer.body.data.entity_id).toBe(ids.alice);
    });

    it('answers a missing, malformed or unknown token with 403 "permission denied"', async () => {
      const anonymous = v.alice.as(undefined);
      expectVaultError(await anonymous.get('secret/data/anything'), 403, 'permission denied');
      expectVaultError(await anonymous.get('auth/token/lookup-self'), 403, 'permission denied');
      expectVaultError(await v.alice.as('not a token').get('secret/data/x'), 403, 'permission denied');
      expectVaultError(
        await v.alice.as(`cfr_${'x'.repeat(43)}`).get('auth/token/lookup-self'),
        403,
        'permission denied',
      );
    });

    it('refuses namespaces and response wrapping, takes X-Vault-Request and the root namespace', async () => {
      const team = await v.alice.request('GET', 'auth/token/lookup-self', {
        headers: { 'x-vault-namespace': 'team-a' },
      });
      expectVaultError(team, 400);
      expect(team.body.errors[0]).toMatch(/namespaces are not supported/);
      const root = await v.alice.request('GET', 'auth/token/lookup-self', {
        headers: { 'x-vault-namespace': 'root' },
      });
      expect(root.status).toBe(200);
      const wrapped = await v.alice.request('GET', 'auth/token/lookup-self', {
        headers: { 'x-vault-wrap-ttl': '60s' },
      });
      expectVaultError(wrapped, 400);
      expect(wrapped.body.errors[0]).toMatch(/response wrapping is not supported/);
    });

    it('describes its one KV version 2 mount to the kv helper and in sys/mounts', async () => {
      const ui = await v.alice.get('sys/internal/ui/mounts/secret/app/db');
      expect(ui.status, ui.text).toBe(200);
      expect(ui.body.data).toMatchObject({ path: 'secret/', type: 'kv', options: { version: '2' } });
      expectVaultError(await v.alice.get('sys/internal/ui/mounts/other/x'), 400);
      const mounts = await v.alice.get('sys/mounts');
      expect(mounts.body.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
      const config = await v.alice.get('secret/config');
      expect(config.body.data).toEqual({ cas_required: false, delete_version_after: '0s', max_versions: 3 });
      expect((await v.alice.post('secret/config', { max_versions: 3, cas_required: false })).status).toBe(
        204,
      );
      expectVaultError(await v.alice.post('secret/config', { max_versions: 20 }), 400);
    });

    it('answers unknown paths with 404 and unsupported methods with 405', async () => {
      expectVaultError(await v.alice.get('secret/nothing-here/x'), 404);
      expectVaultError(await v.alice.get('pki/issue/x'), 404);
      expectVaultError(await v.alice.get('secret/delete/x'), 405, 'unsupported operation');
      expectVaultError(await v.alice.list('secret/data/x'), 405, 'unsupported operation');
      expectVaultError(await v.alice.delete('secret/config'), 405);
    });
  });

  describe('reading and writing', () => {
    const dbPassword = plant('db-password');

    it('maps a nested path to one Coffer secret and reads it back in the Vault envelope', async () => {
      const written = await v.alice.post('secret/data/app/db/creds', {
        data: { user: 'app', password: dbPassword, port: 5432, tls: true },
      });
      expect(written.status, written.text).toBe(200);
      expect(written.body.data).toMatchObject({ version: 1, deletion_time: '', destroyed: false });
      const coffer = await admin.get('/secrets/app__db__creds');
      expect(coffer.body).toMatchObject({ kind: 'generic', ownerId: ids.alice, currentVersion: 1 });

      const read = await v.alice.get('secret/data/app/db/creds');
      expect(read.status).toBe(200);
      expect(read.contentType).toBe('application/json');
      expect(read.body).toMatchObject({
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        wrap_info: null,
        warnings: null,
        auth: null,
      });
      expect(read.body.request_id).toMatch(uuidPattern);
      expect(read.body.data.data).toEqual({ user: 'app', password: dbPassword, port: 5432, tls: true });
      expect(read.body.data.metadata).toEqual({
        created_time: coffer.body.createdAt,
        custom_metadata: null,
        deletion_time: '',
        destroyed: false,
        version: 1,
      });
    });

    it('reveals only as an audited reveal', async () => {
      const secretId = (await admin.get('/secrets/app__db__creds')).body.id;
      const reveals = await audit(`action=secret.reveal&targetId=${secretId}&actorId=${ids.alice}`);
      expect(reveals.length).toBeGreaterThanOrEqual(1);
      expect(reveals[0]).toMatchObject({ outcome: 'success', source: 'api', actor: { name: 'alice' } });
    });

    it('reads a secret created through the REST API, of any kind, revealed', async () => {
      const smtpPassword = plant('smtp-password');
      const created = await new ApiClient(server.api, v.alice.token).post('/secrets', {
        name: 'mail',
        kind: 'smtp',
        labels: { team: 'web' },
        values: { host: 'smtp.example.com', password: smtpPassword },
      });
      expect(created.status, created.text).toBe(201);
      const read = await v.alice.get('secret/data/mail');
      expect(read.body.data.data).toMatchObject({
        host: 'smtp.example.com',
        port: 587,
        password: smtpPassword,
      });
      expect(read.body.data.metadata.custom_metadata).toEqual({ team: 'web' });
    });

    it('replaces the values on write (a new version), keeps older versions readable', async () => {
      const second = await v.alice.post('secret/data/app/db/creds', { data: { user: 'app2' } });
      expect(second.body.data.version).toBe(2);
      expect((await v.alice.get('secret/data/app/db/creds')).body.data.data).toEqual({ user: 'app2' });
      const first = await v.alice.get('secret/data/app/db/creds?version=1');
      expect(first.body.data.data.password).toBe(dbPassword);
      expect(first.body.data.metadata.version).toBe(1);
      expect((await v.alice.get('secret/data/app/db/creds?version=0')).body.data.metadata.version).toBe(2);
      expectVaultError(await v.alice.get('secret/data/app/db/creds?version=9'), 404);
      expectVaultError(await v.alice.get('secret/data/app/db/creds?version=x'), 400);
      // The same values again make no version, and say so.
      const same = await v.alice.post('secret/data/app/db/creds', { data: { user: 'app2' } });
      expect(same.body.data.version).toBe(2);
      expect(same.body.warnings[0]).toMatch(/no new version/);
    });

    it('honours check-and-set with Vault’s message', async () => {
      const cas = 'check-and-set parameter did not match the current version';
      expectVaultError(
        await v.alice.post('secret/data/app/db/creds', { options: { cas: 0 }, data: { a: '1' } }),
        400,
        cas,
      );
      expectVaultError(
        await v.alice.post('secret/data/app/db/creds', { options: { cas: 1 }, data: { a: '1' } }),
        400,
        cas,
      );
      const ok = await v.alice.post('secret/data/app/db/creds', {
        options: { cas: 2 },
        data: { user: 'app3' },
      });
      expect(ok.body.data.version).toBe(3);
      expectVaultError(
        await v.alice.post('secret/data/never-written', { options: { cas: 4 }, data: { a: '1' } }),
        400,
        cas,
      );
      const created = await v.alice.post('secret/data/cas-new', { options: { cas: 0 }, data: { a: '1' } });
      expect(created.body.data.version).toBe(1);
      // Two writers with the same cas: exactly one wins.
      const race = await Promise.all(
        ['x', 'y', 'z'].map((a) => v.alice.post('secret/data/cas-new', { options: { cas: 1 }, data: { a } })),
      );
      expect(race.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    });

    it('creates another kind when the write names it, and validates values by their kind', async () => {
      const smtp = await v.alice.post('secret/data/relay', {
        options: { kind: 'smtp' },
        data: { host: 'relay.example.com' },
      });
      expect(smtp.status, smtp.text).toBe(200);
      expect((await admin.get('/secrets/relay')).body.kind).toBe('smtp');
      const wrongField = await v.alice.post('secret/data/relay', { data: { host: 'h', colour: 'red' } });
      expectVaultError(wrongField, 400);
      expect(wrongField.body.errors[0]).toMatch(/^data\.colour: unknown field/);
      // What Coffer's values have no type for (objects, lists, null) is kept as its JSON text and
      // read back exactly as sent; a string that looks like JSON stays a string.
      const sent = { a: { b: 1 }, list: [1, 'x'], none: null, text: '{"a":1}', n: 2 };
      const nested = await v.alice.post('secret/data/nested', { data: sent });
      expect(nested.status, nested.text).toBe(200);
      expect((await v.alice.get('secret/data/nested')).body.data.data).toEqual(sent);
      expectVaultError(
        await v.alice.post('secret/data/nested', { data: { 'vault.json-fields': '[]' } }),
        400,
        'data.vault.json-fields: the field name is reserved by Coffer (it lists the fields that hold JSON)',
      );
      const deep = await v.alice.patch('secret/data/nested', { data: { a: { c: 2 }, list: null } });
      expect(deep.status, deep.text).toBe(200);
      expect((await v.alice.get('secret/data/nested')).body.data.data).toEqual({
        a: { b: 1, c: 2 },
        none: null,
        text: '{"a":1}',
        n: 2,
      });
      expectVaultError(await v.alice.post('secret/data/nodata', { options: {} }), 400, 'no data provided');
      const kind = await v.alice.post('secret/data/nokind', {
        options: { kind: 'no-such-kind' },
        data: { a: '1' },
      });
      expectVaultError(kind, 400);
    });

    it('refuses paths no Coffer name can hold, with a reason on writes and 404 on reads', async () => {
      for (const path of [
        'a//b',
        'a/',
        'a__b',
        'a_/b',
        '-a',
        'a b',
        '123e4567-e89b-12d3-a456-426614174000',
      ]) {
        const write = await v.alice.post(`secret/data/${encodeURI(path)}`, { data: { a: '1' } });
        expect([path, write.status]).toEqual([path, 400]);
        expect(write.body.errors[0]).toMatch(/Coffer cannot store a secret at this path/);
      }
      expectVaultError(await v.alice.get('secret/data/a__b'), 404);
      // 151 characters as a name: longer than Coffer's 128.
      expect(await v.alice.post(`secret/data/${'a/'.repeat(50)}b`, { data: {} })).toMatchObject({
        status: 400,
      });
    });

    it('answers malformed bodies without echoing them', async () => {
      const secretish = plant('in-a-bad-body');
      const bad = await v.alice.request('POST', 'secret/data/x', {
        rawBody: `{"data": {"a": "${secretish}"`,
      });
      expectVaultError(bad, 400, 'failed to parse JSON input');
      const array = await v.alice.request('POST', 'secret/data/x', { rawBody: `["${secretish}"]` });
      expectVaultError(array, 400);
      // Vault reads JSON whatever the Content-Type (its Go client sends none).
      const typed = await v.alice.request('POST', 'secret/data/plain-typed', {
        rawBody: '{"data":{"a":"1"}}',
        headers: { 'content-type': 'text/plain' },
      });
      expect(typed.status, typed.text).toBe(200);
    });

    it('patches with a JSON merge patch: null removes, the rest is set', async () => {
      await v.alice.post('secret/data/patched', { data: { keep: 'k', drop: 'd', change: 'c1' } });
      const patched = await v.alice.patch('secret/data/patched', {
        data: { drop: null, change: 'c2', add: 3 },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body.data.version).toBe(2);
      expect((await v.alice.get('secret/data/patched')).body.data.data).toEqual({
        keep: 'k',
        change: 'c2',
        add: 3,
      });
      expectVaultError(
        await v.alice.patch('secret/data/patched', { data: { a: '1' } }, 'application/json'),
        415,
      );
      expectVaultError(await v.alice.patch('secret/data/never-written', { data: { a: '1' } }), 404);
      expectVaultError(
        await v.alice.patch('secret/data/patched', { options: { cas: 1 }, data: { a: '1' } }),
        400,
        'check-and-set parameter did not match the current version',
      );
      expect(
        (await v.alice.patch('secret/data/patched', { options: { cas: 2 }, data: { a: '1' } })).status,
      ).toBe(200);
    });
  });

  describe('metadata and LIST', () => {
    it('reports versions, the oldest kept one and labels as custom_metadata', async () => {
      for (let i = 0; i < 4; i++) await v.alice.post('secret/data/many', { data: { n: i } });
      const meta = await v.alice.get('secret/metadata/many');
      expect(meta.status, meta.text).toBe(200);
      expect(meta.body.data).toMatchObject({
        current_version: 4,
        oldest_version: 2, // versions.keep is 3
        max_versions: 0,
        cas_required: false,
        delete_version_after: '0s',
        custom_metadata: null,
      });
      expect(Object.keys(meta.body.data.versions)).toEqual(['2', '3', '4']);
      expect(meta.body.data.versions['4']).toMatchObject({ deletion_time: '', destroyed: false });
      expectVaultError(await v.alice.get('secret/data/many?version=1'), 404);
    });

    it('writes custom_metadata as labels: POST replaces, PATCH merges', async () => {
      expect(
        (await v.alice.post('secret/metadata/many', { custom_metadata: { owner: 'web', env: 'prod' } }))
          .status,
      ).toBe(204);
      expect((await admin.get('/secrets/many')).body.labels).toEqual({ owner: 'web', env: 'prod' });
      const patched = await v.alice.patch('secret/metadata/many', {
        custom_metadata: { env: null, tier: 'a' },
      });
      expect(patched.status, patched.text).toBe(204);
      expect((await v.alice.get('secret/metadata/many')).body.data.custom_metadata).toEqual({
        owner: 'web',
        tier: 'a',
      });
      expect((await v.alice.get('secret/data/many')).body.data.metadata.custom_metadata).toEqual({
        owner: 'web',
        tier: 'a',
      });
      const badKey = await v.alice.post('secret/metadata/many', { custom_metadata: { 'Not A Label': 'x' } });
      expectVaultError(badKey, 400);
      expect(badKey.body.errors[0]).toMatch(/^custom_metadata\.Not A Label: /);
      expectVaultError(
        await v.alice.post('secret/metadata/many', { custom_metadata: { 'vault.kv/x': '1' } }),
        400,
        'custom_metadata.vault.kv/x: keys starting with vault.kv/ are reserved by Coffer',
      );
      // Per-secret settings are Vault's: kept beside the labels, never shown as custom_metadata.
      expectVaultError(await v.alice.post('secret/metadata/many', { max_versions: 4 }), 400);
      expectVaultError(await v.alice.post('secret/metadata/many', { delete_version_after: '1h' }), 400);
      const settings = await v.alice.post('secret/metadata/many', { max_versions: 2, cas_required: true });
      expect(settings.status, settings.text).toBe(204);
      const withSettings = (await v.alice.get('secret/metadata/many')).body.data;
      expect(withSettings).toMatchObject({
        max_versions: 2,
        cas_required: true,
        custom_metadata: { owner: 'web', tier: 'a' },
      });
      expect((await admin.get('/secrets/many')).body.labels).toEqual({
        owner: 'web',
        tier: 'a',
        'vault.kv/max-versions': '2',
        'vault.kv/cas-required': 'true',
      });
      expectVaultError(
        await v.alice.post('secret/data/many', { data: { a: '1' } }),
        400,
        'check-and-set parameter required for this call',
      );
      const withCas = await v.alice.post('secret/data/many', {
        options: { cas: withSettings.current_version },
        data: { a: '1' },
      });
      expect(withCas.status, withCas.text).toBe(200);
      expect(
        (
          await v.alice.post('secret/metadata/many', {
            max_versions: 0,
            cas_required: false,
            delete_version_after: '0s',
          })
        ).status,
      ).toBe(204);
      expect((await admin.get('/secrets/many')).body.labels).toEqual({ owner: 'web', tier: 'a' });
    });

    it('creates a secret with no values when metadata comes first (as External Secrets pushes)', async () => {
      const meta = await v.alice.post('secret/metadata/pushed', {
        custom_metadata: { 'managed-by': 'external-secrets' },
      });
      expect(meta.status, meta.text).toBe(204);
      // As in Vault: metadata and no version yet, so no data to read and check-and-set 0 writes.
      expectVaultError(await v.alice.get('secret/data/pushed'), 404);
      expectVaultError(await v.alice.patch('secret/data/pushed', { data: { a: '0' } }), 404);
      expect((await v.alice.get('secret/metadata/pushed')).body.data).toMatchObject({
        current_version: 0,
        oldest_version: 0,
        versions: {},
        custom_metadata: { 'managed-by': 'external-secrets' },
      });
      expectVaultError(
        await v.alice.post('secret/data/pushed', { options: { cas: 1 }, data: { a: '1' } }),
        400,
        'check-and-set parameter did not match the current version',
      );
      const written = await v.alice.post('secret/data/pushed', { options: { cas: 0 }, data: { a: '1' } });
      expect(written.body.data).toMatchObject({
        version: 2,
        custom_metadata: { 'managed-by': 'external-secrets' },
      });
      const after = (await v.alice.get('secret/metadata/pushed')).body.data;
      expect(after).toMatchObject({ current_version: 2, oldest_version: 1 });
      expect(
        Object.fromEntries(
          Object.entries(after.versions).map(([k, x]) => [k, (x as { destroyed: boolean }).destroyed]),
        ),
      ).toEqual({
        1: true,
        2: false,
      });
      expect((await v.alice.get('secret/data/pushed')).body.data.data).toEqual({ a: '1' });
      expect((await admin.get('/secrets/pushed')).body.labels).toEqual({ 'managed-by': 'external-secrets' });
    });

    it('lists keys and sub-folders, by LIST and by ?list=true', async () => {
      await v.alice.post('secret/data/app/mq', { data: { url: 'amqp://mq' } });
      await v.alice.post('secret/data/app', { data: { name: 'app' } });
      const root = await v.alice.list('secret/metadata/');
      expect(root.status, root.text).toBe(200);
      expect(root.body.data.keys).toEqual(
        expect.arrayContaining(['app', 'app/', 'mail', 'many', 'patched', 'relay']),
      );
      expect(root.body.data.keys).toEqual([...root.body.data.keys].sort());
      expect((await v.alice.list('secret/metadata/app')).body.data.keys).toEqual(['db/', 'mq']);
      expect((await v.alice.get('secret/metadata/app/?list=true')).body.data.keys).toEqual(['db/', 'mq']);
      expect((await v.alice.get('secret/metadata/app/db?list=1')).body.data.keys).toEqual(['creds']);
      expect((await v.alice.get('secret/metadata?list=true')).body.data.keys).toEqual(root.body.data.keys);
      expectVaultError(await v.alice.list('secret/metadata/nothing/'), 404);
      expect((await v.alice.list('secret/metadata/nothing/')).body.errors).toEqual([]);
    });

    it('leaves out names this door cannot show', async () => {
      const rest = new ApiClient(server.api, v.alice.token);
      expect((await rest.post('/secrets', { name: 'odd___name', kind: 'generic', values: {} })).status).toBe(
        201,
      );
      const keys = (await v.alice.list('secret/metadata/')).body.data.keys as string[];
      expect(keys.some((k) => k.startsWith('odd'))).toBe(false);
    });
  });

  describe('delete, undelete, destroy', () => {
    it('moves the secret to the trash for DELETE data/, and undelete brings it back', async () => {
      await v.alice.post('secret/data/tmp/one', { data: { a: '1' } });
      await v.alice.post('secret/data/tmp/one', { data: { a: '2' } });
      expect((await v.alice.delete('secret/data/tmp/one')).status).toBe(204);
      expectVaultError(await v.alice.get('secret/data/tmp/one'), 404);
      expectVaultError(await v.alice.list('secret/metadata/tmp/'), 404);
      const trash = await admin.get('/secrets?state=deleted&namePrefix=tmp__one');
      expect(trash.body.items.map((s: Json) => s.name)).toEqual(['tmp__one']);
      // Undeleting an older version only cannot restore a secret whose latest version is deleted.
      expectVaultError(await v.alice.post('secret/undelete/tmp/one', { versions: [1] }), 400);
      expect((await v.alice.post('secret/undelete/tmp/one', { versions: [2] })).status).toBe(204);
      expect((await v.alice.get('secret/data/tmp/one')).body.data.data).toEqual({ a: '2' });
      // Undeleting versions of a live secret changes nothing.
      expect((await v.alice.post('secret/undelete/tmp/one', { versions: [1, 2] })).status).toBe(204);
    });

    it('deletes the latest version through delete/, and refuses deleting older ones alone', async () => {
      const older = await v.alice.post('secret/delete/tmp/one', { versions: [1] });
      expectVaultError(older, 400);
      expect(older.body.errors[0]).toMatch(/Coffer cannot delete single versions/);
      expect((await v.alice.get('secret/data/tmp/one')).status).toBe(200);
      expect((await v.alice.post('secret/delete/tmp/one', { versions: [7] })).status).toBe(204);
      expect((await v.alice.post('secret/delete/tmp/one', { versions: '1,2' })).status).toBe(204);
      expectVaultError(await v.alice.get('secret/data/tmp/one'), 404);
      expectVaultError(await v.alice.post('secret/delete/tmp/one', {}), 400, 'no version number provided');
    });

    it('destroys single versions, keeps the others, and purges once every kept version is named', async () => {
      for (let i = 0; i < 3; i++) await v.alice.post('secret/data/tmp/two', { data: { n: i } });
      expect((await v.alice.post('secret/destroy/tmp/two', { versions: [2] })).status).toBe(204);
      expectVaultError(await v.alice.get('secret/data/tmp/two?version=2'), 404);
      expect((await v.alice.get('secret/data/tmp/two?version=1')).body.data.data).toEqual({ n: 0 });
      const destroyed = (await v.alice.get('secret/metadata/tmp/two')).body.data.versions as Record<
        string,
        { destroyed: boolean }
      >;
      expect(Object.fromEntries(Object.entries(destroyed).map(([k, x]) => [k, x.destroyed]))).toEqual({
        1: false,
        2: true,
        3: false,
      });
      // The latest version can go too; the next write starts from nothing.
      expect((await v.alice.post('secret/destroy/tmp/two', { versions: [3, 9] })).status).toBe(204);
      expectVaultError(await v.alice.get('secret/data/tmp/two'), 404);
      expect((await v.alice.post('secret/data/tmp/two', { data: { n: 5 } })).body.data.version).toBe(4);
      expect((await v.alice.get('secret/data/tmp/two')).body.data.data).toEqual({ n: 5 });
      expect((await v.alice.post('secret/destroy/tmp/two', { versions: [1, 4] })).status).toBe(204);
      expectVaultError(await v.alice.get('secret/data/tmp/two'), 404);
      const anywhere = await admin.get('/secrets?state=all&namePrefix=tmp__two');
      expect(anywhere.body.items).toEqual([]);
      // A secret in the trash (tmp/one, at version 2) is purged the same way.
      expect((await v.alice.post('secret/destroy/tmp/one', { versions: [1, 2] })).status).toBe(204);
      expect((await admin.get('/secrets?state=all&namePrefix=tmp__one')).body.items).toEqual([]);
    });

    it('moves the secret to the trash for DELETE metadata/, and says 204 when there is nothing', async () => {
      await v.alice.post('secret/data/tmp/three', { data: { a: '1' } });
      expect((await v.alice.delete('secret/metadata/tmp/three')).status).toBe(204);
      expect((await admin.get('/secrets?state=deleted&namePrefix=tmp__three')).body.items).toHaveLength(1);
      expect((await v.alice.delete('secret/metadata/tmp/three')).status).toBe(204);
      expect((await v.alice.delete('secret/metadata/never/was')).status).toBe(204);
      // The name is free at once: writing again starts a new secret at version 1.
      expect((await v.alice.post('secret/data/tmp/three', { data: { a: '2' } })).body.data.version).toBe(1);
    });
  });

  describe('access', () => {
    const teamPassword = plant('team-password');
    let teamId: string;

    it('shares: carol may read, bob’s group may only use, eve has nothing', async () => {
      const written = await v.alice.post('secret/data/team/mail', {
        options: { kind: 'smtp' },
        data: { host: 'smtp.team.example', password: teamPassword },
      });
      expect(written.status, written.text).toBe(200);
      teamId = (await admin.get('/secrets?namePrefix=team__mail')).body.items[0].id;
      const alice = new ApiClient(server.api, v.alice.token);
      const carol = await alice.post(`/secrets/${teamId}/shares`, {
        granteeType: 'user',
        granteeId: ids.carol,
      });
      expect(carol.body.level, carol.text).toBe('read');
      // Sharing with a group needs membership in it (or an admin).
      const group = await admin.post(`/secrets/${teamId}/shares`, {
        granteeType: 'group',
        granteeId: opsGroupId,
      });
      expect(group.body.level).toBe('use');
    });

    it('lets the owner, a read share and an admin read; a read-only token reads too', async () => {
      for (const client of [v.alice, v.carol, v.admin, v.aliceReadOnly]) {
        const read = await client.get('secret/data/team/mail');
        expect(read.status, read.text).toBe(200);
        expect(read.body.data.data.password).toBe(teamPassword);
      }
      expect((await v.carol.get('secret/metadata/team/mail')).status).toBe(200);
      expect((await v.carol.list('secret/metadata/team/')).body.data.keys).toEqual(['mail']);
      const carolReveal = await audit(`action=secret.reveal&targetId=${teamId}&actorId=${ids.carol}`);
      expect(carolReveal[0]).toMatchObject({ outcome: 'success', actor: { name: 'carol' } });
    });

    it('answers a use-only member with 403 and never a value, and audits the refused reveal', async () => {
      const read = await v.bob.get('secret/data/team/mail');
      expectVaultError(read, 403, 'permission denied');
      expect(read.text).not.toContain(teamPassword);
      expect(read.text).not.toContain('••••');
      expectVaultError(await v.bob.get('secret/metadata/team/mail'), 403, 'permission denied');
      expectVaultError(await v.bob.post('secret/data/team/mail', { data: { host: 'x' } }), 403);
      expectVaultError(await v.bob.patch('secret/data/team/mail', { data: { host: 'x' } }), 403);
      expectVaultError(await v.bob.delete('secret/metadata/team/mail'), 403);
      expectVaultError(await v.bob.list('secret/metadata/team/'), 404);
      const denied = await audit(`action=secret.reveal&targetId=${teamId}&actorId=${ids.bob}&outcome=denied`);
      expect(denied.length).toBeGreaterThanOrEqual(1);
    });

    it('answers someone with no share as if the secret did not exist', async () => {
      expectVaultError(await v.eve.get('secret/data/team/mail'), 404);
      expect((await v.eve.get('secret/data/team/mail')).body.errors).toEqual([]);
      expectVaultError(await v.eve.list('secret/metadata/team/'), 404);
      expect((await v.eve.delete('secret/metadata/team/mail')).status).toBe(204);
      expect((await v.alice.get('secret/data/team/mail')).status).toBe(200);
      // A write creates eve's own secret of that name; alice's is untouched.
      expect((await v.eve.post('secret/data/team/mail', { data: { mine: 'yes' } })).body.data.version).toBe(
        1,
      );
      expect((await v.eve.get('secret/data/team/mail')).body.data.data).toEqual({ mine: 'yes' });
      expect((await v.alice.get('secret/data/team/mail')).body.data.data.password).toBe(teamPassword);
    });

    it('refuses writes to a read share and to a read-only token', async () => {
      const carolWrite = await v.carol.post('secret/data/team/mail', { data: { host: 'x' } });
      expectVaultError(carolWrite, 403, 'permission denied');
      expect(carolWrite.body.errors[1]).toMatch(/needs write/);
      expectVaultError(await v.carol.delete('secret/data/team/mail'), 403);
      expectVaultError(await v.aliceReadOnly.post('secret/data/team/mail', { data: { host: 'x' } }), 403);
      expectVaultError(await v.aliceReadOnly.post('secret/data/new-by-readonly', { data: { a: '1' } }), 403);
      expectVaultError(await v.aliceReadOnly.delete('secret/metadata/team/mail'), 403);
      expectVaultError(
        await v.aliceReadOnly.post('secret/metadata/team/mail', { custom_metadata: { a: 'b' } }),
        403,
      );
      expect((await v.alice.get('secret/data/team/mail')).body.data.metadata.version).toBe(1);
    });

    it('lists for an admin every name once, whoever owns it', async () => {
      const keys = (await v.admin.list('secret/metadata/team/')).body.data.keys;
      expect(keys).toEqual(['mail']);
    });
  });

  it('never lets a planted value into an error, a log line or an audit record', async () => {
    const errors = answers.filter((a) => a.startsWith('{"errors"'));
    expect(errors.length).toBeGreaterThan(20);
    for (const value of planted) {
      for (const error of errors) expect(error, 'planted value in an error').not.toContain(value);
    }
    const exported = await admin.get('/audit/export');
    expect(exported.status).toBe(200);
    expect(exported.text).toContain('secret.reveal');
    const output = server.stdout() + server.stderr();
    expect(output).toContain('"level":20'); // debug lines (every request) were written
    for (const value of planted) {
      expect(exported.text, 'planted value in the audit log').not.toContain(value);
      expect(output, 'planted value in the logs').not.toContain(value);
    }
  });
});
