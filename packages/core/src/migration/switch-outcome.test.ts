import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { type FlakyCommitOptions, flakyCommits } from '../test-support/flaky-commits.js';
import { moveSecret } from './secret-mover.js';

/**
 * A migration switch whose commit is reported as failed (a connection lost while committing)
 * although the database carries it out: before the failure is reported, or, on PostgreSQL and
 * MySQL, a moment after it. Either way the secret is on the target afterwards, so its copies
 * there are its only values and the mover must not undo them.
 */
await describeEachDialect('a migration switch whose commit fails after the database committed', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { backends: { files: { type: 'file' } } });
  });
  afterAll(() => fx?.close());
  /**
   * A commit that lands after its failure was reported only exists where the database is
   * another process: SQLite commits synchronously inside this one, so on SQLite what a read
   * sees after a failed commit is final, and the late cases below do not apply.
   */
  const lateCommitsExist = dialect !== 'sqlite';

  /** A secret on the `sql` backend, and a running migration this process holds the lease of. */
  async function secretToMove(name: string) {
    const { coffer, admin } = fx;
    const secret = await coffer.secrets.create(admin.actor, {
      name,
      kind: 'api-token',
      values: { token: `value of ${name}` },
    });
    await coffer.secrets.update(admin.actor, secret.id, { values: { token: `second value of ${name}` } });
    const runId = randomUUID();
    const now = fx.time.clock().toISOString();
    await coffer.database.db
      .insertInto('migration_runs')
      .values({
        id: runId,
        number: (await coffer.database.db.selectFrom('migration_runs').select('id').execute()).length + 1,
        target: 'files',
        keep_source: 0,
        retry_failed: 0,
        state: 'running',
        total: 1,
        done: 0,
        failed: 0,
        started_at: now,
        finished_at: null,
        started_by: 'test',
        owner: 'this process',
        heartbeat_at: now,
      })
      .execute();
    return { secret, runId };
  }

  async function moveWithFlakySwitch(name: string, options: FlakyCommitOptions = {}) {
    const { coffer } = fx;
    const { secret, runId } = await secretToMove(name);
    const flaky = flakyCommits(coffer.database, options);
    const outcome = await moveSecret(
      {
        database: flaky.database,
        backends: coffer.backends,
        clock: fx.time.clock,
        logger: silentLogger(),
        // The switch is the first commit after the copies.
        onStep: (step) => step === 'copied' && flaky.arm(),
      },
      {
        secretId: secret.id,
        target: coffer.backends.require('files'),
        keepSource: false,
        runId,
        owner: 'this process',
        targetHasKeptCopies: false,
        hadFailure: false,
        holdsLease: async () => true,
      },
    ).catch((err: unknown) => err);
    expect(flaky.armed()).toBe(false);
    await flaky.landed;
    return { secret, outcome };
  }

  async function expectMovedIntact(secret: { id: string; name: string }) {
    const { coffer, admin } = fx;
    const place = await coffer.database.db
      .selectFrom('secrets')
      .select('backend')
      .where('id', '=', secret.id)
      .executeTakeFirstOrThrow();
    expect(place.backend).toBe('files');
    const files = coffer.backends.require('files');
    expect((await files.list({ secretId: secret.id })).map((r) => r.version).sort()).toEqual([1, 2]);
    expect(
      await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true, version: 1 }),
    ).toMatchObject({
      values: { token: `value of ${secret.name}` },
    });
    expect(await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).toMatchObject({
      version: 2,
      values: { token: `second value of ${secret.name}` },
    });
    // The switch removed its intents and fence; nothing is left for the reconciler to undo.
    const journal = await coffer.database.db
      .selectFrom('value_journal')
      .selectAll()
      .where('secret_id', '=', secret.id)
      .execute();
    expect(journal).toEqual([]);
    await coffer.maintenance.reconcile({ olderThanMs: 0 });
    expect((await files.list({ secretId: secret.id })).map((r) => r.version).sort()).toEqual([1, 2]);
  }

  it('keeps the copies when the commit landed before its failure was reported', async () => {
    const { secret, outcome } = await moveWithFlakySwitch('switch-landed');
    expect(outcome).toBe('moved');
    await expectMovedIntact(secret);
  });

  it.skipIf(!lateCommitsExist)(
    'keeps the copies when the commit lands after its failure was reported (the server still had it)',
    async () => {
      // A plain read right after the failure still sees the secret on its source; undoing the
      // copies then deleted the only values of a switch that landed 300 ms later.
      const { secret, outcome } = await moveWithFlakySwitch('switch-lands-late', { lateMs: 300 });
      expect(outcome).toBe('moved');
      await expectMovedIntact(secret);
    },
  );

  it.skipIf(!lateCommitsExist)(
    'leaves the copies alone when it cannot read the outcome, and the switch landed',
    async () => {
      const { secret, outcome } = await moveWithFlakySwitch('switch-unknown-landed', {
        lateMs: 300,
        refuseNextTransaction: true,
      });
      expect(outcome).toMatchObject({ code: 'ECONNRESET' });
      await expectMovedIntact(secret);
    },
  );

  it.skipIf(!lateCommitsExist)(
    'leaves the copies to the reconciler when it cannot read the outcome, and the switch did not land',
    async () => {
      const { coffer, admin } = fx;
      const { secret, outcome } = await moveWithFlakySwitch('switch-unknown-lost', {
        lateMs: 300,
        lost: true,
        refuseNextTransaction: true,
      });
      expect(outcome).toMatchObject({ code: 'ECONNRESET' });
      const files = coffer.backends.require('files');
      const journalOf = () =>
        coffer.database.db
          .selectFrom('value_journal')
          .select(['backend', 'action', 'version'])
          .where('secret_id', '=', secret.id)
          .orderBy('backend')
          .orderBy('version')
          .execute();
      // Nothing undone yet: the copies, their intents and the fence wait for the reconciler.
      expect((await files.list({ secretId: secret.id })).map((r) => r.version).sort()).toEqual([1, 2]);
      expect(await journalOf()).toEqual([
        { backend: 'files', action: 'put', version: 1 },
        { backend: 'files', action: 'put', version: 2 },
        { backend: 'sql', action: 'fence', version: 3 },
      ]);
      // Reads go on from the source meanwhile.
      expect(await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).toMatchObject({
        version: 2,
        values: { token: `second value of ${secret.name}` },
      });
      await coffer.maintenance.reconcile({ olderThanMs: 0 });
      expect(await files.list({ secretId: secret.id })).toEqual([]);
      expect(await journalOf()).toEqual([]);
      const updated = await coffer.secrets.update(admin.actor, secret.id, { values: { token: 'third' } });
      expect(updated).toMatchObject({ currentVersion: 3, backend: 'sql' });
    },
  );
});
