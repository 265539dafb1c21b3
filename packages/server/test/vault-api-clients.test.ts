// The Vault door driven by real Vault clients against the real server process: node-vault
// (the repository's dev dependency) and Debian's python3-hvac (/usr/bin/python3, never the
// pyenv python on PATH, which lacks Debian's modules). Without hvac the Python half skips
// with a printed reason, except under CI=true, where it fails. Also: a configured mount name,
// and the door closed by default.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import vaultClient from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type Json } from './support/api-client.js';
import {
  cleanupServers,
  type ServerProcess,
  startFailing,
  startServer,
  tempDir,
} from './support/server-process.js';

const python = '/usr/bin/python3';

/** Whether Debian's hvac can be imported, and if not, why. */
function hvacAvailability(): { available: true } | { available: false; reason: string } {
  const probe = spawnSync(python, ['-c', 'import hvac'], { encoding: 'utf8' });
  if (probe.error !== undefined)
    return { available: false, reason: `${python} cannot run (${probe.error.message})` };
  if (probe.status !== 0)
    return { available: false, reason: `${python} cannot import hvac (apt install python3-hvac)` };
  return { available: true };
}

const hvac = hvacAvailability();
if (!hvac.available) {
  if (process.env.CI === 'true') throw new Error(`CI needs Debian's python3-hvac: ${hvac.reason}`);
  console.log(`skipping the hvac tests: ${hvac.reason}`);
}

/** Runs a Python program with Debian's interpreter; its last stdout line is JSON. */
function runPython(program: string, env: Record<string, string>): Json {
  const file = join(tempDir('coffer-hvac-'), 'program.py');
  writeFileSync(file, program);
  const run = spawnSync(python, [file], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  expect(run.stderr, run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

afterAll(() => cleanupServers());

describe('Vault clients against the Vault door', () => {
  const planted: string[] = [];
  const plant = (label: string) => {
    const value = `planted-${label}-${randomBytes(8).toString('hex')}`;
    planted.push(value);
    return value;
  };
  const adminPassword = plant('admin-password');
  const mailPassword = plant('mail-password');
  let server: ServerProcess;
  /** Coffer API tokens: the owner of `shared/mail`, a reader (user share), a member of a group that may only use it. */
  const tokens = { owner: '', reader: '', member: '' };

  beforeAll(async () => {
    server = await startServer({
      env: { COFFER_ADMIN_PASSWORD: adminPassword, COFFER_VAULT_API: 'true', COFFER_LOG_LEVEL: 'debug' },
    });
    const admin = await ApiClient.login(server.api, 'admin', adminPassword);
    const ops = (await admin.post('/groups', { name: 'ops' })).body.id;
    const ids: Record<string, string> = {};
    for (const name of Object.keys(tokens) as (keyof typeof tokens)[]) {
      const kind = name === 'owner' ? {} : { type: 'service_account' };
      ids[name] = (await admin.post('/users', { username: name, ...kind })).body.id;
      const created = await admin.post('/tokens', {
        userId: ids[name],
        name: `${name}-vault`,
        scope: 'read-write',
      });
      expect(created.status, created.text).toBe(201);
      tokens[name] = created.body.token;
      planted.push(created.body.token);
    }
    expect((await admin.put(`/groups/${ops}/members/${ids.member}`)).status).toBe(204);
    const owner = new ApiClient(server.api, tokens.owner);
    const mail = await owner.post('/secrets', {
      name: 'shared__mail',
      kind: 'smtp',
      values: { host: 'smtp.example.com', password: mailPassword },
    });
    expect(mail.status, mail.text).toBe(201);
    await owner.post(`/secrets/${mail.body.id}/shares`, { granteeType: 'user', granteeId: ids.reader });
    const group = await admin.post(`/secrets/${mail.body.id}/shares`, {
      granteeType: 'group',
      granteeId: ops,
    });
    expect(group.body.level).toBe('use');
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe('node-vault', () => {
    const vault = (token: string) => vaultClient({ endpoint: server.url, token });
    const statusOf = async (promise: Promise<unknown>) =>
      promise.then(
        () => 200,
        (err: { response?: { statusCode: number } }) => err.response?.statusCode,
      );

    it('checks health, seal status, the mounts and its token', async () => {
      const client = vault(tokens.owner);
      expect(await client.health()).toMatchObject({ initialized: true, sealed: false });
      expect(await client.status()).toMatchObject({ sealed: false });
      expect((await client.mounts())['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
      expect((await client.tokenLookupSelf()).data).toMatchObject({ display_name: 'token-owner-vault' });
    });

    it('writes, reads versions, patches, lists and deletes', async () => {
      const client = vault(tokens.owner);
      const password = plant('node-db-password');
      const first = await client.write('secret/data/node/app/db', { data: { user: 'app', password } });
      expect(first.data.version).toBe(1);
      expect((await client.read('secret/data/node/app/db')).data.data).toEqual({ user: 'app', password });
      await client.write('secret/data/node/app/db', { options: { cas: 1 }, data: { user: 'app2' } });
      const stale = await client
        .write('secret/data/node/app/db', { options: { cas: 1 }, data: { user: 'lost' } })
        .catch((err: Error & { response: { statusCode: number } }) => err);
      expect(stale).toMatchObject({
        message: 'check-and-set parameter did not match the current version',
        response: { statusCode: 400 },
      });
      expect((await client.read('secret/data/node/app/db?version=1')).data.data.password).toBe(password);
      await client.update('secret/data/node/app/db', { data: { port: 5432 } });
      expect((await client.read('secret/data/node/app/db')).data).toMatchObject({
        data: { user: 'app2', port: 5432 },
        metadata: { version: 3 },
      });
      await client.write('secret/data/node/app/mq', { data: { url: 'amqp://mq' } });
      expect((await client.list('secret/metadata/node/app/')).data.keys).toEqual(['db', 'mq']);
      expect((await client.list('secret/metadata/node')).data.keys).toEqual(['app/']);
      const metadata = (await client.read('secret/metadata/node/app/db')).data;
      expect(metadata).toMatchObject({ current_version: 3, oldest_version: 1 });

      await client.delete('secret/data/node/app/db');
      expect(await statusOf(client.read('secret/data/node/app/db'))).toBe(404);
      await client.write('secret/undelete/node/app/db', { versions: [3] });
      expect((await client.read('secret/data/node/app/db')).data.data.user).toBe('app2');
      await client.write('secret/destroy/node/app/db', { versions: [1, 2, 3] });
      expect(await statusOf(client.read('secret/data/node/app/db'))).toBe(404);
      await client.delete('secret/metadata/node/app/mq');
      expect(await statusOf(client.list('secret/metadata/node/'))).toBe(404);
    });

    it('reads as a reader, never as a use-only member, never without a token', async () => {
      expect((await vault(tokens.reader).read('secret/data/shared/mail')).data.data.password).toBe(
        mailPassword,
      );
      const refused = await vault(tokens.member)
        .read('secret/data/shared/mail')
        .catch((err: Error & { response: { statusCode: number; body: unknown } }) => err);
      expect(refused).toMatchObject({ message: 'permission denied', response: { statusCode: 403 } });
      expect(JSON.stringify((refused as { response: { body: unknown } }).response.body)).not.toContain(
        mailPassword,
      );
      expect(
        await statusOf(vault(tokens.reader).write('secret/data/shared/mail', { data: { host: 'x' } })),
      ).toBe(403);
      expect(await statusOf(vault(`cfr_${'x'.repeat(43)}`).read('secret/data/shared/mail'))).toBe(403);
    });
  });

  describe.runIf(hvac.available)('hvac (Debian python3-hvac)', () => {
    const program = `
import json, os
import hvac
from hvac import exceptions

url, mount = os.environ["VAULT_ADDR"], "secret"
def client(token):
    return hvac.Client(url=url, token=token)
owner = client(os.environ["OWNER_TOKEN"]).secrets.kv.v2
out = {}
out["authenticated"] = client(os.environ["OWNER_TOKEN"]).is_authenticated()
out["bad_token_authenticated"] = client("cfr_" + "x" * 43).is_authenticated()

out["v1"] = owner.create_or_update_secret("py/app/db", {"user": "u", "password": os.environ["PLANTED"]}, cas=0, mount_point=mount)["data"]["version"]
try:
    owner.create_or_update_secret("py/app/db", {"user": "lost"}, cas=0, mount_point=mount)
except exceptions.InvalidRequest as err:
    out["cas0"] = err.errors
out["v2"] = owner.create_or_update_secret("py/app/db", {"user": "u2"}, cas=1, mount_point=mount)["data"]["version"]
out["read"] = owner.read_secret_version("py/app/db", mount_point=mount)["data"]
out["read_v1"] = owner.read_secret_version("py/app/db", version=1, mount_point=mount)["data"]["data"]
out["v3"] = owner.patch("py/app/db", {"port": 5432}, mount_point=mount)["data"]["version"]
owner.create_or_update_secret("py/app/mq", {"url": "amqp://mq"}, mount_point=mount)
out["list_py"] = owner.list_secrets("py", mount_point=mount)["data"]["keys"]
out["list_app"] = owner.list_secrets("py/app/", mount_point=mount)["data"]["keys"]
out["metadata"] = owner.read_secret_metadata("py/app/db", mount_point=mount)["data"]
owner.update_metadata("py/app/db", max_versions=0, mount_point=mount)
try:
    owner.update_metadata("py/app/db", max_versions=50, mount_point=mount)
except exceptions.InvalidRequest as err:
    out["max_versions"] = err.errors

owner.delete_latest_version_of_secret("py/app/db", mount_point=mount)
try:
    owner.read_secret_version("py/app/db", mount_point=mount)
except exceptions.InvalidPath:
    out["after_delete"] = "InvalidPath"
owner.undelete_secret_versions("py/app/db", versions=[3], mount_point=mount)
out["after_undelete"] = owner.read_secret_version("py/app/db", mount_point=mount)["data"]["data"]
try:
    owner.delete_secret_versions("py/app/db", versions=[1], mount_point=mount)
except exceptions.InvalidRequest as err:
    out["delete_older"] = err.errors
owner.destroy_secret_versions("py/app/db", versions=[1], mount_point=mount)
versions = owner.read_secret_metadata("py/app/db", mount_point=mount)["data"]["versions"]
out["destroy_one"] = {k: v["destroyed"] for k, v in versions.items()}
owner.destroy_secret_versions("py/app/db", versions=[2, 3], mount_point=mount)
try:
    owner.read_secret_metadata("py/app/db", mount_point=mount)
except exceptions.InvalidPath:
    out["after_destroy"] = "InvalidPath"
owner.delete_metadata_and_all_versions("py/app/mq", mount_point=mount)
try:
    owner.list_secrets("py", mount_point=mount)
except exceptions.InvalidPath:
    out["list_after"] = "InvalidPath"

out["reader"] = client(os.environ["READER_TOKEN"]).secrets.kv.v2.read_secret_version("shared/mail", mount_point=mount)["data"]["data"]["host"]
try:
    client(os.environ["READER_TOKEN"]).secrets.kv.v2.create_or_update_secret("shared/mail", {"host": "x"}, mount_point=mount)
except exceptions.Forbidden as err:
    out["reader_write"] = err.errors[0]
try:
    client(os.environ["MEMBER_TOKEN"]).secrets.kv.v2.read_secret_version("shared/mail", mount_point=mount)
except exceptions.Forbidden as err:
    out["member_read"] = err.errors
print(json.dumps(out))
`;
    let out: Json;
    const pythonPassword = plant('python-password');

    beforeAll(() => {
      out = runPython(program, {
        VAULT_ADDR: server.url,
        OWNER_TOKEN: tokens.owner,
        READER_TOKEN: tokens.reader,
        MEMBER_TOKEN: tokens.member,
        PLANTED: pythonPassword,
      });
    });

    it('authenticates with a Coffer token, and not with an unknown one', () => {
      expect(out.authenticated).toBe(true);
      expect(out.bad_token_authenticated).toBe(false);
    });

    it('writes with check-and-set and reads versions', () => {
      expect([out.v1, out.v2, out.v3]).toEqual([1, 2, 3]);
      expect(out.cas0).toEqual(['check-and-set parameter did not match the current version']);
      expect(out.read.data).toEqual({ user: 'u2' });
      expect(out.read.metadata).toMatchObject({ version: 2, deletion_time: '', destroyed: false });
      expect(out.read_v1.password).toBe(pythonPassword);
      expect(out.after_undelete).toEqual({ user: 'u2', port: 5432 });
    });

    it('lists and reads metadata', () => {
      expect(out.list_py).toEqual(['app/']);
      expect(out.list_app).toEqual(['db', 'mq']);
      expect(out.metadata).toMatchObject({ current_version: 3, oldest_version: 1, max_versions: 0 });
      expect(Object.keys(out.metadata.versions)).toEqual(['1', '2', '3']);
      expect(out.max_versions[0]).toMatch(/^max_versions: Coffer keeps at most 10 versions/);
    });

    it('deletes to the trash, undeletes, refuses deleting single versions, destroys one and then all', () => {
      expect(out.after_delete).toBe('InvalidPath');
      expect(out.delete_older[0]).toMatch(/Coffer cannot delete single versions/);
      expect(out.destroy_one).toEqual({ 1: true, 2: false, 3: false });
      expect(out.after_destroy).toBe('InvalidPath');
      expect(out.list_after).toBe('InvalidPath');
    });

    it('lets a reader read but not write, and a use-only member neither', () => {
      expect(out.reader).toBe('smtp.example.com');
      expect(out.reader_write).toBe('permission denied');
      expect(out.member_read[0]).toBe('permission denied');
      expect(JSON.stringify(out.member_read)).not.toContain(mailPassword);
    });
  });

  it('never writes a planted value or a token to its logs', () => {
    const output = server.stdout() + server.stderr();
    expect(output).toContain('"level":20');
    for (const value of planted) expect(output).not.toContain(value);
  });
});

describe('the Vault door settings', () => {
  it('serves the configured mount name, and no other', async () => {
    const adminPassword = 'a long admin password for the mount test';
    const server = await startServer({
      env: { COFFER_ADMIN_PASSWORD: adminPassword, COFFER_VAULT_API: 'true', COFFER_VAULT_API_MOUNT: 'kv' },
    });
    const admin = await ApiClient.login(server.api, 'admin', adminPassword);
    const token = (await admin.post('/tokens', { name: 'kv', scope: 'read-write' })).body.token;
    const client = vaultClient({ endpoint: server.url, token });
    await client.write('kv/data/team/key', { data: { a: '1' } });
    expect((await client.read('kv/data/team/key')).data.data).toEqual({ a: '1' });
    expect((await client.read('sys/internal/ui/mounts/kv/team/key')).data).toMatchObject({
      path: 'kv/',
      options: { version: '2' },
    });
    const other = await client
      .read('secret/data/team/key')
      .catch((err: { response: { statusCode: number } }) => err);
    expect(other.response.statusCode).toBe(404);
    // The OpenAPI document describes Coffer's REST API only, door open or not.
    const doc = await (await fetch(`${server.api}/openapi.json`)).json();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/v1/'))).toBe(false);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(30);
    await server.stop();
  });

  it('is closed by default, and the OpenAPI document never lists it', async () => {
    const adminPassword = 'a long admin password for the default test';
    const server = await startServer({ env: { COFFER_ADMIN_PASSWORD: adminPassword } });
    const health = await fetch(`${server.url}/v1/sys/health`);
    expect(health.status).toBe(404);
    expect(health.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const doc = await (await fetch(`${server.api}/openapi.json`)).json();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/v1/'))).toBe(false);
    await server.stop();
  });

  it('refuses a mount name Vault reserves or a URL cannot carry, naming the setting', async () => {
    const failed = await startFailing({
      COFFER_VAULT_API: 'true',
      COFFER_VAULT_API_MOUNT: 'sys',
      COFFER_DATA_DIR: tempDir(),
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/COFFER_VAULT_API_MOUNT: must not be one of Vault's reserved paths/);
  });
});
