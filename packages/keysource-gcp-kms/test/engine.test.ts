import type { Coffer } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import type { CloudKmsDoubleHandle } from '@coffer/keysource-gcp-kms/double';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cofferOnKms,
  everythingIn,
  keySourceDefinitions,
  kmsDouble,
  kmsKeyring,
  rejectionOf,
} from './support.js';

// A whole Coffer on SQLite whose keyring is a Cloud KMS key in the double: values sealed and
// opened through Cloud KMS, the cache of unwrapped data keys, outages, rotation and re-wrap.
const planted = `PLANTED-gcp-kms-${Math.random().toString(36).slice(2)}`;

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

function sdkClient(kms: CloudKmsDoubleHandle): KeyManagementServiceClient {
  const url = new URL(kms.url);
  return new KeyManagementServiceClient({
    fallback: 'rest',
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    projectId: 'coffer-double',
  });
}

describe('a Coffer whose keyring is a Cloud KMS key', () => {
  let kms: CloudKmsDoubleHandle & { restoreEnv(): void };
  let fx: CofferFixture;

  beforeAll(async () => {
    kms = await kmsDouble();
    fx = await cofferOnKms(kms, { cache: { maxEntries: 100, ttlSeconds: 60 } });
  });
  afterAll(async () => {
    await fx?.close();
    await kms?.close();
    kms?.restoreEnv();
  });

  it('seals through Cloud KMS, reveals from the cache without a KMS call, and rotates with a re-wrap', async () => {
    const { coffer } = fx;
    const status = await coffer.keyring.status(fx.admin.actor);
    expect(status.source).toEqual({ type: 'kms', provider: 'gcp-kms', key: kms.keyName });
    expect(status.keys[0]?.external).toEqual({ keyId: kms.keyName, keyVersion: '1' });
    expect(status.currentKeyId).toMatch(/^gcp-kms\.[0-9a-f]{12}\.1$/);

    kms.faults.resetCounts();
    const secret = await create(coffer, fx, 'kms-one');
    expect(kms.faults.requestCount('Encrypt')).toBe(1);
    for (let i = 0; i < 3; i++) expect((await reveal(coffer, fx, secret.id)).password).toBe(planted);
    expect(kms.faults.requestCount('Decrypt')).toBe(0);

    // A restarted engine has a cold cache: one decrypt, then none.
    const again = await fx.reopen({ keySourceDefinitions });
    kms.faults.resetCounts();
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(kms.faults.requestCount('Decrypt')).toBe(1);

    const before = status.currentKeyId;
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    expect(rotated.id).not.toBe(before);
    expect(rotated.external).toEqual({ keyId: kms.keyName, keyVersion: '2' });
    expect(kms.faults.store.primaryOf(kms.keyName)).toBe(2);
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
    // every value was re-wrapped, the old version stays able to decrypt anything not yet moved
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(fx.logText()).not.toContain(planted);
  });

  it('fails reveals closed while Cloud KMS is down, keeps listing, serves cached keys within their TTL, and recovers', async () => {
    const { coffer } = fx;
    const cached = await create(coffer, fx, 'kms-cached');
    const cold = await create(coffer, fx, 'kms-cold');
    const reader = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);

    await kms.stop();
    try {
      const err = await rejectionOf(reveal(reader, fx, cold.id));
      expect(err.code).toBe('key_unavailable');
      expect(err.details).toMatchObject({ reason: 'unreachable', secretId: cold.id, keyId: kms.keyName });
      expect(err.message).toContain(kms.keyName);
      expect(everythingIn(err)).not.toContain(planted);

      const listed = await reader.secrets.list(fx.admin.actor);
      expect(listed.items.map((s) => s.name)).toEqual(expect.arrayContaining(['kms-cached', 'kms-cold']));
      expect((await reader.secrets.get(fx.admin.actor, 'kms-cold')).name).toBe('kms-cold');

      // Within its TTL the cached data key still opens; past it, nothing does.
      expect((await reveal(reader, fx, cached.id)).password).toBe(planted);
      fx.time.advance(61);
      expect((await rejectionOf(reveal(reader, fx, cached.id))).code).toBe('key_unavailable');

      const write = await rejectionOf(create(reader, fx, 'kms-during-outage'));
      expect(write.code).toBe('key_unavailable');
    } finally {
      await kms.start();
    }
    expect((await reveal(reader, fx, cold.id)).password).toBe(planted);
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);
    expect((await create(reader, fx, 'kms-during-outage')).name).toBe('kms-during-outage');
  });

  it('refuses a tampered wrapped key, and a wrapped key moved onto another secret, with integrity', async () => {
    const { coffer } = fx;
    const victim = await create(coffer, fx, 'kms-victim');
    const other = await create(coffer, fx, 'kms-other', `${planted}-other`);
    const bystander = await create(coffer, fx, 'kms-bystander');
    const original = await blobOf(coffer, victim.id);
    const otherBlob = await blobOf(coffer, other.id);

    // a byte of Cloud KMS's own ciphertext (the wrapped data key), before the value's IV, tag and data
    const wrapEnd = original.length - (12 + 16 + JSON.stringify({ password: planted }).length);
    const tampered = Buffer.from(original);
    tampered[wrapEnd - 5]! ^= 0x40;
    await setBlob(coffer, victim.id, tampered);
    const cold = await fx.reopen({ keySourceDefinitions });
    kms.faults.resetCounts();
    const err = await rejectionOf(reveal(cold, fx, victim.id));
    expect(err.code).toBe('integrity');
    expect(err.details).toMatchObject({ vendorCode: 'INVALID_ARGUMENT', keyId: kms.keyName });
    expect(kms.faults.requestCount('Decrypt')).toBe(1);
    expect(everythingIn(err)).not.toContain(planted);

    // the other secret's whole blob on the victim: Cloud KMS refuses its additional authenticated data
    await setBlob(coffer, victim.id, otherBlob);
    const moved = await rejectionOf(reveal(await fx.reopen({ keySourceDefinitions }), fx, victim.id));
    expect(moved.code).toBe('integrity');
    expect(moved.details).toMatchObject({ vendorCode: 'INVALID_ARGUMENT', secretId: victim.id });
    expect(everythingIn(moved)).not.toContain(`${planted}-other`);

    expect((await reveal(cold, fx, bystander.id)).password).toBe(planted);
    // (put back, so the re-wraps of later tests do not count it as failed)
    await setBlob(coffer, victim.id, original);
    expect((await reveal(await fx.reopen({ keySourceDefinitions }), fx, victim.id)).password).toBe(planted);
  });

  it('names a missing key or a disabled primary at start, and moves to a newly configured key without losing the old one', async () => {
    const missingName = kms.keyName.replace(/cryptoKeys\/coffer$/, 'cryptoKeys/not-there');
    const missing = await rejectionOf(
      fx.reopen({ keySourceDefinitions }, { keyring: kmsKeyring(kms, { keyName: missingName }) }),
    );
    expect(missing.code).toBe('key_unavailable');
    expect(missing.message).toContain(missingName);
    expect(missing.details).toMatchObject({ reason: 'key_not_found', keyId: missingName });

    const client = sdkClient(kms);
    try {
      const ring = kms.keyName.replace(/\/cryptoKeys\/coffer$/, '');
      const [next] = await client.createCryptoKey({
        parent: ring,
        cryptoKeyId: 'coffer-next',
        cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
      });
      const secret = await create(fx.coffer, fx, 'kms-before-switch');

      const onNext = kmsKeyring(kms, { keyName: next.name });
      const switched = await fx.reopen({ keySourceDefinitions }, { keyring: onNext });
      expect((await reveal(switched, fx, secret.id)).password).toBe(planted);
      await switched.keyring.rewrapPending();
      const status = await switched.keyring.status(fx.admin.actor);
      expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
      expect(await kekIds(switched)).toEqual([status.currentKeyId]);
      expect(status.keys.find((k) => k.current)?.external).toEqual({ keyId: next.name, keyVersion: '1' });
      expect((await reveal(switched, fx, secret.id)).password).toBe(planted);

      await client.updateCryptoKeyVersion({
        cryptoKeyVersion: { name: `${next.name}/cryptoKeyVersions/1`, state: 'DISABLED' },
        updateMask: { paths: ['state'] },
      });
      const disabled = await rejectionOf(fx.reopen({ keySourceDefinitions }, { keyring: onNext }));
      expect(disabled.details).toMatchObject({
        reason: 'key_disabled',
        keyId: next.name,
        vendorCode: 'FAILED_PRECONDITION',
      });
      expect(disabled.message).toContain(next.name!);
    } finally {
      await client.close();
    }
  });
});

describe('a Cloud KMS double killed in the middle of a re-wrap', () => {
  let kms: CloudKmsDoubleHandle & { restoreEnv(): void };
  let fx: CofferFixture;

  beforeAll(async () => {
    kms = await kmsDouble();
    fx = await cofferOnKms(kms, { cache: { maxEntries: 0, ttlSeconds: 0 } });
  });
  afterAll(async () => {
    await fx?.close();
    await kms?.close();
    kms?.restoreEnv();
  });

  it('loses nothing: every secret still opens and a resumed re-wrap finishes', async () => {
    const { coffer } = fx;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await create(coffer, fx, `bulk-${i}`, `${planted}-${i}`)).id);
    const first = (await coffer.keyring.status(fx.admin.actor)).currentKeyId;

    // Slow every decrypt down so the outage surely lands mid-run.
    kms.faults.inject({ kind: 'delay', ms: 25 }, { count: 10_000, rpc: 'Decrypt' });
    kms.faults.resetCounts();
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    await vi.waitFor(() => expect(kms.faults.requestCount('Decrypt')).toBeGreaterThanOrEqual(5), {
      timeout: 10_000,
    });
    await kms.stop();
    await coffer.keyring.settled();
    const stopped = await coffer.keyring.status(fx.admin.actor);
    expect(stopped.rewrap.state).toBe('failed');
    expect(stopped.rewrap.failed).toBe(0);
    expect(stopped.rewrap.error).toContain('could not re-wrap a data key');
    expect(await kekIds(coffer)).toEqual([first, rotated.id].sort());

    await kms.start();
    kms.faults.clear();
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

describe('moving a Coffer from its key file to Cloud KMS', () => {
  let kms: CloudKmsDoubleHandle & { restoreEnv(): void };
  let fx: CofferFixture;

  beforeAll(async () => {
    kms = await kmsDouble();
    fx = await createCofferFixture('sqlite');
  });
  afterAll(async () => {
    await fx?.close();
    await kms?.close();
    kms?.restoreEnv();
  });

  it('opens the old values through keyring.previous and re-wraps them into Cloud KMS', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await create(fx.coffer, fx, `from-file-${i}`, `${planted}-${i}`)).id);

    const onKms = await fx.reopen(
      { keySourceDefinitions },
      { keyring: kmsKeyring(kms, { previous: { source: 'file' } }) },
    );
    for (const [i, id] of ids.entries())
      expect((await reveal(onKms, fx, id)).password).toBe(`${planted}-${i}`);
    await onKms.keyring.rewrapPending();
    const status = await onKms.keyring.status(fx.admin.actor);
    expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(await kekIds(onKms)).toEqual([status.currentKeyId]);

    const kmsOnly = await fx.reopen({ keySourceDefinitions }, { keyring: kmsKeyring(kms) });
    for (const [i, id] of ids.entries())
      expect((await reveal(kmsOnly, fx, id)).password).toBe(`${planted}-${i}`);
  });
});
