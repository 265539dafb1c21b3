import type { Coffer } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import type { KeyVaultKeysDoubleHandle } from '@coffer/keysource-azure-key-vault/double';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cofferOnVault,
  everythingIn,
  keySourceDefinitions,
  rejectionOf,
  sdkClients,
  vaultDouble,
  vaultKeyring,
} from './support.js';

// A whole Coffer on SQLite whose keyring is an Azure Key Vault RSA key in the double: values
// sealed and opened through Key Vault, the context binding, the cache of unwrapped data keys,
// outages, rotation and re-wrap.
const planted = `PLANTED-azure-kv-${Math.random().toString(36).slice(2)}`;

async function create(coffer: Coffer, fx: CofferFixture, name: string, password = planted) {
  return coffer.secrets.create(fx.admin.actor, { name, kind: 'generic', values: { password } });
}

async function reveal(coffer: Coffer, fx: CofferFixture, id: string) {
  return (await coffer.secrets.readValues(fx.admin.actor, id, { reveal: true })).values;
}

async function kekIds(coffer: Coffer): Promise<string[]> {
  const rows = await coffer.database.db.selectFrom('secret_values').select('kek_id').distinct().execute();
  return rows.map((r) => r.kek_id).sort();
}

async function blobOf(coffer: Coffer, secretId: string): Promise<Buffer> {
  const row = await coffer.database.db
    .selectFrom('secret_values')
    .select('blob')
    .where('secret_id', '=', secretId)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.blob);
}

async function setBlob(coffer: Coffer, secretId: string, blob: Buffer): Promise<void> {
  await coffer.database.db
    .updateTable('secret_values')
    .set({ blob })
    .where('secret_id', '=', secretId)
    .execute();
}

type Vault = KeyVaultKeysDoubleHandle & { restoreEnv(): void };

describe('a Coffer whose keyring is an Azure Key Vault key', () => {
  let vault: Vault;
  let fx: CofferFixture;

  beforeAll(async () => {
    vault = await vaultDouble();
    fx = await cofferOnVault(vault, { cache: { maxEntries: 100, ttlSeconds: 60 } });
  });
  afterAll(async () => {
    await fx?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('seals through Key Vault, reveals from the cache without a Key Vault call, and rotates with a re-wrap', async () => {
    const { coffer } = fx;
    const [first] = vault.faults.store.versionsOf('coffer');
    const status = await coffer.keyring.status(fx.admin.actor);
    expect(status.source).toEqual({ type: 'kms', provider: 'azure-key-vault', key: vault.keyId });
    expect(status.keys[0]?.external).toEqual({ keyId: vault.keyId, keyVersion: first });
    expect(status.currentKeyId).toMatch(/^azure-key-vault\.[0-9a-f]{12}\.[0-9a-f]{16}$/);

    vault.faults.resetCounts();
    const secret = await create(coffer, fx, 'kv-one');
    expect(vault.faults.requestCount('WrapKey')).toBe(1);
    for (let i = 0; i < 3; i++) expect((await reveal(coffer, fx, secret.id)).password).toBe(planted);
    expect(vault.faults.requestCount('UnwrapKey')).toBe(0);

    // A restarted engine has a cold cache: one unwrap, then none.
    const again = await fx.reopen({ keySourceDefinitions });
    vault.faults.resetCounts();
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(vault.faults.requestCount('UnwrapKey')).toBe(1);

    const before = status.currentKeyId;
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    expect(rotated.id).not.toBe(before);
    const versions = vault.faults.store.versionsOf('coffer');
    expect(versions).toHaveLength(2);
    expect(rotated.external).toEqual({ keyId: vault.keyId, keyVersion: versions[1] });
    await coffer.keyring.settled();
    const after = await coffer.keyring.status(fx.admin.actor);
    expect(after.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(after.keys.map((k) => [k.id, k.current]).sort()).toEqual(
      [
        [before, false],
        [rotated.id, true],
      ].sort(),
    );
    expect(await kekIds(coffer)).toEqual([rotated.id]);
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(fx.logText()).not.toContain(planted);
  });

  it('fails reveals closed while Key Vault is down, keeps listing, serves cached keys within their TTL, and recovers', async () => {
    const { coffer } = fx;
    const cached = await create(coffer, fx, 'kv-cached');
    const cold = await create(coffer, fx, 'kv-cold');
    const reader = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);

    await vault.stop();
    try {
      const err = await rejectionOf(reveal(reader, fx, cold.id));
      expect(err.code).toBe('key_unavailable');
      expect(err.details).toMatchObject({ reason: 'unreachable', secretId: cold.id, keyId: vault.keyId });
      expect(err.message).toContain(vault.keyId);
      expect(everythingIn(err)).not.toContain(planted);

      const listed = await reader.secrets.list(fx.admin.actor);
      expect(listed.items.map((s) => s.name)).toEqual(expect.arrayContaining(['kv-cached', 'kv-cold']));
      expect((await reader.secrets.get(fx.admin.actor, 'kv-cold')).name).toBe('kv-cold');

      // Within its TTL the cached data key still opens; past it, nothing does.
      expect((await reveal(reader, fx, cached.id)).password).toBe(planted);
      fx.time.advance(61);
      expect((await rejectionOf(reveal(reader, fx, cached.id))).code).toBe('key_unavailable');

      const write = await rejectionOf(create(reader, fx, 'kv-during-outage'));
      expect(write.code).toBe('key_unavailable');
    } finally {
      await vault.start();
    }
    expect((await reveal(reader, fx, cold.id)).password).toBe(planted);
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);
    expect((await create(reader, fx, 'kv-during-outage')).name).toBe('kv-during-outage');
  });

  it('refuses a tampered wrap or tag, and a wrapped key moved onto another secret, with integrity', async () => {
    const { coffer } = fx;
    const victim = await create(coffer, fx, 'kv-victim');
    const other = await create(coffer, fx, 'kv-other', `${planted}-other`);
    const bystander = await create(coffer, fx, 'kv-bystander');
    const original = await blobOf(coffer, victim.id);
    const otherBlob = await blobOf(coffer, other.id);
    // the wrapped data key ends with the 32-byte context tag, before the value's IV, tag and data
    const wrapEnd = original.length - (12 + 16 + JSON.stringify({ password: planted }).length);

    const cases: [string, number, string][] = [
      ['a byte of the context tag', wrapEnd - 5, 'ContextMismatch'],
      ["a byte of Key Vault's RSA wrap", wrapEnd - 32 - 40, 'BadParameter'],
    ];
    for (const [what, at, vendorCode] of cases) {
      const tampered = Buffer.from(original);
      tampered[at]! ^= 0x40;
      await setBlob(coffer, victim.id, tampered);
      const cold = await fx.reopen({ keySourceDefinitions });
      vault.faults.resetCounts();
      const err = await rejectionOf(reveal(cold, fx, victim.id));
      expect(err.code, what).toBe('integrity');
      expect(err.details, what).toMatchObject({ vendorCode, keyId: vault.keyId });
      expect(vault.faults.requestCount('UnwrapKey'), what).toBe(1);
      expect(everythingIn(err)).not.toContain(planted);
    }

    // The other secret's whole blob on the victim: Key Vault unwraps it (it has no idea of
    // contexts), and the context tag refuses it.
    await setBlob(coffer, victim.id, otherBlob);
    const moved = await rejectionOf(reveal(await fx.reopen({ keySourceDefinitions }), fx, victim.id));
    expect(moved.code).toBe('integrity');
    expect(moved.details).toMatchObject({ vendorCode: 'ContextMismatch', secretId: victim.id });
    expect(everythingIn(moved)).not.toContain(`${planted}-other`);

    const fresh = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(fresh, fx, bystander.id)).password).toBe(planted);
    // (put back, so the re-wraps of later tests do not count it as failed)
    await setBlob(coffer, victim.id, original);
    expect((await reveal(await fx.reopen({ keySourceDefinitions }), fx, victim.id)).password).toBe(planted);
  });

  it('names a missing or disabled key at start, and moves to a newly configured key without losing the old one', async () => {
    const missing = await rejectionOf(
      fx.reopen({ keySourceDefinitions }, { keyring: vaultKeyring(vault, { keyName: 'not-there' }) }),
    );
    expect(missing.code).toBe('key_unavailable');
    expect(missing.message).toContain(`${vault.url}/keys/not-there`);
    expect(missing.details).toMatchObject({ reason: 'key_not_found', vendorCode: 'KeyNotFound' });

    const { keys } = sdkClients(vault);
    const next = await keys.createRsaKey('coffer-next', { keySize: 2048 });
    const secret = await create(fx.coffer, fx, 'kv-before-switch');

    const onNext = vaultKeyring(vault, { keyName: 'coffer-next' });
    const switched = await fx.reopen({ keySourceDefinitions }, { keyring: onNext });
    expect((await reveal(switched, fx, secret.id)).password).toBe(planted);
    await switched.keyring.rewrapPending();
    const status = await switched.keyring.status(fx.admin.actor);
    expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(await kekIds(switched)).toEqual([status.currentKeyId]);
    expect(status.keys.find((k) => k.current)?.external).toEqual({
      keyId: `${vault.url}/keys/coffer-next`,
      keyVersion: next.properties.version,
    });
    expect((await reveal(switched, fx, secret.id)).password).toBe(planted);

    await keys.updateKeyProperties('coffer-next', next.properties.version!, { enabled: false });
    const disabled = await rejectionOf(fx.reopen({ keySourceDefinitions }, { keyring: onNext }));
    expect(disabled.details).toMatchObject({
      reason: 'key_disabled',
      keyId: `${vault.url}/keys/coffer-next`,
      vendorCode: 'KeyDisabled',
    });
  });
});

describe('a Key Vault double killed in the middle of a re-wrap', () => {
  let vault: Vault;
  let fx: CofferFixture;

  beforeAll(async () => {
    vault = await vaultDouble();
    fx = await cofferOnVault(vault, { cache: { maxEntries: 0, ttlSeconds: 0 } });
  });
  afterAll(async () => {
    await fx?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('loses nothing: every secret still opens and a resumed re-wrap finishes', async () => {
    const { coffer } = fx;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await create(coffer, fx, `bulk-${i}`, `${planted}-${i}`)).id);
    const first = (await coffer.keyring.status(fx.admin.actor)).currentKeyId;

    // Slow every unwrap down so the outage surely lands mid-run.
    vault.faults.inject({ kind: 'delay', ms: 25 }, { count: 10_000, operation: 'UnwrapKey' });
    vault.faults.resetCounts();
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    await vi.waitFor(() => expect(vault.faults.requestCount('UnwrapKey')).toBeGreaterThanOrEqual(5), {
      timeout: 10_000,
    });
    await vault.stop();
    await coffer.keyring.settled();
    const stopped = await coffer.keyring.status(fx.admin.actor);
    expect(stopped.rewrap.state).toBe('failed');
    expect(stopped.rewrap.failed).toBe(0);
    expect(stopped.rewrap.error).toContain('could not re-wrap a data key');
    expect(await kekIds(coffer)).toEqual([first, rotated.id].sort());

    await vault.start();
    vault.faults.clear();
    for (const [i, id] of ids.entries())
      expect((await reveal(coffer, fx, id)).password).toBe(`${planted}-${i}`);
    await coffer.keyring.rewrapPending();
    const done = await coffer.keyring.status(fx.admin.actor);
    expect(done.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(await kekIds(coffer)).toEqual([rotated.id]);
    for (const [i, id] of ids.entries())
      expect((await reveal(coffer, fx, id)).password).toBe(`${planted}-${i}`);
    expect(fx.logText()).not.toContain(planted);
  });
});

describe('moving a Coffer from its key file to Azure Key Vault', () => {
  let vault: Vault;
  let fx: CofferFixture;

  beforeAll(async () => {
    vault = await vaultDouble();
    fx = await createCofferFixture('sqlite');
  });
  afterAll(async () => {
    await fx?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('opens the old values through keyring.previous and re-wraps them into Key Vault', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await create(fx.coffer, fx, `from-file-${i}`, `${planted}-${i}`)).id);

    const onVault = await fx.reopen(
      { keySourceDefinitions },
      { keyring: vaultKeyring(vault, { previous: { source: 'file' } }) },
    );
    for (const [i, id] of ids.entries())
      expect((await reveal(onVault, fx, id)).password).toBe(`${planted}-${i}`);
    await onVault.keyring.rewrapPending();
    const status = await onVault.keyring.status(fx.admin.actor);
    expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(await kekIds(onVault)).toEqual([status.currentKeyId]);

    const vaultOnly = await fx.reopen({ keySourceDefinitions }, { keyring: vaultKeyring(vault) });
    for (const [i, id] of ids.entries())
      expect((await reveal(vaultOnly, fx, id)).password).toBe(`${planted}-${i}`);
  });
});
