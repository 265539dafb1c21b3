import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { connectionLost, flakyCommits } from '../test-support/flaky-commits.js';
import { writeVersion } from './value-writer.js';

await describeEachDialect('a value write whose commit fails after the database committed', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { backends: { files: { type: 'file' } }, backend: 'files' });
  });
  afterAll(() => fx?.close());
  /** The value-journal rows left for a secret: intents, fences, pending deletes. */
  const journalRowsOf = (secretId: string) =>
    fx.coffer.database.db.selectFrom('value_journal').selectAll().where('secret_id', '=', secretId).execute();

  it('keeps the value the committed version references', async () => {
    const { coffer, admin } = fx;
    const secret = await coffer.secrets.create(admin.actor, {
      name: 'commit-outcome',
      kind: 'api-token',
      values: { token: 'v1' },
    });
    const flaky = flakyCommits(coffer.database);
    flaky.arm();
    const now = fx.time.clock().toISOString();
    const write = writeVersion(
      { database: flaky.database, clock: fx.time.clock, logger: silentLogger() },
      coffer.backends.require('files'),
      { secretId: secret.id, version: 2 },
      { token: 'v2' },
      async (tx) => {
        await tx
          .updateTable('secrets')
          .set({ current_version: 2, revision: secret.revision + 1, updated_at: now })
          .where('id', '=', secret.id)
          .execute();
        await tx
          .insertInto('secret_versions')
          .values({
            secret_id: secret.id,
            version: 2,
            created_at: now,
            created_by: admin.id,
            changed_fields: '["token"]',
            rollback_of: null,
          })
          .execute();
        return [];
      },
    );
    await expect(write).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(flaky.armed()).toBe(false);
    // The database committed version 2, so its value must still be there.
    const view = await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true });
    expect(view).toMatchObject({ version: 2, values: { token: 'v2' } });
    // The commit removed the intent: the reconciler has nothing to undo, now or later.
    expect(await journalRowsOf(secret.id)).toEqual([]);
    fx.time.advance(3600);
    await coffer.maintenance.reconcile({ olderThanMs: 0 });
    expect(await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).toMatchObject({
      version: 2,
      values: { token: 'v2' },
    });
  });

  it('still removes the value at once when the transaction failed before its commit', async () => {
    const { coffer, admin } = fx;
    const secret = await coffer.secrets.create(admin.actor, {
      name: 'commit-refused',
      kind: 'api-token',
      values: { token: 'v1' },
    });
    const files = coffer.backends.require('files');
    const write = writeVersion(
      { database: coffer.database, clock: fx.time.clock, logger: silentLogger() },
      files,
      { secretId: secret.id, version: 2 },
      { token: 'never committed' },
      async () => {
        throw connectionLost();
      },
    );
    await expect(write).rejects.toMatchObject({ code: 'ECONNRESET' });
    const stored = await files.list({ secretId: secret.id });
    expect(stored.map((r) => r.version)).toEqual([1]);
    expect(await journalRowsOf(secret.id)).toEqual([]);
  });
});
