import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';

async function errorOf(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error('expected the operation to fail');
    },
    (err: unknown) => err as { code: string; message: string },
  );
}

await describeEachDialect('tampered values and keys', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect);
  });
  afterAll(() => fx?.close());

  it('fails closed on a tampered value, for that secret only', async () => {
    const { coffer, admin } = fx;
    const victim = await coffer.secrets.create(admin.actor, {
      name: 'victim',
      kind: 'api-token',
      values: { token: 'v-token' },
    });
    const bystander = await coffer.secrets.create(admin.actor, {
      name: 'bystander',
      kind: 'api-token',
      values: { token: 'b-token' },
    });
    const row = await coffer.database.db
      .selectFrom('secret_values')
      .select('blob')
      .where('secret_id', '=', victim.id)
      .executeTakeFirstOrThrow();
    const blob = Buffer.from(row.blob);
    blob[blob.length - 3] = blob[blob.length - 3]! ^ 0x01;
    await coffer.database.db
      .updateTable('secret_values')
      .set({ blob })
      .where('secret_id', '=', victim.id)
      .execute();

    for (const attempt of [
      () => coffer.secrets.readValues(admin.actor, victim.id, { reveal: true }),
      () => coffer.secrets.readValues(admin.actor, victim.id),
      () => coffer.secrets.use(admin.actor, victim.id, { purpose: 'test' }),
      () => coffer.secrets.update(admin.actor, victim.id, { values: { token: 'new' } }),
    ]) {
      const err = await errorOf(attempt());
      expect(isCofferError(err, 'integrity'), String(err)).toBe(true);
      expect(err.message).toContain(victim.id);
    }
    // the failed reveal is audited as a failure
    const failures = await coffer.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', victim.id)
      .where('outcome', '=', 'failure')
      .execute();
    expect(failures.length).toBeGreaterThan(0);
    // everything else keeps working
    const listed = await coffer.secrets.list(admin.actor, { namePrefix: 'b' });
    expect(listed.items.map((s) => s.name)).toContain('bystander');
    const other = await coffer.secrets.readValues(admin.actor, bystander.id, { reveal: true });
    expect(other.values.token).toBe('b-token');
    // and the damaged secret can still be deleted
    await coffer.secrets.purge(admin.actor, victim.id);
  });

  it('refuses a value copied onto another secret (bound to its id and version)', async () => {
    const { coffer, admin } = fx;
    const a = await coffer.secrets.create(admin.actor, {
      name: 'copy-a',
      kind: 'api-token',
      values: { token: 'aaa' },
    });
    const b = await coffer.secrets.create(admin.actor, {
      name: 'copy-b',
      kind: 'api-token',
      values: { token: 'bbb' },
    });
    const source = await coffer.database.db
      .selectFrom('secret_values')
      .select('blob')
      .where('secret_id', '=', a.id)
      .executeTakeFirstOrThrow();
    await coffer.database.db
      .updateTable('secret_values')
      .set({ blob: source.blob })
      .where('secret_id', '=', b.id)
      .execute();
    const err = await errorOf(coffer.secrets.readValues(admin.actor, b.id, { reveal: true }));
    expect(isCofferError(err, 'integrity')).toBe(true);
  });

  it('rotates the key online: new writes use it, old values re-wrap and still open', async () => {
    const { coffer, admin } = fx;
    const before = await coffer.secrets.create(admin.actor, {
      name: 'pre-rotation',
      kind: 'api-token',
      values: { token: 'old-key' },
    });
    const oldKey = (await coffer.keyring.status(admin.actor)).currentKeyId;
    const newKey = await coffer.keyring.rotate(admin.actor);
    expect(newKey.id).not.toBe(oldKey);
    await coffer.keyring.settled();
    // everything moves to the new key except the blob an earlier test copied onto copy-b,
    // which cannot be unwrapped under copy-b's binding: it fails alone, as on read
    const stale = await coffer.database.db
      .selectFrom('secret_values')
      .innerJoin('secrets', 'secrets.id', 'secret_values.secret_id')
      .select('secrets.name')
      .where('kek_id', '!=', newKey.id)
      .execute();
    expect(stale.map((r) => r.name)).toEqual(['copy-b']);
    expect((await coffer.secrets.readValues(admin.actor, before.id, { reveal: true })).values.token).toBe(
      'old-key',
    );
    const status = await coffer.keyring.status(admin.actor);
    expect(status.keys.map((k) => k.id).sort()).toEqual([oldKey, newKey.id].sort());
    expect(status.rewrap.state).toBe('idle');
    expect(status.rewrap.failed).toBe(1);
    const member = await fx.member('key-member');
    expect(isCofferError(await errorOf(coffer.keyring.rotate(member.actor)), 'forbidden')).toBe(true);
  });

  it('stops a start with a wrong key, naming the key id', async () => {
    const keyFile = join(fx.dataDir, 'keyring.json');
    const original = readFileSync(keyFile, 'utf8');
    const parsed = JSON.parse(original) as { current: string; keys: { id: string; key: string }[] };
    for (const key of parsed.keys) key.key = randomBytes(32).toString('base64');
    writeFileSync(keyFile, JSON.stringify(parsed), { mode: 0o600 });
    try {
      const err = await errorOf(fx.reopen());
      expect(isCofferError(err, 'key_mismatch')).toBe(true);
      expect(
        parsed.keys.some((k) => err.message.includes(k.id)),
        err.message,
      ).toBe(true);
    } finally {
      writeFileSync(keyFile, original, { mode: 0o600 });
    }
  });

  it('reports a missing key by id and fails only the secrets sealed with it', async () => {
    const keyFile = join(fx.dataDir, 'keyring.json');
    const original = readFileSync(keyFile, 'utf8');
    const { coffer, admin } = fx;
    const sealed = await coffer.secrets.create(admin.actor, {
      name: 'sealed-old',
      kind: 'api-token',
      values: { token: 't' },
    });
    const oldKey = (await coffer.keyring.status(admin.actor)).currentKeyId;
    // an operator replaces the key file by a fresh one instead of rotating
    writeFileSync(
      keyFile,
      JSON.stringify({
        version: 1,
        current: 'k-20990101-00000000',
        keys: [
          {
            id: 'k-20990101-00000000',
            key: randomBytes(32).toString('base64'),
            createdAt: new Date().toISOString(),
          },
        ],
      }),
      { mode: 0o600 },
    );
    try {
      const again = await fx.reopen();
      const err = await errorOf(again.secrets.readValues(admin.actor, sealed.id, { reveal: true }));
      expect(isCofferError(err, 'key_unavailable')).toBe(true);
      expect(err.message).toContain(oldKey);
      expect((await again.keyring.status(admin.actor)).missingKeyIds).toContain(oldKey);
      // new secrets still work with the new key
      const fresh = await again.secrets.create(admin.actor, {
        name: 'sealed-new',
        kind: 'api-token',
        values: { token: 'n' },
      });
      expect((await again.secrets.readValues(admin.actor, fresh.id, { reveal: true })).values.token).toBe(
        'n',
      );
      await again.secrets.purge(admin.actor, fresh.id);
      await again.close();
    } finally {
      writeFileSync(keyFile, original, { mode: 0o600 });
    }
  });
});
