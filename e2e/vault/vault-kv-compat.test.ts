// Coffer's Vault KV v2-compatible door against Vault's own behaviour, two ways:
// - The Vault store (`@coffer/backend-vault`, type vault-kv) runs the backend contract against a
//   real Coffer server process with the door open (COFFER_VAULT_API=true), a Coffer API token as
//   its Vault token: every case the store passes on Vault passes on Coffer.
// - One hvac session (Debian's python3-hvac) runs unchanged against the Vault double and against
//   the door, and both must answer the same.
// The same contract runs against a real Vault or OpenBao in
// packages/backend-vault/test/contract-real.test.ts when COFFER_TEST_VAULT_ADDR is set.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import vaultKv from '@coffer/backend-vault';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-vault/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../packages/server/test/support/api-client.js';
import {
  cleanupServers,
  type ServerProcess,
  startServer,
} from '../../packages/server/test/support/server-process.js';

const adminPassword = 'a long admin password for the vault-kv e2e';
const planted = `planted-${randomBytes(8).toString('hex')}`;
/** The variable the store reads its token from: the Coffer API token minted below. */
const tokenEnv = 'COFFER_E2E_VAULT_TOKEN';
let server: ServerProcess;
let token: string;

beforeAll(async () => {
  server = await startServer({
    env: {
      COFFER_ADMIN_PASSWORD: adminPassword,
      COFFER_VAULT_API: 'true',
      COFFER_VAULT_API_MOUNT: 'kv',
      // The store asks for max_versions up to what its live versions span plus 16 (at most 77).
      COFFER_VERSIONS_KEEP: '100',
      COFFER_LOG_LEVEL: 'warn',
    },
  });
  const admin = await ApiClient.login(server.api, 'admin', adminPassword);
  const created = await admin.post('/tokens', { name: 'vault-kv-store', scope: 'read-write' });
  expect(created.status, created.text).toBe(201);
  token = created.body.token;
  process.env[tokenEnv] = token;
});
afterAll(async () => {
  await server?.stop();
  cleanupServers();
  delete process.env[tokenEnv];
});

runBackendContract({
  name: "vault-kv on Coffer's own Vault door",
  listEntries: 1000,
  create: async () => {
    const made = await createContractContext({ name: 'vault', clusterPrefix: 'contract' });
    const config = vaultKv.configSchema.parse({
      address: server.url,
      mount: 'kv',
      auth: { method: 'token', tokenEnv },
      writesPerSecond: 0,
      // One Coffer field holds at most 64 KiB, and the store keeps the values in one field.
      maxValueBytes: 64 * 1024,
    });
    const backend = await vaultKv.create(config, made.context);
    return { backend, cleanup: () => made.close() };
  },
});

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./hvac-kv.py', import.meta.url));

function hvacAvailability(): string | undefined {
  const probe = spawnSync(python, ['-c', 'import hvac'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${python} cannot run (${probe.error.message})`;
  if (probe.status !== 0) return `${python} cannot import hvac (apt install python3-hvac)`;
  return undefined;
}
const noHvac = hvacAvailability();
if (noHvac !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI needs Debian's python3-hvac: ${noHvac}`);
  console.log(`skipping the hvac comparison: ${noHvac}`);
}

describe.skipIf(noHvac !== undefined)('one hvac session against the Vault double and the door', () => {
  let double: StoreDoubleHandle;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
  });
  afterAll(() => double?.close());

  async function session(env: { VAULT_ADDR: string; VAULT_TOKEN: string; MOUNT: string }) {
    try {
      const { stdout } = await promisify(execFile)(python, [script], {
        timeout: 60_000,
        env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', PREFIX: 'hvac', PLANTED: planted, ...env },
      });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`hvac session failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}`);
    }
  }

  it('answers as the double does: check-and-set, JSON values, patches, metadata settings, destroy, max_versions', async () => {
    const onDouble = await session({
      VAULT_ADDR: double.url,
      VAULT_TOKEN: double.faults.tokens.readWrite,
      MOUNT: 'secret',
    });
    const onCoffer = await session({ VAULT_ADDR: server.url, VAULT_TOKEN: token, MOUNT: 'kv' });
    expect(onCoffer).toEqual(onDouble);
    // and what they agree on is Vault's behaviour
    expect(onCoffer).toMatchObject({
      v1: 1,
      v2: 2,
      v3: 3,
      v6: 6,
      cas0: ['check-and-set parameter did not match the current version'],
      cas_required: ['check-and-set parameter required for this call'],
      read: { user: 'u2', nested: { a: [1, 2, { b: null }] }, none: null, text: '{"looks": "like json"}' },
      // hvac 0.11 patches on the client: it reads, updates the top level, and writes with cas
      patched: { user: 'u3', nested: { c: 'd' }, none: null, text: '{"looks": "like json"}' },
      list_prefix: ['app/'],
      list_app: ['db', 'mq'],
      settings: {
        max_versions: 3,
        cas_required: true,
        custom_metadata: { team: 'payments', env: 'prod' },
      },
      after_max_versions: { current: 5, oldest: 3, destroyed: { 3: false, 4: false, 5: false } },
      destroyed_one: { current: 5, oldest: 3, destroyed: { 3: false, 4: true, 5: false } },
      v3_kept: 'u3',
      after_destroyed_latest: { fresh: true },
      destroyed_latest: { current: 6, oldest: 4, destroyed: { 4: true, 5: true, 6: false } },
      gone: true,
      list_gone: true,
    });
  });
});

describe('the server behind the door', () => {
  it('never wrote a planted value or the token to its logs', () => {
    const output = server.stdout() + server.stderr();
    expect(output).not.toContain(planted);
    expect(output).not.toContain(token);
  });
});
