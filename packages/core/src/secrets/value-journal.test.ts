import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { claimJournalRow } from './value-writer.js';

await describeEachDialect('value journal takeovers', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect);
  });
  afterAll(() => fx?.close());

  it('lets exactly one process take over a stale row', async () => {
    const { db } = fx.coffer.database;
    const row = {
      secret_id: '00000000-0000-4000-8000-00000000abcd',
      version: 7,
      backend: 'sql',
      action: 'put',
      created_at: '2000-01-01T00:00:00.000Z',
    };
    await db.insertInto('value_journal').values(row).execute();
    const claims = await Promise.all([1, 2, 3, 4].map(() => claimJournalRow(db, row, fx.time.clock)));
    expect(claims.filter((c) => c !== null).length).toBe(1);
    await db.deleteFrom('value_journal').where('secret_id', '=', row.secret_id).execute();
  });

  it('never lets a reconciler with an old view undo a write that took the row over', async () => {
    const { coffer, admin } = fx;
    const { db } = coffer.database;
    const secret = await coffer.secrets.create(admin.actor, {
      name: 'takeover',
      kind: 'api-token',
      values: { token: 'v1' },
    });
    // A writer crashed after journaling version 2 and putting its value.
    const crashed = {
      secret_id: secret.id,
      version: 2,
      backend: 'sql',
      action: 'put',
      created_at: fx.time.clock().toISOString(),
    };
    await db.insertInto('value_journal').values(crashed).execute();
    await coffer.backends.active.put(
      { secretId: secret.id, version: 2 },
      { token: 'from the crashed writer' },
    );
    // The lease runs out; a reconciler reads the row (its old view is `crashed`) ...
    fx.time.advance(61);
    // ... but before it acts, a writer takes the row over and commits version 2.
    await coffer.secrets.update(admin.actor, secret.id, { values: { token: 'v2' } });
    // The reconciler's claim on its old view fails, so it leaves the new value alone.
    expect(await claimJournalRow(db, crashed, fx.time.clock)).toBeNull();
    await coffer.maintenance.reconcile({ olderThanMs: 0 });
    const view = await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true });
    expect(view).toMatchObject({ version: 2, values: { token: 'v2' } });
  });
});
