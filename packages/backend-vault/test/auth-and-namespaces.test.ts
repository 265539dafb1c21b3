import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-vault/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble, rejection } from './support.js';

// Logging in and staying logged in: AppRole login, renewal of tokens before they expire, a new
// login once renewal stops extending the token, a token revoked behind the backend's back, a token
// file that changes, and namespaces. The tokens here live one or two seconds, so the tests wait.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Waits until `done` holds (checked every 100 ms), at most `ms`; no timing is asserted. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(100);
}

describe('vault-kv authentication', () => {
  let double: StoreDoubleHandle;
  let dir: string;
  beforeAll(async () => {
    double = await startStoreDouble({ throttle: false });
    dir = mkdtempSync(join(tmpdir(), 'coffer-vault-auth-'));
  });
  afterAll(async () => {
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with AppRole, renews the token, and logs in again once its max TTL is near', async () => {
    const { roleId, secretId } = double.faults.createAppRole('coffer', {
      policies: ['coffer-rw'],
      tokenTtl: 2,
      tokenMaxTtl: 4,
    });
    const secretIdFile = join(dir, 'secret-id');
    writeFileSync(secretIdFile, `${secretId}\n`, { mode: 0o600 });
    const made = await backendOnDouble(
      { writesPerSecond: 0, auth: { method: 'approle', roleId, secretIdFile } },
      { double, clusterPrefix: 'approle' },
    );
    try {
      double.faults.resetCounts();
      await made.backend.put({ secretId: id(1), version: 1 }, { a: 'one' });
      expect(double.faults.requestCount('auth.approle.login')).toBe(1);
      await until(() => double.faults.requestCount('auth.approle.login') >= 2, 15_000);
      expect(double.faults.requestCount('auth.token.renew-self')).toBeGreaterThanOrEqual(1);
      expect(double.faults.requestCount('auth.approle.login')).toBeGreaterThanOrEqual(2);
      await made.backend.put({ secretId: id(1), version: 2 }, { a: 'two' });
      expect(await made.backend.get({ secretId: id(1), version: 1 })).toEqual({ a: 'one' });
      expect(await made.backend.get({ secretId: id(1), version: 2 })).toEqual({ a: 'two' });
    } finally {
      await made.close();
    }
  }, 30_000);

  it('logs in again when Vault forgets the token (revoked behind its back) and goes on', async () => {
    const { roleId, secretId } = double.faults.createAppRole('revoked', {
      policies: ['coffer-rw'],
      tokenTtl: 3600,
      tokenMaxTtl: 7200,
    });
    const made = await backendOnDouble(
      { writesPerSecond: 0, auth: { method: 'approle', roleId } },
      { double, clusterPrefix: 'revoked' },
    );
    process.env.VAULT_SECRET_ID = secretId;
    try {
      await made.backend.put({ secretId: id(2), version: 1 }, { a: 'one' });
      for (const t of double.faults.issuedTokens()) double.faults.revokeToken(t);
      double.faults.resetCounts();
      expect(await made.backend.get({ secretId: id(2), version: 1 })).toEqual({ a: 'one' });
      expect(double.faults.requestCount('auth.approle.login')).toBe(1);
    } finally {
      await made.close();
    }
  });

  it('refuses a wrong secret id as unauthenticated (login_refused)', async () => {
    const { roleId } = double.faults.createAppRole('wrong', {
      policies: ['coffer-rw'],
      tokenTtl: 60,
      tokenMaxTtl: 60,
    });
    const made = await backendOnDouble(
      { writesPerSecond: 0, auth: { method: 'approle', roleId } },
      { double, clusterPrefix: 'wrong' },
    );
    process.env.VAULT_SECRET_ID = 'not-the-secret-id';
    try {
      const err = await rejection(made.backend.put({ secretId: id(3), version: 1 }, { a: 'x' }));
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'login_refused' });
    } finally {
      await made.close();
    }
  });

  it('renews a renewable token from VAULT_TOKEN before it expires', async () => {
    const token = double.faults.createToken({ policies: ['coffer-rw'], ttl: 3, renewable: true });
    const expires = Date.now() + 3_000;
    const made = await backendOnDouble({ writesPerSecond: 0 }, { double, clusterPrefix: 'renew' });
    process.env.VAULT_TOKEN = token;
    try {
      double.faults.resetCounts();
      await made.backend.put({ secretId: id(4), version: 1 }, { a: 'one' });
      await until(() => double.faults.requestCount('auth.token.renew-self') >= 1, 15_000);
      expect(double.faults.requestCount('auth.token.renew-self')).toBeGreaterThanOrEqual(1);
      // past the token's first expiry: only the renewal keeps it alive
      await sleep(Math.max(0, expires - Date.now() + 300));
      expect(await made.backend.get({ secretId: id(4), version: 1 })).toEqual({ a: 'one' });
    } finally {
      await made.close();
    }
  }, 30_000);

  it('reads a token file again when Vault refuses the token it held', async () => {
    const tokenFile = join(dir, 'token');
    const first = double.faults.createToken({ policies: ['coffer-rw'], ttl: 3600 });
    writeFileSync(tokenFile, first);
    const made = await backendOnDouble(
      { writesPerSecond: 0, auth: { method: 'token', tokenFile } },
      { double, clusterPrefix: 'token-file' },
    );
    try {
      await made.backend.put({ secretId: id(5), version: 1 }, { a: 'one' });
      double.faults.revokeToken(first);
      writeFileSync(tokenFile, double.faults.createToken({ policies: ['coffer-rw'], ttl: 3600 }));
      expect(await made.backend.get({ secretId: id(5), version: 1 })).toEqual({ a: 'one' });
      // a token that stays refused is unauthenticated, not a missing permission
      double.faults.revokeToken((await import('node:fs')).readFileSync(tokenFile, 'utf8'));
      const err = await rejection(made.backend.get({ secretId: id(5), version: 1 }));
      expect(err.details).toMatchObject({ reason: 'unauthenticated' });
    } finally {
      await made.close();
    }
  });
});

describe('vault-kv in a namespace', () => {
  it('writes into its namespace (X-Vault-Namespace) and nothing into the root one', async () => {
    const made = await backendOnDouble(
      { writesPerSecond: 0, namespace: 'team-a' },
      { throttle: false, clusterPrefix: 'ns' },
    );
    try {
      made.double.faults.createNamespace('team-a');
      const ref = { secretId: id(6), version: 1 };
      await made.backend.put(ref, { in: 'team-a' });
      expect(await made.backend.get(ref)).toEqual({ in: 'team-a' });
      expect(made.double.faults.kv('secret', 'team-a').keys()).toEqual([`ns/${ref.secretId}`]);
      expect(made.double.faults.kv().keys()).toEqual([]);
      const rootSide = await made.another({ namespace: undefined }, made.deploymentId);
      expect(await rootSide.list()).toEqual([]);
      expect((await rejection(rootSide.get(ref))).code).toBe('value_not_found');
      // a token made in another namespace does not work here
      const foreign = made.double.faults.createNamespace('team-b');
      process.env.VAULT_TOKEN = made.double.faults.createToken({
        policies: ['coffer-rw'],
        ttl: 0,
        namespace: foreign,
      });
      const other = await made.another({}, made.deploymentId);
      expect((await rejection(other.get(ref))).details).toMatchObject({ reason: 'unauthenticated' });
    } finally {
      await made.close();
    }
  });
});
