import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { assertPackageBuilt } from '../test-support/build-check.js';
import {
  type CofferFixture,
  createCofferFixture,
  fixtureAdminPassword,
} from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import type { WriteStep } from './value-writer.js';

const child = fileURLToPath(new URL('../test-support/crash-child.mjs', import.meta.url));

/** Runs the child; resolves with how it ended. */
function runChild(
  env: Record<string, string>,
): Promise<{ signal: string | null; code: number | null; output: string }> {
  assertPackageBuilt(fileURLToPath(new URL('../../', import.meta.url)), 'packages/core');
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child], {
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
async function assertConsistent(fx: CofferFixture, backend: string) {
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
  const stored = await coffer.backends.require(backend).list({ limit: 100_000 });
  const key = (r: { secret_id: string; version: number }) => `${r.secret_id}@${r.version}`;
  expect(new Set(stored.map((r) => `${r.secretId}@${r.version}`))).toEqual(new Set(versions.map(key)));
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

/**
 * The two ways a value is written (src/secrets/value-writer.ts): the default `sql` backend
 * writes it inside the metadata transaction, any other backend (here the file store) through
 * the value journal. Each is killed at every step it passes.
 */
const writePaths: { backend: string; backends: Record<string, unknown>; steps: WriteStep[] }[] = [
  { backend: 'sql', backends: {}, steps: ['staged', 'committed', 'cleaned'] },
  {
    backend: 'files',
    backends: { files: { type: 'file' } },
    steps: ['journaled', 'value-put', 'committed', 'cleaned'],
  },
];

for (const path of writePaths) {
  await describeEachDialect(
    `crash consistency between values and metadata (${path.backend} backend)`,
    (dialect) => {
      let fx: CofferFixture;
      let config: Record<string, unknown>;
      const consistent = () => assertConsistent(fx, path.backend);
      beforeAll(async () => {
        const shape = { versions: { keep: 1 }, backends: path.backends, backend: path.backend };
        fx = await createCofferFixture(dialect, shape);
        config = {
          dataDir: fx.dataDir,
          database: { url: fx.databaseUrl },
          adminPassword: fixtureAdminPassword,
          ...shape,
        };
      });
      afterAll(() => fx?.close());

      for (const step of path.steps) {
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
          await consistent();
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
          await consistent();
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
        const backend = fx.coffer.backends.require(path.backend);
        // Killed between the commit and the value deletes: the secret is gone, its values are not yet.
        expect(await db.selectFrom('secrets').select('id').where('id', '=', secret.id).execute()).toEqual([]);
        expect((await backend.list({ secretId: secret.id })).length).toBe(1);
        await consistent();
        expect(await backend.list({ secretId: secret.id })).toEqual([]);
      });
    },
  );
}
