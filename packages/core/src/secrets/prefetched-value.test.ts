import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';

/**
 * The access check of a read brings the sealed current value along from `secret_values`
 * (docs/performance.md, "The sealed value with the access check"). Only what the secret's own
 * backend would answer may come out of it.
 */
await describeEachDialect('the sealed value read with the access check', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect);
  });
  afterAll(() => fx?.close());

  it('never opens a row of secret_values for a secret whose backend keeps its values elsewhere', async () => {
    const onFiles = await createCofferFixture(dialect, {
      backends: { files: { type: 'file' } },
      backend: 'files',
    });
    try {
      const { coffer, admin } = onFiles;
      const secret = await coffer.secrets.create(admin.actor, {
        name: 'prefetch-on-files',
        kind: 'api-token',
        values: { token: 'from the file' },
      });
      expect(secret.backend).toBe('files');
      // A row under the file backend's name, as a backend renamed in the configuration would
      // leave one: sealed for this very secret and version, so it would even open.
      await coffer.backends.require('sql').put({ secretId: secret.id, version: 1 }, { token: 'stray row' });
      await coffer.database.db
        .updateTable('secret_values')
        .set({ store: 'files' })
        .where('secret_id', '=', secret.id)
        .execute();

      expect(await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).toMatchObject({
        values: { token: 'from the file' },
      });
      expect(
        await coffer.secrets.use(admin.actor, 'prefetch-on-files', { purpose: 'the stray row is ignored' }),
      ).toMatchObject({ values: { token: 'from the file' } });
      // An update keeps the fields it does not change from the current values it read.
      const updated = await coffer.secrets.update(admin.actor, secret.id, {
        values: { headerName: 'X-Api-Key' },
      });
      expect(updated.currentVersion).toBe(2);
      expect(await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).toMatchObject({
        version: 2,
        values: { token: 'from the file', headerName: 'X-Api-Key' },
      });
    } finally {
      await onFiles.close();
    }
  });

  it('reads an older version itself, not the current one the check brought', async () => {
    const { coffer, admin } = fx;
    const secret = await coffer.secrets.create(admin.actor, {
      name: 'prefetch-versions',
      kind: 'api-token',
      values: { token: 'first' },
    });
    await coffer.secrets.update(admin.actor, secret.id, { values: { token: 'second' } });
    expect(
      await coffer.secrets.readValues(admin.actor, secret.id, { reveal: true, version: 1 }),
    ).toMatchObject({
      version: 1,
      values: { token: 'first' },
    });
    expect(await coffer.secrets.readValues(admin.actor, 'prefetch-versions', { reveal: true })).toMatchObject(
      {
        version: 2,
        values: { token: 'second' },
      },
    );
  });

  it('answers not_found for a current version whose value was destroyed, as before', async () => {
    const { coffer, admin } = fx;
    const secret = await coffer.secrets.create(admin.actor, {
      name: 'prefetch-destroyed',
      kind: 'api-token',
      values: { token: 'one' },
    });
    await coffer.secrets.update(admin.actor, secret.id, { values: { token: 'two' } });
    await coffer.secrets.destroyVersions(admin.actor, secret.id, [2]);
    await expect(coffer.secrets.readValues(admin.actor, secret.id, { reveal: true })).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
