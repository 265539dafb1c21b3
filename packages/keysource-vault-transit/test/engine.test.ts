import type { Coffer } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import type { TransitDoubleHandle } from '@coffer/keysource-vault-transit/double';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cofferOnTransit,
  everythingIn,
  keySourceDefinitions,
  rejectionOf,
  transitDouble,
  transitKeyring,
} from './support.js';

// A whole Coffer on SQLite whose keyring is a Transit key in the Vault double: values sealed and
// opened through Transit, the cache of unwrapped data keys, outages, rotation and re-wrap.
const planted = `PLANTED-transit-${Math.random().toString(36).slice(2)}`;

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

type Vault = TransitDoubleHandle & { restoreEnv(): void };

describe('a Coffer whose keyring is a Vault Transit key', () => {
  let vault: Vault;
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

  it('seals through Transit, reveals from the cache without a Vault call, and rotates with a re-wrap', async () => {
    const { coffer } = fx;
    const status = await coffer.keyring.status(fx.admin.actor);
    expect(status.source).toEqual({ type: 'kms', provider: 'vault-transit', key: 'transit/keys/coffer' });
    expect(status.keys[0]?.external).toEqual({ keyId: 'transit/keys/coffer', keyVersion: '1' });

    vault.faults.resetCounts();
    const secret = await create(coffer, fx, 'transit-one');
    expect(vault.faults.requestCount('transit.encrypt')).toBe(1);
    for (let i = 0; i < 3; i++) expect((await reveal(coffer, fx, secret.id)).password).toBe(planted);
    expect(vault.faults.requestCount('transit.decrypt')).toBe(0);

    // A restarted engine has a cold cache: one decrypt, then none.
    const again = await fx.reopen({ keySourceDefinitions });
    vault.faults.resetCounts();
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(vault.faults.requestCount('transit.decrypt')).toBe(1);

    const before = status.currentKeyId;
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    expect(rotated.id).not.toBe(before);
    expect(rotated.external).toEqual({ keyId: 'transit/keys/coffer', keyVersion: '2' });
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
    expect(vault.faults.requestCount('transit.rewrap')).toBeGreaterThan(0);

    // Every blob is on version 2 now, so version 1 can be retired in Vault.
    vault.faults.transit().configure('coffer', { min_decryption_version: 2 });
    const cold = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(cold, fx, secret.id)).password).toBe(planted);
    expect(fx.logText()).not.toContain(planted);
  });

  it('fails reveals closed while Vault is down, keeps listing, serves cached keys within their TTL, and recovers', async () => {
    const { coffer } = fx;
    const cached = await create(coffer, fx, 'transit-cached');
    const cold = await create(coffer, fx, 'transit-cold');
    const reader = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);

    // Every connection to Vault is cut until cleared.
    vault.faults.inject({ kind: 'drop' }, { count: 1_000_000 });
    try {
      const err = await rejectionOf(reveal(reader, fx, cold.id));
      expect(err.code).toBe('key_unavailable');
      expect(err.details).toMatchObject({ reason: 'unreachable', secretId: cold.id });
      expect(err.message).toContain('transit/keys/coffer');
      expect(everythingIn(err)).not.toContain(planted);

      const listed = await reader.secrets.list(fx.admin.actor);
      expect(listed.items.map((s) => s.name)).toEqual(
        expect.arrayContaining(['transit-cached', 'transit-cold']),
      );
      expect((await reader.secrets.get(fx.admin.actor, 'transit-cold')).name).toBe('transit-cold');

      // Within its TTL the cached data key still opens; past it, nothing does.
      expect((await reveal(reader, fx, cached.id)).password).toBe(planted);
      fx.time.advance(61);
      expect((await rejectionOf(reveal(reader, fx, cached.id))).code).toBe('key_unavailable');

      const write = await rejectionOf(create(reader, fx, 'transit-during-outage'));
      expect(write.code).toBe('key_unavailable');
    } finally {
      vault.faults.clear();
    }
    // A sealed Vault is an outage too; an engine starting meanwhile fails, naming the key.
    vault.faults.seal();
    try {
      const sealed = await rejectionOf(reveal(reader, fx, cold.id));
      expect(sealed.details).toMatchObject({ reason: 'server_error', vendorCode: 'sealed' });
      const start = await rejectionOf(fx.reopen({ keySourceDefinitions }));
      expect(start.code).toBe('key_unavailable');
      expect(start.details).toMatchObject({ reason: 'server_error', keyId: 'transit/keys/coffer' });
    } finally {
      vault.faults.unseal();
    }
    expect((await reveal(reader, fx, cold.id)).password).toBe(planted);
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);
    expect((await create(reader, fx, 'transit-during-outage')).name).toBe('transit-during-outage');
  });

  it('refuses a tampered blob with integrity, the other values unharmed', async () => {
    const { coffer } = fx;
    const victim = await create(coffer, fx, 'transit-victim');
    const bystander = await create(coffer, fx, 'transit-bystander');
    const row = await coffer.database.db
      .selectFrom('secret_values')
      .select(['blob'])
      .where('secret_id', '=', victim.id)
      .executeTakeFirstOrThrow();
    const blob = Buffer.from(row.blob);
    // a character of Vault's ciphertext (the wrapped data key), just before the data IV, tag and value
    const wrapEnd = blob.length - (12 + 16 + JSON.stringify({ password: planted }).length);
    const tampered = Buffer.from(blob);
    tampered[wrapEnd - 5] = tampered[wrapEnd - 5] === 0x41 ? 0x42 : 0x41;
    await coffer.database.db
      .updateTable('secret_values')
      .set({ blob: tampered })
      .where('secret_id', '=', victim.id)
      .execute();
    const cold = await fx.reopen({ keySourceDefinitions });
    const err = await rejectionOf(reveal(cold, fx, victim.id));
    expect(err.code).toBe('integrity');
    expect(everythingIn(err)).not.toContain(planted);
    expect((await reveal(cold, fx, bystander.id)).password).toBe(planted);
    await coffer.database.db
      .updateTable('secret_values')
      .set({ blob })
      .where('secret_id', '=', victim.id)
      .execute();
  });

  it('names a missing key at start, and moves to a newly configured key without losing the old one', async () => {
    const missing = await rejectionOf(
      fx.reopen({ keySourceDefinitions }, { keyring: transitKeyring(vault, { keyName: 'not-there' }) }),
    );
    expect(missing.code).toBe('key_unavailable');
    expect(missing.message).toContain('transit/keys/not-there');
    expect(missing.details).toMatchObject({ reason: 'key_not_found', keyId: 'transit/keys/not-there' });

    vault.faults.transit().createKey('coffer-next', {});
    const secret = await create(fx.coffer, fx, 'transit-before-switch');
    const moved = await fx.reopen(
      { keySourceDefinitions },
      { keyring: transitKeyring(vault, { keyName: 'coffer-next' }) },
    );
    expect((await reveal(moved, fx, secret.id)).password).toBe(planted);
    await moved.keyring.rewrapPending();
    const status = await moved.keyring.status(fx.admin.actor);
    expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(await kekIds(moved)).toEqual([status.currentKeyId]);
    expect(status.keys.find((k) => k.current)?.external?.keyId).toBe('transit/keys/coffer-next');
    expect((await reveal(moved, fx, secret.id)).password).toBe(planted);
  });
});

describe('Vault going away in the middle of a re-wrap', () => {
  let vault: Vault;
  let fx: CofferFixture;

  beforeAll(async () => {
    vault = await transitDouble();
    fx = await cofferOnTransit(vault, { cache: { maxEntries: 0, ttlSeconds: 0 } });
  });
  afterAll(async () => {
    await fx?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('loses nothing: every secret still opens and a resumed re-wrap finishes', async () => {
    const { coffer } = fx;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await create(coffer, fx, `bulk-${i}`, `${planted}-${i}`)).id);
    const first = (await coffer.keyring.status(fx.admin.actor)).currentKeyId;

    // Slow every rewrap down so Vault surely goes away mid-run.
    vault.faults.inject({ kind: 'delay', ms: 25 }, { count: 10_000, operation: 'transit.rewrap' });
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    await vi.waitFor(() => expect(vault.faults.requestCount('transit.rewrap')).toBeGreaterThanOrEqual(5), {
      timeout: 10_000,
    });
    vault.faults.clear();
    vault.faults.inject({ kind: 'drop' }, { count: 1_000_000 });
    await coffer.keyring.settled();
    const stopped = await coffer.keyring.status(fx.admin.actor);
    expect(stopped.rewrap.state).toBe('failed');
    expect(stopped.rewrap.failed).toBe(0);
    expect(stopped.rewrap.error).toContain('could not re-wrap a data key');
    expect(await kekIds(coffer)).toEqual([first, rotated.id].sort());

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

describe('moving a Coffer from its key file to Vault Transit', () => {
  let vault: Vault;
  let fx: CofferFixture;

  beforeAll(async () => {
    vault = await transitDouble();
    fx = await createCofferFixture('sqlite');
  });
  afterAll(async () => {
    await fx?.close();
    await vault?.close();
    vault?.restoreEnv();
  });

  it('opens the old values through keyring.previous and re-wraps them into Transit', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await create(fx.coffer, fx, `from-file-${i}`, `${planted}-${i}`)).id);
    const fileKey = (await fx.coffer.keyring.status(fx.admin.actor)).currentKeyId;

    const onTransit = await fx.reopen(
      { keySourceDefinitions },
      { keyring: transitKeyring(vault, { previous: { source: 'file' } }) },
    );
    for (const [i, id] of ids.entries())
      expect((await reveal(onTransit, fx, id)).password).toBe(`${planted}-${i}`);
    await onTransit.keyring.rewrapPending();
    const status = await onTransit.keyring.status(fx.admin.actor);
    expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(await kekIds(onTransit)).toEqual([status.currentKeyId]);

    const transitOnly = await fx.reopen({ keySourceDefinitions }, { keyring: transitKeyring(vault) });
    for (const [i, id] of ids.entries())
      expect((await reveal(transitOnly, fx, id)).password).toBe(`${planted}-${i}`);
    expect((await transitOnly.keyring.status(fx.admin.actor)).missingKeyIds).toEqual([fileKey]);
  });
});
