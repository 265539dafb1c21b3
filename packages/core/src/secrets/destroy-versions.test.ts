import { afterAll, beforeAll, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';

// destroyVersions: Vault KV's `destroy` as an engine operation. The values of the named kept
// versions are gone for good; the secret and its other versions stay.
async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCofferError(err)) throw new Error(`expected a CofferError, got ${String(err)}`);
  return err.code;
}

await describeEachDialect('destroying single versions', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect);
  });
  afterAll(() => fx?.close());

  async function secretWithVersions(name: string, count: number) {
    const { coffer, admin } = fx;
    const secret = await coffer.secrets.create(admin.actor, { name, kind: 'generic', values: { v: 1 } });
    for (let v = 2; v <= count; v++) await coffer.secrets.update(admin.actor, secret.id, { values: { v } });
    return secret.id;
  }

  it('destroys the named kept versions, keeps the others, and audits it with an event', async () => {
    const { coffer, admin } = fx;
    const id = await secretWithVersions('destroy-some', 4);
    // the writes' own events are delivered first, so the listener sees only the destroy's
    await coffer.events.sync();
    const events: string[] = [];
    const off = coffer.events.subscribe((e) => {
      if (e.secretId === id) events.push(`${e.type}@${e.version}`);
    });
    const result = await coffer.secrets.destroyVersions(admin.actor, id, [2, 3, 3, 99]);
    expect(result.destroyed).toEqual([2, 3]);
    expect(result.secret.currentVersion).toBe(4);
    expect((await coffer.secrets.versions(admin.actor, id)).map((v) => v.version)).toEqual([4, 1]);
    expect(await codeOf(coffer.secrets.readValues(admin.actor, id, { version: 2, reveal: true }))).toBe(
      'not_found',
    );
    expect((await coffer.secrets.readValues(admin.actor, id, { version: 1, reveal: true })).values).toEqual({
      v: 1,
    });
    // the values are gone from the backend too, and nothing waits in the journal
    const backend = coffer.backends.require(result.secret.backend);
    expect(await codeOf(backend.get({ secretId: id, version: 3 }))).toBe('value_not_found');
    expect(
      await coffer.database.db.selectFrom('value_journal').selectAll().where('secret_id', '=', id).execute(),
    ).toEqual([]);
    // naming only versions that are not kept changes nothing
    expect((await coffer.secrets.destroyVersions(admin.actor, id, [2, 50])).destroyed).toEqual([]);
    await coffer.events.sync();
    off();
    expect(events).toEqual(['secret.updated@4']);
    const audit = await coffer.database.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('target_id', '=', id)
      .where('action', '=', 'secret.destroy_versions')
      .execute();
    expect(audit.map((a) => JSON.parse(String(a.details)).versions)).toEqual([['2', '3'], []]);
  });

  it('may destroy the current version: reads of it are not_found, the next write starts empty', async () => {
    const { coffer, admin } = fx;
    const id = await secretWithVersions('destroy-current', 2);
    await coffer.secrets.destroyVersions(admin.actor, id, [2]);
    expect(await codeOf(coffer.secrets.readValues(admin.actor, id, { reveal: true }))).toBe('not_found');
    expect(await codeOf(coffer.secrets.use(admin.actor, id, { purpose: 'test' }))).toBe('not_found');
    expect((await coffer.secrets.get(admin.actor, id)).currentVersion).toBe(2);
    const next = await coffer.secrets.update(admin.actor, id, { values: { w: 'new' } });
    expect(next.currentVersion).toBe(3);
    expect((await coffer.secrets.readValues(admin.actor, id, { reveal: true })).values).toEqual({ w: 'new' });
    // an older kept version can still be rolled back to
    await coffer.secrets.rollback(admin.actor, id, 1);
    expect((await coffer.secrets.readValues(admin.actor, id, { reveal: true })).values).toEqual({ v: 1 });
    expect(await codeOf(coffer.secrets.rollback(admin.actor, id, 2))).toBe('not_found');
  });

  it('checks the caller, the input and the expectation', async () => {
    const { coffer, admin } = fx;
    const id = await secretWithVersions('destroy-checks', 3);
    const reader = await fx.member('destroy-reader');
    await coffer.shares.share(admin.actor, id, { granteeType: 'user', granteeId: reader.id, level: 'read' });
    expect(await codeOf(coffer.secrets.destroyVersions(reader.actor, id, [1]))).toBe('forbidden');
    const writer = await fx.member('destroy-writer');
    await coffer.shares.share(admin.actor, id, { granteeType: 'user', granteeId: writer.id, level: 'write' });
    expect(await codeOf(coffer.secrets.destroyVersions(admin.actor, id, []))).toBe('validation');
    expect(await codeOf(coffer.secrets.destroyVersions(admin.actor, id, [0]))).toBe('validation');
    expect(await codeOf(coffer.secrets.destroyVersions(writer.actor, id, [1], { expectedVersion: 2 }))).toBe(
      'version_conflict',
    );
    expect(
      (await coffer.secrets.destroyVersions(writer.actor, id, [1], { expectedVersion: 3 })).destroyed,
    ).toEqual([1]);
    await coffer.secrets.delete(admin.actor, id);
    expect(await codeOf(coffer.secrets.destroyVersions(admin.actor, id, [2]))).toBe('not_found');
  });
});
