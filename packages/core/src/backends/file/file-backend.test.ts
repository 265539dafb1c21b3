import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCofferError } from '../../errors/coffer-error.js';
import { createKeySource } from '../../keyring/key-source-config.js';
import { openKeyring } from '../../keyring/keyring.js';
import { silentLogger } from '../../logging/logger.js';
import { type CofferFixture, createCofferFixture } from '../../test-support/coffer-fixture.js';
import { describeEachDialect } from '../../test-support/databases.js';
import type { Backend, BackendDefinition } from '../backend.js';
import { fileBackendDefinition } from './file-backend.js';

async function errorOf(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error('expected the operation to fail');
    },
    (err: unknown) => err as { code: string; message: string },
  );
}

function valueFile(root: string, secretId: string, version: number): string {
  return join(root, 'coffer', secretId.slice(0, 2), secretId, `${version}.cfv`);
}

await describeEachDialect('file backend', (dialect) => {
  let fx: CofferFixture;
  let root: string;
  let files: Backend;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { backends: { files: { type: 'file' } }, backend: 'files' });
    root = join(fx.dataDir, 'backends', 'files');
    files = fx.coffer.backends.get('files')!;
  });
  afterAll(() => fx?.close());

  it('makes the directories of secrets about to be written in one batch, puts racing it included', async () => {
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const values = { token: 'prepared-token' };
    // Puts of some of them start while the batch is still making directories.
    const racing = ids.slice(0, 5).map((secretId) => files.put({ secretId, version: 1 }, values));
    await files.prepareSecrets!([...ids, 'not-a-secret-id']);
    await Promise.all(racing);
    for (const secretId of ids) {
      const dir = join(root, 'coffer', secretId.slice(0, 2), secretId);
      expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    }
    await Promise.all(ids.slice(5).map((secretId) => files.put({ secretId, version: 1 }, values)));
    for (const secretId of ids) expect(await files.get({ secretId, version: 1 })).toEqual(values);
    // A prepared directory holds nothing: it lists no value.
    const empty = randomUUID();
    await files.prepareSecrets!([empty]);
    expect(await files.list({ secretId: empty })).toEqual([]);
    for (const secretId of ids) await files.delete({ secretId, version: 1 });
  });

  it('keeps one encrypted file per version, directories 0700 and files 0600', async () => {
    const { coffer, admin } = fx;
    const s = await coffer.secrets.create(admin.actor, {
      name: 'on-disk',
      kind: 'api-token',
      values: { token: 'plain-token-on-disk' },
    });
    await coffer.secrets.update(admin.actor, s.id, { values: { token: 'second-plain-token' } });
    const dir = join(root, 'coffer', s.id.slice(0, 2), s.id);
    expect(readdirSync(dir).sort()).toEqual(['1.cfv', '2.cfv']);
    for (const d of [root, join(root, 'coffer'), join(root, 'coffer', s.id.slice(0, 2)), dir]) {
      expect((statSync(d).mode & 0o777).toString(8), d).toBe('700');
    }
    for (const f of ['1.cfv', '2.cfv']) {
      expect((statSync(join(dir, f)).mode & 0o777).toString(8)).toBe('600');
      const bytes = readFileSync(join(dir, f));
      expect(bytes.subarray(0, 4).toString('ascii')).toBe('CFFV');
      expect(bytes.toString('latin1')).not.toContain('plain-token');
      expect(bytes.toString('latin1')).toContain(s.id);
    }
    expect(await coffer.database.db.selectFrom('secret_values').selectAll().execute()).toEqual([]);
  });

  it('tightens a directory that is open to others to 0700 at start', async () => {
    const loose = join(fx.dataDir, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    const coffer = await fx.reopen(
      {},
      { backends: { files: { type: 'file' }, loose: { type: 'file', directory: 'loose' } } },
    );
    expect(coffer.backends.get('loose')).toBeDefined();
    expect((statSync(loose).mode & 0o777).toString(8)).toBe('700');
  });

  it('fails closed on a tampered file, for that secret only', async () => {
    const { coffer, admin } = fx;
    const victim = await coffer.secrets.create(admin.actor, {
      name: 'file-victim',
      kind: 'api-token',
      values: { token: 'v-token' },
    });
    const bystander = await coffer.secrets.create(admin.actor, {
      name: 'file-bystander',
      kind: 'api-token',
      values: { token: 'b-token' },
    });
    const path = valueFile(root, victim.id, 1);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01;
    writeFileSync(path, bytes);
    for (const attempt of [
      () => coffer.secrets.readValues(admin.actor, victim.id, { reveal: true }),
      () => coffer.secrets.readValues(admin.actor, victim.id),
      () => coffer.secrets.use(admin.actor, victim.id, { purpose: 'test' }),
      () => coffer.secrets.update(admin.actor, victim.id, { values: { token: 'new' } }),
    ]) {
      const err = await errorOf(attempt());
      expect(isCofferError(err, 'integrity'), String(err)).toBe(true);
      expect(err.message).toContain(victim.id);
      expect(err.message).not.toContain('v-token');
    }
    // a damaged header, a truncated file and a file that is not ours fail the same way
    for (const damage of [
      (b: Buffer) => Buffer.concat([b.subarray(0, 7), Buffer.from('{"labels":'), b.subarray(7)]),
      (b: Buffer) => b.subarray(0, 20),
      () => Buffer.from('not a coffer file at all'),
    ]) {
      writeFileSync(path, damage(readFileSync(path)));
      const err = await errorOf(coffer.secrets.readValues(admin.actor, victim.id, { reveal: true }));
      expect(isCofferError(err, 'integrity'), String(err)).toBe(true);
    }
    const listed = await coffer.secrets.list(admin.actor, { namePrefix: 'file-' });
    expect(listed.items.map((s) => s.name).sort()).toEqual(['file-bystander', 'file-victim']);
    const other = await coffer.secrets.readValues(admin.actor, bystander.id, { reveal: true });
    expect(other.values.token).toBe('b-token');
    await coffer.secrets.purge(admin.actor, victim.id);
    expect(await files.list({ secretId: victim.id })).toEqual([]);
  });

  it('survives a crash mid-write: the old value stays, the leftover is ignored and swept', async () => {
    const { coffer, admin } = fx;
    const s = await coffer.secrets.create(admin.actor, {
      name: 'torn',
      kind: 'api-token',
      values: { token: 'whole' },
    });
    const dir = join(root, 'coffer', s.id.slice(0, 2), s.id);
    // what a crash between writing the temporary file and renaming it leaves behind
    const leftover = join(dir, `.1.99999.deadbeef0000.tmp`);
    writeFileSync(leftover, Buffer.from('half a blo'));
    expect((await coffer.secrets.readValues(admin.actor, s.id, { reveal: true })).values.token).toBe('whole');
    expect(await files.list({ secretId: s.id })).toEqual([{ secretId: s.id, version: 1 }]);
    expect(readdirSync(dir)).toContain('.1.99999.deadbeef0000.tmp');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(leftover, old, old);
    await files.list({ secretId: s.id });
    expect(readdirSync(dir)).toEqual(['1.cfv']);
  });

  it('re-wraps every file under a new key after rotation', async () => {
    const { coffer, admin } = fx;
    const s = await coffer.secrets.create(admin.actor, {
      name: 'rotated',
      kind: 'api-token',
      values: { token: 'r' },
    });
    const before = readFileSync(valueFile(root, s.id, 1));
    const key = await coffer.keyring.rotate(admin.actor);
    await coffer.keyring.settled();
    expect(await files.referencedKeyIds!()).toEqual([key.id]);
    const after = readFileSync(valueFile(root, s.id, 1));
    expect(after.equals(before)).toBe(false);
    expect((await coffer.secrets.readValues(admin.actor, s.id, { reveal: true })).values.token).toBe('r');
  });

  it('refuses a file that another deployment wrote', async () => {
    const theirs = await foreignInstance(fx);
    const ref = { secretId: randomUUID(), version: 1 };
    await theirs.put(ref, { token: 'foreign-token' });
    const err = await errorOf(files.get(ref));
    expect(isCofferError(err, 'integrity')).toBe(true);
    expect(err.message).toContain('belongs to Coffer deployment');
    expect(err.message).not.toContain('foreign-token');
    await files.delete(ref);
  });
});

/** A second instance on the fixture's directory, with the same keyring but another deployment id. */
async function foreignInstance(fx: CofferFixture): Promise<Backend> {
  const keyring = await openKeyring({
    source: createKeySource({ source: 'file' }, { dataDir: fx.dataDir }),
    database: fx.coffer.database,
  });
  const definition = fileBackendDefinition as BackendDefinition;
  return definition.create(definition.configSchema.parse({}), {
    name: 'files',
    keyring,
    database: fx.coffer.database,
    dataDir: fx.dataDir,
    clusterPrefix: 'coffer',
    deploymentId: randomUUID(),
    logger: silentLogger(),
    clock: () => new Date(),
  });
}

describe('file backend settings', () => {
  it('refuses unknown settings and a directory it cannot use, naming the setting', async () => {
    const fx = await createCofferFixture('sqlite');
    try {
      const err = await errorOf(
        fx.reopen({}, { backends: { files: { type: 'file', fsync: 'yes', colour: 'blue' } } }),
      );
      expect(isCofferError(err, 'invalid_config')).toBe(true);
      expect(err.message).toContain('backends.files.fsync');
      expect(err.message).toContain('backends.files: unknown field(s): colour');
      writeFileSync(join(fx.dataDir, 'a-file'), 'x');
      const dirErr = await errorOf(
        fx.reopen({}, { backends: { files: { type: 'file', directory: 'a-file/sub' } } }),
      );
      expect(isCofferError(dirErr, 'invalid_config')).toBe(true);
      expect(dirErr.message).toContain('backends.files.directory');
    } finally {
      await fx.close();
    }
  });
});
