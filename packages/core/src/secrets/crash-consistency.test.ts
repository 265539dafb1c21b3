import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import {
  type CofferFixture,
  createCofferFixture,
  fixtureAdminPassword,
} from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import type { WriteStep } from './value-writer.js';

const child = fileURLToPath(new URL('../test-support/crash-child.ts', import.meta.url));

/** Runs the child; resolves with how it ended. */
function runChild(
  env: Record<string, string>,
): Promise<{ signal: string | null; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => {
      output += String(d);
    });
    proc.stderr.on('data', (d) => {
      output += String(d);
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

/**
 * What must hold after any crash once the reconciler ran: every kept version of every secret
 * has its value, every stored value belongs to a kept version, and the journal is empty.
 */
async function assertConsistent(fx: CofferFixture) {
  const { coffer } = fx;
  const adminId = fx.admin.id;
  const { db } = coffer.database;
  // The fixture's clock stands still; the child wrote its journal with the real one.
  fx.time.advance((Date.now() - fx.time.clock().getTime()) / 1000 + 1);
  await coffer.maintenance.reconcile({ olderThanMs: 0 });
  expect(await db.selectFrom('value_journal').selectAll().execute()).toEqual([]);
  const versions = await db
    .selectFrom('secret_versions')
    .innerJoin('secrets', 'secrets.id', 'secret_versions.secret_id')
    .select(['secret_versions.secret_id', 'secret_versions.version', 'secrets.current_version'])
    .execute();
  const stored = await db.selectFrom('secret_values').select(['secret_id', 'version']).execute();
  const key = (r: { secret_id: string; version: number }) => `${r.secret_id}@${r.version}`;
  expect(new Set(stored.map(key))).toEqual(new Set(versions.map(key)));
  for (const v of versions) {
    const view = await coffer.secrets.readValues({ principal: { type: 'user', id: adminId } }, v.secret_id, {
      reveal: true,
      version: v.version,
    });
    expect(typeof view.values.token).toBe('string');
  }
  for (const row of await db.selectFrom('secrets').select(['id', 'current_version']).execute()) {
    expect(versions.some((v) => v.secret_id === row.id && v.version === row.current_version)).toBe(true);
  }
}

await describeEachDialect('crash consistency between values and metadata', (dialect) => {
  let fx: CofferFixture;
  let config: Record<string, unknown>;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { versions: { keep: 1 } });
    config = {
      dataDir: fx.dataDir,
      database: { url: fx.databaseUrl },
      adminPassword: fixtureAdminPassword,
      versions: { keep: 1 },
    };
  });
  afterAll(() => fx?.close());

  const steps: WriteStep[] = ['journaled', 'value-put', 'committed', 'cleaned'];

  for (const step of steps) {
    it(`a create killed at "${step}" leaves a consistent store`, async () => {
      const result = await runChild({
        COFFER_CRASH_CONFIG: JSON.stringify(config),
        COFFER_CRASH_OP: 'create',
        COFFER_CRASH_STEP: step,
      });
      expect(result.signal, result.output).toBe('SIGKILL');
      const exists = await fx.coffer.secrets.get(fx.admin.actor, 'crashed-create').then(
        () => true,
        (err: unknown) => (isCofferError(err, 'not_found') ? false : Promise.reject(err)),
      );
      // the create counts from its commit on; before, nothing may remain
      expect(exists).toBe(step === 'committed' || step === 'cleaned');
      await assertConsistent(fx);
      if (exists) await fx.coffer.secrets.purge(fx.admin.actor, 'crashed-create');
    });

    it(`an update killed at "${step}" keeps either the old or the new version, whole`, async () => {
      const secret = await fx.coffer.secrets.create(fx.admin.actor, {
        name: `upd-${step}`,
        kind: 'api-token',
        values: { token: 'original' },
      });
      const result = await runChild({
        COFFER_CRASH_CONFIG: JSON.stringify(config),
        COFFER_CRASH_OP: 'update',
        COFFER_CRASH_STEP: step,
        COFFER_CRASH_SECRET: secret.id,
      });
      expect(result.signal, result.output).toBe('SIGKILL');
      const view = await fx.coffer.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
      const committed = step === 'committed' || step === 'cleaned';
      expect(view.values.token).toBe(committed ? 'updated' : 'original');
      expect(view.version).toBe(committed ? 2 : 1);
      await assertConsistent(fx);
      // and the secret takes writes again at once
      await fx.coffer.secrets.update(fx.admin.actor, secret.id, { values: { token: 'after' } });
    });
  }

  it('a purge killed after its commit leaves no values behind once reconciled', async () => {
    const secret = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'purged',
      kind: 'api-token',
      values: { token: 'x' },
    });
    const result = await runChild({
      COFFER_CRASH_CONFIG: JSON.stringify(config),
      COFFER_CRASH_OP: 'purge',
      COFFER_CRASH_STEP: 'committed',
      COFFER_CRASH_SECRET: secret.id,
    });
    expect(result.signal, result.output).toBe('SIGKILL');
    const { db } = fx.coffer.database;
    // Killed between the commit and the value deletes: the secret is gone, its values are not yet.
    expect(await db.selectFrom('secrets').select('id').where('id', '=', secret.id).execute()).toEqual([]);
    const left = await db
      .selectFrom('secret_values')
      .select('version')
      .where('secret_id', '=', secret.id)
      .execute();
    expect(left.length).toBe(1);
    await assertConsistent(fx);
    expect(
      await db.selectFrom('secret_values').select('version').where('secret_id', '=', secret.id).execute(),
    ).toEqual([]);
  });
});
