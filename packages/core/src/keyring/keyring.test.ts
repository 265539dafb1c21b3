import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { CofferError } from '../errors/coffer-error.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrator.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import {
  keyEnvSource,
  keyFileSource,
  type OpenKeyringOptions,
  openKeyring,
  type SealBinding,
} from './index.js';

const binding: SealBinding = { secretId: '3e0c8a51-1f6b-4c2d-9a7e-8b5d4f3c2a10', version: 1 };

function caught(fn: () => unknown): CofferError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    return err as CofferError;
  }
  throw new Error('expected an error, but the call returned');
}

async function rejection(promise: Promise<unknown>): Promise<CofferError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CofferError);
    return err as CofferError;
  }
  throw new Error('expected a rejection');
}

/** The data IV, data tag and ciphertext: the part of a blob a rewrap must not touch. */
function dataPart(blob: Buffer, plaintextLength: number): Buffer {
  return blob.subarray(blob.length - (12 + 16 + plaintextLength));
}

await describeEachDialect('keyring', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  let dir: string;

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
    await migrateToLatest(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('keyring_keys').execute();
    dir = mkdtempSync(join(tmpdir(), 'coffer-keyring-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const keyFile = () => join(dir, 'keyring.json');
  const fileKeyring = (options: Partial<OpenKeyringOptions> = {}, path = keyFile()) =>
    openKeyring({ source: keyFileSource({ source: 'file', path }), database, ...options });
  const envKeyring = (value: string, options: Partial<OpenKeyringOptions> = {}) =>
    openKeyring({
      source: keyEnvSource({ source: 'env' }, { env: { COFFER_MASTER_KEY: value } }),
      database,
      ...options,
    });
  const checkRowIds = async (db: CofferDatabase = database) =>
    (await db.db.selectFrom('keyring_keys').select('id').orderBy('id').execute()).map((r) => r.id);

  it('seals and opens, registering one check row per key and reusing it on reopen', async () => {
    const keyring = await fileKeyring();
    const plaintext = Buffer.from('{"password":"sommar-2026 ✓"}');
    const sealed = await keyring.seal(plaintext, binding);
    expect(sealed.kekId).toBe(keyring.currentKeyId);
    expect(keyring.kekIdOf(sealed.blob)).toBe(keyring.currentKeyId);
    expect((await keyring.open(sealed.blob, binding)).equals(plaintext)).toBe(true);
    expect(await checkRowIds()).toEqual([keyring.currentKeyId]);

    const reopened = await fileKeyring();
    expect(reopened.currentKeyId).toBe(keyring.currentKeyId);
    expect((await reopened.open(sealed.blob, binding)).equals(plaintext)).toBe(true);
    expect(await checkRowIds()).toEqual([keyring.currentKeyId]);
  });

  // Opened once before, the blob's data key is in the keyring's cache: the flips of the data
  // part then meet the cached key, and must fail all the same.
  it.each([
    ['not opened before', false],
    ['opened before (its data key cached)', true],
  ])('never returns plaintext for a blob with any single byte flipped, %s', async (_title, openedBefore) => {
    const keyring = await fileKeyring({ reloadIntervalMs: 0 });
    const plaintext = Buffer.from('flip-me-if-you-can');
    const { blob, kekId } = await keyring.seal(plaintext, binding);
    if (openedBefore) expect((await keyring.open(blob, binding)).equals(plaintext)).toBe(true);
    const idStart = 6;
    const idEnd = idStart + kekId.length;
    for (let i = 0; i < blob.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const flipped = Buffer.from(blob);
        flipped[i]! ^= mask;
        const err = await rejection(keyring.open(flipped, binding));
        const inKeyId = i >= idStart - 1 && i < idEnd;
        expect(inKeyId ? ['integrity', 'key_unavailable'] : ['integrity'], `byte ${i} ^ ${mask}`).toContain(
          err.code,
        );
      }
    }
    // The cache kept nothing from the failures: the blob itself still opens.
    expect((await keyring.open(blob, binding)).equals(plaintext)).toBe(true);
  });

  it('refuses a blob spliced from the wrap of one value and the data of another, its data key cached', async () => {
    const keyring = await fileKeyring();
    const first = Buffer.from('the first value');
    const second = Buffer.from('the other value');
    const a = (await keyring.seal(first, binding)).blob;
    const b = (await keyring.seal(second, binding)).blob;
    expect((await keyring.open(a, binding)).equals(first)).toBe(true);
    // a's header and wrap (whose data key is now cached) with b's IV, tag and ciphertext.
    const spliced = Buffer.concat([
      a.subarray(0, a.length - dataPart(a, first.length).length),
      dataPart(b, second.length),
    ]);
    expect((await rejection(keyring.open(spliced, binding))).code).toBe('integrity');
    // Under another binding the cached key is not used, and the wrap does not authenticate.
    expect((await rejection(keyring.open(a, { ...binding, version: binding.version + 1 }))).code).toBe(
      'integrity',
    );
    expect((await keyring.open(b, binding)).equals(second)).toBe(true);
  });

  it('opens with no cache of data keys when it is turned off', async () => {
    const keyring = await fileKeyring({ cache: { maxEntries: 0, ttlSeconds: 0 } });
    const plaintext = Buffer.from('uncached');
    const { blob } = await keyring.seal(plaintext, binding);
    for (let i = 0; i < 3; i++) expect((await keyring.open(blob, binding)).equals(plaintext)).toBe(true);
    await keyring.close?.();
  });

  it('refuses every truncation and an extension with integrity', async () => {
    const keyring = await fileKeyring();
    const { blob } = await keyring.seal(Buffer.from('truncate me'), binding);
    for (let length = 0; length < blob.length; length++) {
      expect(
        (await rejection(keyring.open(blob.subarray(0, length), binding))).code,
        `length ${length}`,
      ).toBe('integrity');
    }
    expect((await rejection(keyring.open(Buffer.concat([blob, Buffer.from([0])]), binding))).code).toBe(
      'integrity',
    );
    expect(caught(() => keyring.kekIdOf(blob.subarray(0, 5))).code).toBe('integrity');
  });

  it('binds a blob to its secret id and version', async () => {
    const keyring = await fileKeyring();
    const { blob } = await keyring.seal(Buffer.from('bound'), binding);
    for (const other of [
      { ...binding, version: 2 },
      { ...binding, secretId: 'a8f1c2d3-0000-4000-8000-000000000001' },
    ]) {
      const err = await rejection(keyring.open(blob, other));
      expect(err.code).toBe('integrity');
      expect(err.message).toContain(other.secretId);
      expect(err.message).toContain(keyring.currentKeyId);
    }
  });

  it('fails to start with key_mismatch, naming the id, when a key has the right id but wrong bytes', async () => {
    const keyring = await fileKeyring();
    const { blob } = await keyring.seal(Buffer.from('only the right key opens this'), binding);
    const impostorPath = join(dir, 'impostor.json');
    const file = JSON.parse(readFileSync(keyFile(), 'utf8'));
    file.keys[0].key = randomBytes(32).toString('base64');
    writeFileSync(impostorPath, JSON.stringify(file), { mode: 0o600 });

    const err = await rejection(fileKeyring({}, impostorPath));
    expect(err.code).toBe('key_mismatch');
    expect(err.message).toContain(`key ${keyring.currentKeyId} from key file ${impostorPath} does not match`);
    expect(err.details).toMatchObject({ kekId: keyring.currentKeyId });

    const envErr = await rejection(
      envKeyring(`${keyring.currentKeyId}=${randomBytes(32).toString('base64')}`),
    );
    expect(envErr.code).toBe('key_mismatch');
    expect(envErr.message).toContain('environment variable COFFER_MASTER_KEY');

    // The same wrong key against a database that never saw the real one starts, but a blob
    // sealed with the real key fails with integrity naming the key id, never as garbage.
    const otherTestDb = await createTestDatabase(dialect);
    const otherDb = await openDatabase(otherTestDb.url);
    try {
      await migrateToLatest(otherDb);
      const impostor = await openKeyring({
        source: keyFileSource({ source: 'file', path: impostorPath }),
        database: otherDb,
      });
      const openErr = await rejection(impostor.open(blob, binding));
      expect(openErr.code).toBe('integrity');
      expect(openErr.message).toContain(keyring.currentKeyId);
      expect(openErr.message).toContain(binding.secretId);
    } finally {
      await otherDb.close();
      await otherTestDb.drop();
    }
  });

  it('reports a key it does not hold as key_unavailable and as missing in status', async () => {
    const fileRing = await fileKeyring();
    const { blob } = await fileRing.seal(Buffer.from('sealed by the file key'), binding);
    let heldId = '';
    const envRing = await envKeyring(randomBytes(32).toString('base64'), {
      // Referenced ids the keyring holds are not missing; a referenced id with a check row counts once.
      referencedKeyIds: async () => ['k-20200101-deadbeef', fileRing.currentKeyId, heldId],
    });
    heldId = envRing.currentKeyId;
    const err = await rejection(envRing.open(blob, binding));
    expect(err.code).toBe('key_unavailable');
    expect(err.message).toContain(`key ${fileRing.currentKeyId} is not in the keyring`);
    expect(err.details).toMatchObject({
      kekId: fileRing.currentKeyId,
      secretId: binding.secretId,
      version: 1,
    });
    expect((await rejection(envRing.rewrap(blob, binding))).code).toBe('key_unavailable');

    const status = await envRing.status();
    expect(status.missingKeyIds).toEqual([fileRing.currentKeyId, 'k-20200101-deadbeef'].sort());
    expect(status.keys.map((k) => k.id)).toEqual([envRing.currentKeyId]);
  });

  it('rotates: new seals use the new key, old blobs still open, rewrap moves them once', async () => {
    const keyring = await fileKeyring();
    const firstId = keyring.currentKeyId;
    const plaintext = Buffer.from('rotate around me');
    const old = await keyring.seal(plaintext, binding);

    const added = await keyring.rotate();
    expect(added.current).toBe(true);
    expect(added.id).not.toBe(firstId);
    expect(keyring.currentKeyId).toBe(added.id);
    const fresh = await keyring.seal(plaintext, binding);
    expect(fresh.kekId).toBe(added.id);
    expect((await keyring.open(old.blob, binding)).equals(plaintext)).toBe(true);
    expect((await keyring.open(fresh.blob, binding)).equals(plaintext)).toBe(true);

    const moved = await keyring.rewrap(old.blob, binding);
    expect(moved?.kekId).toBe(added.id);
    expect(keyring.kekIdOf(moved!.blob)).toBe(added.id);
    expect(dataPart(moved!.blob, plaintext.length).equals(dataPart(old.blob, plaintext.length))).toBe(true);
    expect((await keyring.open(moved!.blob, binding)).equals(plaintext)).toBe(true);
    expect(await keyring.rewrap(moved!.blob, binding)).toBeNull();
    expect(await keyring.rewrap(fresh.blob, binding)).toBeNull();
    expect((await rejection(keyring.rewrap(old.blob, { ...binding, version: 7 }))).code).toBe('integrity');

    const status = await keyring.status();
    expect(status).toMatchObject({
      source: { type: 'file', path: keyFile() },
      currentKeyId: added.id,
      canRotate: true,
      missingKeyIds: [],
    });
    expect(status.keys.map((k) => [k.id, k.current])).toEqual([
      [firstId, false],
      [added.id, true],
    ]);
    expect(await checkRowIds()).toEqual([firstId, added.id].sort());

    // A restart reads the rotated file, verifies both keys and opens everything.
    const reopened = await fileKeyring();
    expect(reopened.currentKeyId).toBe(added.id);
    expect((await reopened.open(old.blob, binding)).equals(plaintext)).toBe(true);
    expect((await reopened.open(moved!.blob, binding)).equals(plaintext)).toBe(true);
    expect((await reopened.status()).keys).toHaveLength(2);
  });

  it('keeps sealing while a rotation is in progress', async () => {
    const keyring = await fileKeyring();
    const plaintext = Buffer.from('busy');
    const sealed: { kekId: string; blob: Buffer }[] = [];
    let done = false;
    const rotation = keyring.rotate().finally(() => {
      done = true;
    });
    while (!done) {
      sealed.push(await keyring.seal(plaintext, binding));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const added = await rotation;
    sealed.push(await keyring.seal(plaintext, binding));
    expect(sealed.length).toBeGreaterThan(1);
    expect(sealed.at(-1)!.kekId).toBe(added.id);
    for (const s of sealed) expect((await keyring.open(s.blob, binding)).equals(plaintext)).toBe(true);
  });

  it('refuses to rotate env-sourced keys, explaining how', async () => {
    const keyring = await envKeyring(randomBytes(32).toString('base64'));
    const err = await rejection(keyring.rotate());
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain('COFFER_MASTER_KEY');
    const status = await keyring.status();
    expect(status.canRotate).toBe(false);
    expect(status.source).toEqual({ type: 'env', variable: 'COFFER_MASTER_KEY' });
  });

  it('opens env keys under stable ids and verifies them across restarts', async () => {
    const key = randomBytes(32).toString('base64');
    const first = await envKeyring(key);
    const { blob } = await first.seal(Buffer.from('x'), binding);
    const second = await envKeyring(`k-next=${randomBytes(32).toString('base64')},${key}`);
    expect(second.kekIdOf(blob)).toBe(first.currentKeyId);
    expect(second.currentKeyId).toBe('k-next');
    expect((await second.open(blob, binding)).toString()).toBe('x');
    expect((await second.rewrap(blob, binding))?.kekId).toBe('k-next');
  });

  it('lets two processes open a fresh database at once', async () => {
    const second = await openDatabase(testDb.url);
    try {
      const key = randomBytes(32).toString('base64');
      const source = () => keyEnvSource({ source: 'env' }, { env: { COFFER_MASTER_KEY: `k-shared=${key}` } });
      await Promise.all([
        openKeyring({ source: source(), database }),
        openKeyring({ source: source(), database: second }),
        openKeyring({ source: source(), database }),
      ]);
      expect(await checkRowIds()).toEqual(['k-shared']);

      // Two different keys racing for one id: exactly one may win.
      await database.db.deleteFrom('keyring_keys').execute();
      const results = await Promise.allSettled([
        envKeyring(`k-race=${randomBytes(32).toString('base64')}`),
        openKeyring({
          source: keyEnvSource(
            { source: 'env' },
            { env: { COFFER_MASTER_KEY: `k-race=${randomBytes(32).toString('base64')}` } },
          ),
          database: second,
        }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(failure.reason).toMatchObject({ code: 'key_mismatch' });
    } finally {
      await second.close();
    }
  });

  it('picks up a rotation made by a replica sharing the key file, at most once per interval', async () => {
    const a = await fileKeyring();
    const b = await fileKeyring();
    await a.rotate();
    const plaintext = Buffer.from('made on replica a');
    const fromA = await a.seal(plaintext, binding);
    expect((await b.open(fromA.blob, binding)).equals(plaintext)).toBe(true);
    // B also moves to the new current key, once it has checked it against the database.
    await vi.waitFor(() => expect(b.currentKeyId).toBe(a.currentKeyId));

    // Within the reload interval a second unknown key is not looked for again.
    await a.rotate();
    const again = await a.seal(plaintext, binding);
    expect((await rejection(b.open(again.blob, binding))).code).toBe('key_unavailable');
    const eager = await fileKeyring({ reloadIntervalMs: 0 });
    expect((await eager.open(again.blob, binding)).equals(plaintext)).toBe(true);
  });

  it('never writes plaintext or key material to an error or a log line', async () => {
    const lines: string[] = [];
    const logger: Logger = createLogger({
      level: 'trace',
      destination: { write: (l: string) => lines.push(l) },
    });
    const planted = 'PLANTED-d41d8cd98f00b204';
    const passphrase = 'planted passphrase 0xC0FFEE';
    const keyring = await fileKeyring({ logger });
    const rotated = await keyring.rotate();
    const { blob } = await keyring.seal(Buffer.from(planted), binding);
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 1;
    const envRing = await envKeyring(passphrase, { logger });
    const errors: unknown[] = [
      await rejection(keyring.open(blob, { ...binding, version: 9 })),
      await rejection(keyring.open(tampered, binding)),
      await rejection(envRing.open(blob, binding)),
      await rejection(envRing.rotate()),
      await rejection(envKeyring('short', { logger })),
    ];
    const impostorPath = join(dir, 'impostor.json');
    const file = JSON.parse(readFileSync(keyFile(), 'utf8'));
    const realKeys: string[] = file.keys.map((k: { key: string }) => k.key);
    file.keys[1].key = randomBytes(32).toString('base64');
    writeFileSync(impostorPath, JSON.stringify(file), { mode: 0o600 });
    errors.push(await rejection(fileKeyring({ logger }, impostorPath)));
    expect(rotated.id).toBe(file.keys[1].id);

    const forbidden = [
      planted,
      passphrase,
      ...[...realKeys, file.keys[1].key].flatMap((b64: string) => [
        b64,
        Buffer.from(b64, 'base64').toString('hex'),
      ]),
    ];
    const written = [
      ...lines,
      ...errors.map((e) => {
        const err = e as CofferError;
        return `${err.message} ${JSON.stringify(err.details)} ${String(err.cause ?? '')} ${err.stack}`;
      }),
    ].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const f of forbidden) expect(written).not.toContain(f);
  });
});
