import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CofferError } from '../errors/coffer-error.js';
import { movableClock } from '../identity/test-support/identity-fixture.js';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrator.js';
import { createTestDatabase, type TestDatabase } from '../test-support/databases.js';
import {
  DataKeyCache,
  defineKeySource,
  type ExternalKey,
  type ExternalKeySource,
  externalKekId,
  isKeySourceOutage,
  type KeySourceFailureReason,
  keyEnvSource,
  keySourceFailure,
  keySourcePackages,
  loadKeySourceDefinition,
  openKeyring,
  openKeySource,
  parseKeySourceConfig,
  type SealBinding,
  type WrapContext,
  type WrappedDataKey,
} from './index.js';

const binding: SealBinding = { secretId: '3e0c8a51-1f6b-4c2d-9a7e-8b5d4f3c2a10', version: 1 };
const deploymentId = 'd-5b0c6f1e';

/**
 * A KMS in miniature: keys with versions of AES key material that never leave it, wrapping with
 * the context as associated data, counting calls, and able to go down.
 */
class ToyKms {
  readonly keys = new Map<string, { versions: Buffer[]; enabled: boolean }>();
  calls = { generate: 0, unwrap: 0, rewrap: 0 };
  down = false;

  create(keyId: string): void {
    this.keys.set(keyId, { versions: [randomBytes(32)], enabled: true });
  }

  rotate(keyId: string): void {
    this.keys.get(keyId)!.versions.push(randomBytes(32));
  }

  #key(keyId: string, operation: string, version?: number) {
    if (this.down) this.#fail(keyId, operation, 'unreachable');
    const key = this.keys.get(keyId);
    if (key === undefined) return this.#fail(keyId, operation, 'key_not_found');
    if (!key.enabled) return this.#fail(keyId, operation, 'key_disabled');
    const v = version ?? key.versions.length - 1;
    const material = key.versions[v];
    if (material === undefined) return this.#fail(keyId, operation, 'key_not_found');
    return { material, version: v };
  }

  #fail(keyId: string, operation: string, reason: KeySourceFailureReason): never {
    throw keySourceFailure({ source: `toy KMS key ${keyId}`, operation, keyId, reason, vendorCode: 'Toy' });
  }

  wrap(keyId: string, dataKey: Buffer, context: WrapContext): WrappedDataKey {
    const { material, version } = this.#key(keyId, 'wrap');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', material, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(Object.entries(context).sort())));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return {
      keyId,
      keyVersion: `v${version}`,
      ciphertext: Buffer.concat([Buffer.from([version]), iv, cipher.getAuthTag(), body]),
    };
  }

  unwrap(wrapped: WrappedDataKey, context: WrapContext): Buffer {
    const { material } = this.#key(wrapped.keyId, 'unwrap', wrapped.ciphertext[0]);
    const c = wrapped.ciphertext;
    try {
      const decipher = createDecipheriv('aes-256-gcm', material, c.subarray(1, 13));
      decipher.setAAD(Buffer.from(JSON.stringify(Object.entries(context).sort())));
      decipher.setAuthTag(c.subarray(13, 29));
      return Buffer.concat([decipher.update(c.subarray(29)), decipher.final()]);
    } catch {
      throw new CofferError('integrity', 'the toy KMS could not authenticate the wrapped key');
    }
  }

  source(configured: string): ExternalKeySource {
    let current = configured;
    return {
      type: 'toy-kms',
      description: `toy KMS key ${configured}`,
      configuredKey: configured,
      canRotate: true,
      current: async () => {
        const { version } = this.#key(current, 'describe');
        return { keyId: current, keyVersion: `v${version}` };
      },
      generateDataKey: async (key: ExternalKey, context) => {
        this.calls.generate++;
        const dataKey = randomBytes(32);
        return { dataKey, wrapped: this.wrap(key.keyId, dataKey, context) };
      },
      unwrap: async (wrapped, context) => {
        this.calls.unwrap++;
        return this.unwrap(wrapped, context);
      },
      rewrap: async (wrapped, context, to) => {
        this.calls.rewrap++;
        const dataKey = this.unwrap(wrapped, context);
        try {
          return this.wrap(to.keyId, dataKey, context);
        } finally {
          dataKey.fill(0);
        }
      },
      rotate: async () => {
        this.rotate(current);
        const { version } = this.#key(current, 'rotate');
        return { keyId: current, keyVersion: `v${version}` };
      },
      // lets a test point the source at another key, as retargeting an alias does
      close: async () => {
        current = configured;
      },
    };
  }
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

describe('keyring on a KMS key source', () => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  let kms: ToyKms;
  const time = movableClock();

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    database = await openDatabase(testDb.url);
    await migrateToLatest(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('keyring_keys').execute();
    kms = new ToyKms();
    kms.create('key-a');
  });
  const opened: { close?(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const k of opened.splice(0)) await k.close?.();
  });

  const open = async (keyId = 'key-a', cache = { maxEntries: 100, ttlSeconds: 60 }) => {
    const keyring = await openKeyring({
      source: kms.source(keyId),
      database,
      deploymentId,
      clock: time.clock,
      cache,
    });
    opened.push(keyring);
    return keyring;
  };

  it('seals through the KMS, opens from the cache, and records the key and version in the blob', async () => {
    const keyring = await open();
    const kekId = externalKekId('toy-kms', { keyId: 'key-a', keyVersion: 'v0' });
    expect(keyring.currentKeyId).toBe(kekId);
    const plaintext = Buffer.from('{"password":"kms ✓"}');
    const sealed = await keyring.seal(plaintext, binding);
    expect(sealed.kekId).toBe(kekId);
    expect(keyring.kekIdOf(sealed.blob)).toBe(kekId);
    expect(sealed.blob[4]).toBe(2);
    expect(sealed.blob.includes(Buffer.from('key-a'))).toBe(true);

    kms.calls.unwrap = 0;
    for (let i = 0; i < 5; i++)
      expect((await keyring.open(sealed.blob, binding)).equals(plaintext)).toBe(true);
    expect(kms.calls.unwrap).toBe(0);

    // Another process (a cold cache) asks the KMS once, then serves from its cache.
    const other = await open();
    kms.calls.unwrap = 0;
    expect((await other.open(sealed.blob, binding)).equals(plaintext)).toBe(true);
    expect((await other.open(sealed.blob, binding)).equals(plaintext)).toBe(true);
    expect(kms.calls.unwrap).toBe(1);

    const status = await keyring.status();
    expect(status.source).toEqual({ type: 'kms', provider: 'toy-kms', key: 'key-a' });
    expect(status.keys).toEqual([
      expect.objectContaining({ id: kekId, current: true, external: { keyId: 'key-a', keyVersion: 'v0' } }),
    ]);
    expect(status.canRotate).toBe(true);
  });

  it('keeps the cache bounded in entries and in time', async () => {
    const keyring = await open('key-a', { maxEntries: 2, ttlSeconds: 30 });
    const refs = [1, 2, 3].map((version) => ({ ...binding, version }));
    const blobs = [];
    for (const ref of refs) blobs.push((await keyring.seal(Buffer.from(`v${ref.version}`), ref)).blob);
    kms.calls.unwrap = 0;
    // The first seal was evicted by the third (two entries at most).
    await keyring.open(blobs[0]!, refs[0]!);
    expect(kms.calls.unwrap).toBe(1);
    await keyring.open(blobs[0]!, refs[0]!);
    expect(kms.calls.unwrap).toBe(1);

    time.advance(31);
    await keyring.open(blobs[0]!, refs[0]!);
    expect(kms.calls.unwrap).toBe(2);

    const cache = new DataKeyCache({ maxEntries: 2, ttlSeconds: 10 }, time.clock);
    const a = Buffer.alloc(32, 1);
    cache.set('a', a);
    let held: Buffer | undefined;
    cache.use('a', (k) => {
      held = k;
    });
    expect(held?.equals(a)).toBe(true);
    cache.set('b', a);
    cache.set('c', a);
    expect(cache.size).toBe(2);
    expect(held?.equals(Buffer.alloc(32))).toBe(true); // the evicted key was zeroed
    time.advance(11);
    expect(cache.sweep()).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('fails reveals closed when the KMS is down, serves cached keys within their TTL, and recovers', async () => {
    const keyring = await open('key-a', { maxEntries: 100, ttlSeconds: 30 });
    const cachedRef = { ...binding, version: 1 };
    const coldRef = { ...binding, version: 2 };
    const cached = await keyring.seal(Buffer.from('cached'), cachedRef);
    const cold = await keyring.seal(Buffer.from('cold'), coldRef);
    const restarted = await open('key-a', { maxEntries: 100, ttlSeconds: 30 });
    expect((await restarted.open(cached.blob, cachedRef)).toString()).toBe('cached');

    kms.down = true;
    const err = await rejection(restarted.open(cold.blob, coldRef));
    expect(err.code).toBe('key_unavailable');
    expect(err.details).toMatchObject({ reason: 'unreachable', keyId: 'key-a', secretId: binding.secretId });
    expect(err.message).toContain('KMS key key-a could not unwrap a data key');
    expect(isKeySourceOutage(err)).toBe(true);
    expect((await rejection(restarted.seal(Buffer.from('x'), binding))).code).toBe('key_unavailable');
    // within its TTL the cached key still serves; past it, the reveal fails closed too
    expect((await restarted.open(cached.blob, cachedRef)).toString()).toBe('cached');
    time.advance(31);
    expect((await rejection(restarted.open(cached.blob, cachedRef))).code).toBe('key_unavailable');

    kms.down = false;
    expect((await restarted.open(cold.blob, coldRef)).toString()).toBe('cold');
    expect((await restarted.open(cached.blob, cachedRef)).toString()).toBe('cached');
  });

  it('never opens a blob with a flipped byte, a wrong binding or a foreign header', async () => {
    const keyring = await open('key-a', { maxEntries: 0, ttlSeconds: 0 });
    const plaintext = Buffer.from('flip me');
    const { blob } = await keyring.seal(plaintext, binding);
    for (let i = 0; i < blob.length; i++) {
      const flipped = Buffer.from(blob);
      flipped[i]! ^= 0x01;
      const err = await rejection(keyring.open(flipped, binding));
      expect(['integrity', 'key_unavailable'], `byte ${i}`).toContain(err.code);
    }
    for (let length = 0; length < blob.length; length++) {
      expect(['integrity'], `length ${length}`).toContain(
        (await rejection(keyring.open(blob.subarray(0, length), binding))).code,
      );
    }
    expect((await rejection(keyring.open(blob, { ...binding, version: 2 }))).code).toBe('integrity');

    // A value sealed with a local key (key file or variable) is not in a KMS keyring.
    const local = await openKeyring({
      source: keyEnvSource(
        { source: 'env' },
        { env: { COFFER_MASTER_KEY: `k-local=${randomBytes(32).toString('base64')}` } },
      ),
      database,
    });
    const old = await local.seal(plaintext, binding);
    const err = await rejection(keyring.open(old.blob, binding));
    expect(err.code).toBe('key_unavailable');
    expect(err.message).toContain('key k-local is not in the keyring');
    // ...and the other way round, a KMS-wrapped value is not in a local keyring.
    expect((await rejection(local.open(blob, binding))).code).toBe('key_unavailable');
  });

  it('rotates to new key material and re-wraps old blobs, which keep opening meanwhile', async () => {
    const keyring = await open();
    const first = keyring.currentKeyId;
    const plaintext = Buffer.from('rotate me');
    const old = await keyring.seal(plaintext, binding);

    const added = await keyring.rotate();
    expect(added).toMatchObject({ current: true, external: { keyId: 'key-a', keyVersion: 'v1' } });
    expect(added.id).not.toBe(first);
    expect(keyring.currentKeyId).toBe(added.id);
    expect((await keyring.open(old.blob, binding)).equals(plaintext)).toBe(true);

    const moved = await keyring.rewrap(old.blob, binding);
    expect(moved?.kekId).toBe(added.id);
    // the ciphertext part is untouched
    expect(
      moved!.blob
        .subarray(-(12 + 16 + plaintext.length))
        .equals(old.blob.subarray(-(12 + 16 + plaintext.length))),
    ).toBe(true);
    expect((await keyring.open(moved!.blob, binding)).equals(plaintext)).toBe(true);
    expect(await keyring.rewrap(moved!.blob, binding)).toBeNull();
    expect((await keyring.status()).keys.map((k) => [k.id, k.current])).toEqual([
      [first, false],
      [added.id, true],
    ]);

    // A restart opens both versions' check values and keeps the newest current.
    const restarted = await open();
    expect(restarted.currentKeyId).toBe(added.id);
  });

  it('moves to another key named in the settings without losing the old one, and names a missing key at start', async () => {
    const keyring = await open();
    const sealed = await keyring.seal(Buffer.from('from key a'), binding);
    kms.create('key-b');
    const onB = await open('key-b');
    expect(onB.currentKeyId).not.toBe(keyring.currentKeyId);
    expect((await onB.open(sealed.blob, binding)).toString()).toBe('from key a');
    const moved = await onB.rewrap(sealed.blob, binding);
    expect(moved?.kekId).toBe(onB.currentKeyId);

    const err = await rejection(open('key-nope'));
    expect(err.code).toBe('key_unavailable');
    expect(err.details).toMatchObject({ reason: 'key_not_found', keyId: 'key-nope' });
    expect(err.message).toContain('key-nope');

    kms.keys.get('key-b')!.enabled = false;
    const disabled = await rejection(open('key-b'));
    expect(disabled.details).toMatchObject({ reason: 'key_disabled', keyId: 'key-b' });
  });

  it('opens values sealed with the previous key variable, and re-wraps them into the KMS', async () => {
    const env = { COFFER_MASTER_KEY: `k-before=${randomBytes(32).toString('base64')}` };
    const local = await openKeyring({ source: keyEnvSource({ source: 'env' }, { env }), database });
    const old = await local.seal(Buffer.from('sealed before the KMS'), binding);
    const keyring = await openKeyring({
      source: kms.source('key-a'),
      previous: keyEnvSource({ source: 'env' }, { env }),
      database,
      deploymentId,
      clock: time.clock,
    });
    opened.push(keyring);
    expect((await keyring.open(old.blob, binding)).toString()).toBe('sealed before the KMS');
    const moved = await keyring.rewrap(old.blob, binding);
    expect(moved?.kekId).toBe(keyring.currentKeyId);
    expect(moved?.blob[4]).toBe(2);
    expect((await keyring.open(moved!.blob, binding)).toString()).toBe('sealed before the KMS');
    const status = await keyring.status();
    expect(status.missingKeyIds).toEqual([]);
    expect(status.keys.map((k) => [k.id, k.current])).toContainEqual(['k-before', false]);
  });

  it('refuses different key material under a known key id with key_mismatch', async () => {
    await open();
    kms.keys.get('key-a')!.versions[0] = randomBytes(32);
    const err = await rejection(open());
    expect(err.code).toBe('key_mismatch');
    expect(err.message).toContain('KMS key key-a (version v0)');
  });
});

describe('KMS key source settings and packages', () => {
  const toy = defineKeySource({
    id: 'toy-kms',
    displayName: 'Toy KMS',
    configSchema: z.strictObject({ keyId: z.string().min(1) }),
    create: (config) => new ToyKms().source(config.keyId),
  });

  it('validates the package settings and the cache, naming each setting', async () => {
    const config = parseKeySourceConfig({
      source: 'toy-kms',
      keyId: '',
      cache: { maxEntries: -1 },
      extra: 1,
    });
    const err = await rejection(openKeySource(config, { definitions: [toy] }));
    expect(err.code).toBe('invalid_config');
    expect(err.details.issues?.map((i) => i.path).sort()).toEqual([
      'keyring',
      'keyring.cache.maxEntries',
      'keyring.keyId',
    ]);

    const ok = await openKeySource(parseKeySourceConfig({ source: 'toy-kms', keyId: 'k' }), {
      definitions: [toy],
    });
    expect(ok.cache).toEqual({ maxEntries: 1000, ttlSeconds: 300 });
    expect(ok.source.description).toBe('toy KMS key k');
  });

  it('checks keyring.previous, and refuses a previous key file that is not there', async () => {
    const bad = await rejection(
      openKeySource(
        parseKeySourceConfig({
          source: 'toy-kms',
          keyId: 'k',
          previous: { source: 'env', variable: '1-bad' },
        }),
        { definitions: [toy] },
      ),
    );
    expect(bad.details.issues?.map((i) => i.path)).toEqual(['keyring.previous.variable']);
    const { source, previous } = await openKeySource(
      parseKeySourceConfig({
        source: 'toy-kms',
        keyId: 'k',
        previous: { source: 'file', path: '/nonexistent/keyring.json' },
      }),
      { definitions: [toy] },
    );
    expect(previous?.canRotate).toBe(false);
    const testDb = await createTestDatabase('sqlite');
    const db = await openDatabase(testDb.url);
    try {
      await migrateToLatest(db);
      const missing = await rejection(
        openKeyring({ source, previous: previous!, database: db, deploymentId }),
      );
      expect(missing.code).toBe('invalid_config');
      expect(missing.details.issues?.[0]?.path).toBe('keyring.previous.path');
    } finally {
      await db.close();
      await testDb.drop();
    }
  });

  it('maps key source types to their packages, and refuses an unknown type naming keyring.source', async () => {
    expect(keySourcePackages).toEqual({
      'aws-kms': '@coffer/keysource-aws-kms',
      'gcp-kms': '@coffer/keysource-gcp-kms',
      'azure-key-vault': '@coffer/keysource-azure-key-vault',
      'vault-transit': '@coffer/keysource-vault-transit',
    });
    const unknown = await rejection(loadKeySourceDefinition('hsm-9000'));
    expect(unknown.code).toBe('invalid_config');
    expect(unknown.message).toContain('unknown key source hsm-9000');
    expect(unknown.details.issues?.[0]?.path).toBe('keyring.source');
  });
});
