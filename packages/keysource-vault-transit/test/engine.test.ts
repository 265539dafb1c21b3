import { runKeySourceContract } from '@coffer/backend-contract';
import type { Coffer } from '@coffer/core';
import type { CofferFixture } from '@coffer/core/test-support';
import { doubleKeyName, type TransitDoubleHandle } from '@coffer/keysource-vault-transit/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cofferOnTransit,
  everythingIn,
  keySourceDefinitions,
  rejectionOf,
  transitDouble,
  transitKeyring,
} from './support.js';

// A whole Coffer on SQLite whose keyring is a Transit key in the Vault double, through the key
// source contract every KMS key source passes (sealing and revealing, the cache of unwrapped
// data keys, rotation and Transit's rewrap, outages, a missing key, tampering, the move from the
// key file); then what only Vault does: min_decryption_version retiring old versions, and a
// sealed Vault.

/** How many versions the Transit key has, and the latest (the one that encrypts). */
function keyVersions(vault: TransitDoubleHandle): { count: number; current: string } {
  const answer = vault.faults.transit().readKey(doubleKeyName);
  const latest = Number((answer.data as { latest_version: number }).latest_version);
  return { count: latest, current: String(latest) };
}

runKeySourceContract({
  name: 'vault-transit on the Vault double',
  definition: keySourceDefinitions[0]!,
  rotates: true,
  tamper: [
    {
      // Transit's ciphertext is text (`vault:v1:<base64>`): change one base64 letter for another
      what: "a character of Transit's ciphertext",
      change(blob, wrappedEnd) {
        blob[wrappedEnd - 5] = blob[wrappedEnd - 5] === 0x41 ? 0x42 : 0x41;
      },
    },
  ],
  skip: [
    {
      reason:
        'Vault Transit has no disabled state for a key (a policy or min_encryption_version restricts it)',
      tests: ['names a disabled key at start'],
    },
  ],
  async start() {
    const vault = await transitDouble();
    return {
      keyring: (extra) => transitKeyring(vault, extra),
      configuredKey: vault.keyId,
      keyId: vault.keyId,
      operations: { wrap: 'transit.encrypt', unwrap: 'transit.decrypt', rewrap: 'transit.rewrap' },
      requestCount: (operation) => vault.faults.requestCount(operation),
      resetCounts: () => vault.faults.resetCounts(),
      keyVersions: () => keyVersions(vault),
      slowDown: (operation, ms) => vault.faults.inject({ kind: 'delay', ms }, { count: 10_000, operation }),
      // Every connection to Vault is cut until cleared (the double keeps running).
      stop() {
        vault.faults.clear();
        vault.faults.inject({ kind: 'drop' }, { count: 1_000_000 });
      },
      restart: () => vault.faults.clear(),
      missingKey: () => ({ settings: { keyName: 'not-there' }, keyId: 'transit/keys/not-there' }),
      async addKey(name) {
        vault.faults.transit().createKey(name, {});
        return { settings: { keyName: name }, external: { keyId: `transit/keys/${name}`, keyVersion: '1' } };
      },
      async close() {
        await vault.close();
        vault.restoreEnv();
      },
    };
  },
});

const planted = `PLANTED-transit-${Math.random().toString(36).slice(2)}`;

async function create(coffer: Coffer, fx: CofferFixture, name: string) {
  return coffer.secrets.create(fx.admin.actor, { name, kind: 'generic', values: { password: planted } });
}

async function reveal(coffer: Coffer, fx: CofferFixture, id: string) {
  return (await coffer.secrets.readValues(fx.admin.actor, id, { reveal: true })).values;
}

describe('what only Vault Transit does, under a whole Coffer', () => {
  let vault: TransitDoubleHandle & { restoreEnv(): void };
  let fx: CofferFixture;

  beforeAll(async () => {
    vault = await transitDouble();
    fx = await cofferOnTransit(vault, { cache: { maxEntries: 100, ttlSeconds: 60 } });
  });
  afterAll(async () => {
    await fx?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('lets Vault retire the old version with min_decryption_version once the re-wrap is done', async () => {
    const secret = await create(fx.coffer, fx, 'transit-retired');
    const rotated = await fx.coffer.keyring.rotate(fx.admin.actor);
    expect(rotated.external).toEqual({ keyId: 'transit/keys/coffer', keyVersion: '2' });
    await fx.coffer.keyring.settled();
    expect((await fx.coffer.keyring.status(fx.admin.actor)).rewrap).toMatchObject({
      state: 'idle',
      failed: 0,
    });

    // Every blob is on version 2 now, so version 1 can be retired in Vault.
    vault.faults.transit().configure('coffer', { min_decryption_version: 2 });
    const cold = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(cold, fx, secret.id)).password).toBe(planted);
    expect(fx.logText()).not.toContain(planted);
  });

  it('fails reveals and a starting engine while Vault is sealed, naming the key, and recovers on unseal', async () => {
    const secret = await create(fx.coffer, fx, 'transit-sealed');
    const reader = await fx.reopen({ keySourceDefinitions });
    vault.faults.seal();
    try {
      const sealed = await rejectionOf(reveal(reader, fx, secret.id));
      expect(sealed.code).toBe('key_unavailable');
      expect(sealed.details).toMatchObject({ reason: 'server_error', vendorCode: 'sealed' });
      expect(everythingIn(sealed)).not.toContain(planted);
      const start = await rejectionOf(fx.reopen({ keySourceDefinitions }));
      expect(start.code).toBe('key_unavailable');
      expect(start.details).toMatchObject({ reason: 'server_error', keyId: 'transit/keys/coffer' });
    } finally {
      vault.faults.unseal();
    }
    expect((await reveal(reader, fx, secret.id)).password).toBe(planted);
    expect((await create(reader, fx, 'transit-after-unseal')).name).toBe('transit-after-unseal');
  });
});
