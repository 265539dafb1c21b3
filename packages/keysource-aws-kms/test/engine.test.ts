import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { everythingIn, rejectionOf } from '@coffer/aws-store-kit/testing';
import type { Coffer } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import type { KmsDoubleHandle } from '@coffer/keysource-aws-kms/double';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cofferOnKms, keySourceDefinitions, kmsDouble, kmsKeyring } from './support.js';

// A whole Coffer on SQLite whose keyring is an AWS KMS key in the double: values sealed and
// opened through KMS, the cache of unwrapped data keys, outages, rotation and re-wrap.
const planted = `PLANTED-kms-${Math.random().toString(36).slice(2)}`;

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

describe('a Coffer whose keyring is an AWS KMS key', () => {
  let kms: KmsDoubleHandle & { restoreEnv(): void };
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

  it('seals through KMS, reveals from the cache without a KMS call, and rotates with a re-wrap', async () => {
    const { coffer } = fx;
    const status = await coffer.keyring.status(fx.admin.actor);
    expect(status.source).toEqual({ type: 'kms', provider: 'aws-kms', key: 'alias/coffer' });
    expect(status.keys[0]?.external?.keyId).toBe(kms.keyArn);

    kms.faults.resetCounts();
    const secret = await create(coffer, fx, 'kms-one');
    expect(kms.faults.requestCount('GenerateDataKey')).toBe(1);
    for (let i = 0; i < 3; i++) expect((await reveal(coffer, fx, secret.id)).password).toBe(planted);
    expect(kms.faults.requestCount('Decrypt')).toBe(0);

    // A restarted engine has a cold cache: one Decrypt, then none.
    const again = await fx.reopen({ keySourceDefinitions });
    kms.faults.resetCounts();
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(kms.faults.requestCount('Decrypt')).toBe(1);

    const before = status.currentKeyId;
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    expect(rotated.id).not.toBe(before);
    expect(rotated.external?.keyId).toBe(kms.keyArn);
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
    expect(kms.faults.requestCount('ReEncrypt')).toBeGreaterThan(0);
    expect((await reveal(again, fx, secret.id)).password).toBe(planted);
    expect(fx.logText()).not.toContain(planted);
  });

  it('fails reveals closed while KMS is down, keeps listing, serves cached keys within their TTL, and recovers', async () => {
    const { coffer } = fx;
    const cached = await create(coffer, fx, 'kms-cached');
    const cold = await create(coffer, fx, 'kms-cold');
    const reader = await fx.reopen({ keySourceDefinitions });
    expect((await reveal(reader, fx, cached.id)).password).toBe(planted);

    await kms.stop();
    try {
      const err = await rejectionOf(reveal(reader, fx, cold.id));
      expect(err.code).toBe('key_unavailable');
      expect(err.details).toMatchObject({ reason: 'unreachable', secretId: cold.id });
      expect(err.message).toContain(kms.keyArn);
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

  it('refuses a tampered blob with integrity, the other values unharmed', async () => {
    const { coffer } = fx;
    const victim = await create(coffer, fx, 'kms-victim');
    const bystander = await create(coffer, fx, 'kms-bystander');
    const row = await coffer.database.db
      .selectFrom('secret_values')
      .select(['blob', 'kek_id'])
      .where('secret_id', '=', victim.id)
      .executeTakeFirstOrThrow();
    const blob = Buffer.from(row.blob);
    // a byte of KMS's own ciphertext (the wrapped data key), just before the data IV, tag and value
    const wrapEnd = blob.length - (12 + 16 + JSON.stringify({ password: planted }).length);
    const tampered = Buffer.from(blob);
    tampered[wrapEnd - 5]! ^= 0x40;
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
    // (put back, so the re-wraps of the next test do not count it as failed)
    await coffer.database.db
      .updateTable('secret_values')
      .set({ blob })
      .where('secret_id', '=', victim.id)
      .execute();
  });

  it('names a missing or disabled key at start, and moves to a newly configured key without losing the old one', async () => {
    const missing = await rejectionOf(
      fx.reopen({ keySourceDefinitions }, { keyring: kmsKeyring(kms, { keyId: 'alias/not-there' }) }),
    );
    expect(missing.code).toBe('key_unavailable');
    expect(missing.message).toContain('alias/not-there');
    expect(missing.details).toMatchObject({ reason: 'key_not_found', keyId: 'alias/not-there' });

    const client = new KMSClient({ region: kms.settings.region, endpoint: kms.url, maxAttempts: 1 });
    try {
      const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'next' }));
      await client.send(
        new CreateAliasCommand({ AliasName: 'alias/coffer-next', TargetKeyId: KeyMetadata!.KeyId }),
      );
      const secret = await create(fx.coffer, fx, 'kms-before-switch');

      const moved = await fx.reopen(
        { keySourceDefinitions },
        { keyring: kmsKeyring(kms, { keyId: 'alias/coffer-next' }) },
      );
      expect((await reveal(moved, fx, secret.id)).password).toBe(planted);
      await moved.keyring.rewrapPending();
      const status = await moved.keyring.status(fx.admin.actor);
      expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
      expect(await kekIds(moved)).toEqual([status.currentKeyId]);
      expect(status.keys.find((k) => k.current)?.external?.keyId).toBe(KeyMetadata!.Arn);
      expect((await reveal(moved, fx, secret.id)).password).toBe(planted);

      await client.send(new DisableKeyCommand({ KeyId: KeyMetadata!.KeyId }));
      const disabled = await rejectionOf(
        fx.reopen({ keySourceDefinitions }, { keyring: kmsKeyring(kms, { keyId: 'alias/coffer-next' }) }),
      );
      expect(disabled.details).toMatchObject({ reason: 'key_disabled', keyId: KeyMetadata!.Arn });
    } finally {
      client.destroy();
    }
  });
});

describe('a KMS outage in the middle of a re-wrap', () => {
  let kms: KmsDoubleHandle & { restoreEnv(): void };
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

    // Slow every ReEncrypt down so the outage surely lands mid-run.
    kms.faults.inject({ kind: 'delay', ms: 25 }, { count: 10_000, operation: 'ReEncrypt' });
    const rotated = await coffer.keyring.rotate(fx.admin.actor);
    await vi.waitFor(() => expect(kms.faults.requestCount('ReEncrypt')).toBeGreaterThanOrEqual(5), {
      timeout: 10_000,
    });
    await kms.stop();
    await coffer.keyring.settled();
    const stopped = await coffer.keyring.status(fx.admin.actor);
    expect(stopped.rewrap.state).toBe('failed');
    expect(stopped.rewrap.failed).toBe(0);
    expect(stopped.rewrap.error).toContain('could not re-wrap a data key');
    const halfway = await kekIds(coffer);
    expect(halfway).toEqual([first, rotated.id].sort());

    await kms.start();
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

describe('moving a Coffer from its key file to AWS KMS', () => {
  let kms: KmsDoubleHandle & { restoreEnv(): void };
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

  it('opens the old values through keyring.previous and re-wraps them into KMS', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await create(fx.coffer, fx, `from-file-${i}`, `${planted}-${i}`)).id);
    const fileKey = (await fx.coffer.keyring.status(fx.admin.actor)).currentKeyId;

    const onKms = await fx.reopen(
      { keySourceDefinitions },
      { keyring: kmsKeyring(kms, { previous: { source: 'file' } }) },
    );
    for (const [i, id] of ids.entries())
      expect((await reveal(onKms, fx, id)).password).toBe(`${planted}-${i}`);
    await onKms.keyring.rewrapPending();
    const status = await onKms.keyring.status(fx.admin.actor);
    expect(status.rewrap).toMatchObject({ state: 'idle', failed: 0 });
    expect(status.missingKeyIds).toEqual([]);
    expect(await kekIds(onKms)).toEqual([status.currentKeyId]);

    // The key file is no longer needed: every value is KMS-wrapped now.
    const kmsOnly = await fx.reopen({ keySourceDefinitions }, { keyring: kmsKeyring(kms) });
    for (const [i, id] of ids.entries())
      expect((await reveal(kmsOnly, fx, id)).password).toBe(`${planted}-${i}`);
    expect((await kmsOnly.keyring.status(fx.admin.actor)).missingKeyIds).toEqual([fileKey]);
  });
});
