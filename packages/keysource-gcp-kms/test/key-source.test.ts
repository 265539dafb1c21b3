import {
  type ExternalKeySource,
  loadKeySourceDefinition,
  openKeySource,
  parseKeySourceConfig,
  silentLogger,
} from '@coffer/core';
import gcpKms, {
  type CloudKmsClientLike,
  contextBytes,
  createCloudKmsClient,
  GcpKmsKeySource,
  gcpKmsConfigSchema,
} from '@coffer/keysource-gcp-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn, keySourceDefinitions, kmsDouble, rejectionOf } from './support.js';

// The key source alone against the double: what each Cloud KMS failure becomes.
const context = { 'coffer-deployment': 'd-1', 'coffer-secret': 's-1', 'coffer-version': '1' };

describe('the gcp-kms key source', () => {
  let kms: Awaited<ReturnType<typeof kmsDouble>>;
  let source: ExternalKeySource;

  const sourceWith = (settings: Record<string, unknown> = {}) => {
    const config = gcpKmsConfigSchema.parse({
      ...kms.settings,
      maxAttempts: 2,
      requestTimeoutMs: 300,
      rotationWaitSeconds: 1,
      ...settings,
    });
    return new GcpKmsKeySource(createCloudKmsClient(config) as unknown as CloudKmsClientLike, config, {
      logger: silentLogger(),
      clock: () => new Date(),
    });
  };

  /** Runs `fn` with Application Default Credentials pointed at another credential file. */
  const asIdentity = async <T>(file: string, fn: () => Promise<T>): Promise<T> => {
    const was = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    try {
      return await fn();
    } finally {
      process.env.GOOGLE_APPLICATION_CREDENTIALS = was;
    }
  };

  beforeAll(async () => {
    kms = await kmsDouble();
    source = sourceWith();
  });
  afterAll(async () => {
    await source?.close?.();
    await kms?.close();
    kms?.restoreEnv();
  });

  it('wraps, unwraps and re-wraps under the additional authenticated data, naming key and version', async () => {
    const current = await source.current();
    expect(current).toEqual({ keyId: kms.keyName, keyVersion: '1' });
    const { dataKey, wrapped } = await source.generateDataKey(current, context);
    expect(dataKey.length).toBe(32);
    expect(wrapped).toMatchObject({ keyId: kms.keyName, keyVersion: '1' });
    expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);

    for (const other of [{ ...context, 'coffer-version': '2' }, { ...context, 'coffer-secret': 's-2' }, {}]) {
      const wrong = await rejectionOf(source.unwrap(wrapped, other));
      expect(wrong.code).toBe('integrity');
      expect(wrong.details).toMatchObject({ keyId: kms.keyName, vendorCode: 'INVALID_ARGUMENT' });
    }
    // the same context in another key order is the same authenticated data
    const reordered = Object.fromEntries(Object.entries(context).reverse());
    expect((await source.unwrap(wrapped, reordered)).equals(dataKey)).toBe(true);
    expect(contextBytes(reordered).equals(contextBytes(context))).toBe(true);

    const rotated = await source.rotate!();
    expect(rotated).toEqual({ keyId: kms.keyName, keyVersion: '2' });
    expect(kms.faults.store.primaryOf(kms.keyName)).toBe(2);
    const moved = await source.rewrap(wrapped, context, rotated);
    expect(moved.keyVersion).toBe('2');
    expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
    // the old version still decrypts what it wrapped
    expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);

    // a primary changed elsewhere (a rotation schedule, an operator) is taken up without a new version
    const [made] = [kms.faults.store.createVersion(kms.keyName, { intEnums: false })];
    kms.faults.store.updatePrimaryVersion(kms.keyName, { cryptoKeyVersionId: '3' }, { intEnums: false });
    expect(made.name).toMatch(/cryptoKeyVersions\/3$/);
    kms.faults.resetCounts();
    expect(await source.rotate!()).toEqual({ keyId: kms.keyName, keyVersion: '3' });
    expect(kms.faults.requestCount('CreateCryptoKeyVersion')).toBe(0);
  });

  it('refuses a disabled or destroyed version when unwrapping, naming the key', async () => {
    const current = await source.current();
    const { wrapped } = await source.generateDataKey(current, context);
    const version = Number(current.keyVersion);
    kms.faults.store.setState(kms.keyName, version, 'DISABLED');
    const disabled = await rejectionOf(source.unwrap(wrapped, context));
    expect(disabled).toMatchObject({
      code: 'key_unavailable',
      details: { reason: 'key_disabled', vendorCode: 'FAILED_PRECONDITION', keyId: kms.keyName },
    });
    expect((await rejectionOf(source.current())).details.reason).toBe('key_disabled');
    kms.faults.store.setState(kms.keyName, version, 'ENABLED');
    expect((await source.unwrap(wrapped, context)).length).toBe(32);
  });

  it('turns each Cloud KMS failure into key_unavailable with a reason, never quoting Cloud KMS', async () => {
    const current = await source.current();
    const { wrapped } = await source.generateDataKey(current, context);

    kms.faults.inject({ kind: 'error', status: 'UNAVAILABLE' }, { rpc: 'Decrypt' });
    expect((await source.unwrap(wrapped, context)).length).toBe(32); // retried

    kms.faults.inject({ kind: 'error', status: 'RESOURCE_EXHAUSTED' }, { count: 2, rpc: 'Decrypt' });
    const throttled = await rejectionOf(source.unwrap(wrapped, context));
    expect(throttled).toMatchObject({
      code: 'key_unavailable',
      details: { reason: 'throttled', attempts: 2, vendorCode: 'RESOURCE_EXHAUSTED' },
    });

    kms.faults.inject({ kind: 'error', status: 'INTERNAL' }, { count: 2, rpc: 'Encrypt' });
    expect((await rejectionOf(source.generateDataKey(current, context))).details).toMatchObject({
      reason: 'server_error',
      attempts: 2,
    });

    kms.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 2, rpc: 'Decrypt' });
    expect((await rejectionOf(source.unwrap(wrapped, context))).details.reason).toBe('timeout');

    kms.faults.inject({ kind: 'drop' }, { count: 2, rpc: 'Decrypt' });
    expect((await rejectionOf(source.unwrap(wrapped, context))).details.reason).toBe('unreachable');
    kms.faults.clear();

    const missingName = kms.keyName.replace(/coffer$/, 'missing');
    const missing = sourceWith({ keyName: missingName });
    const notFound = await rejectionOf(missing.current());
    expect(notFound.details).toMatchObject({ reason: 'key_not_found', keyId: missingName });
    expect(notFound.message).toContain(`KMS key ${missingName} could not be used`);
    expect(everythingIn(notFound)).not.toContain('not found.');
    await missing.close?.();

    const otherProject = sourceWith({ keyName: kms.keyName.replace('coffer-double', 'someone-else') });
    expect((await rejectionOf(otherProject.current())).details.reason).toBe('permission_denied');
    await otherProject.close?.();

    const unreachable = sourceWith({ endpoint: 'http://127.0.0.1:9' });
    expect((await rejectionOf(unreachable.current())).details.reason).toBe('unreachable');
    await unreachable.close?.();
  });

  it('works with roles/cloudkms.cryptoKeyEncrypterDecrypter alone; rotating then is permission_denied', async () => {
    await asIdentity(kms.faults.credentialFiles.encrypterDecrypter, async () => {
      const narrow = sourceWith();
      try {
        const current = await narrow.current();
        const { dataKey, wrapped } = await narrow.generateDataKey(current, context);
        expect((await narrow.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        const denied = await rejectionOf(narrow.rotate!());
        expect(denied).toMatchObject({
          code: 'key_unavailable',
          details: { reason: 'permission_denied', vendorCode: 'PERMISSION_DENIED', keyId: kms.keyName },
        });
        expect(everythingIn(denied)).not.toContain('cloudkms.cryptoKeyVersions.create');
      } finally {
        await narrow.close?.();
      }
    });
    await asIdentity(kms.faults.credentialFiles.unknownIdentity, async () => {
      const stranger = sourceWith();
      try {
        const refused = await rejectionOf(stranger.current());
        expect(refused.details).toMatchObject({ reason: 'unauthenticated', vendorCode: 'invalid_grant' });
      } finally {
        await stranger.close?.();
      }
    });
  });

  it('validates its settings, naming each, and loads by type from its package', async () => {
    const err = await rejectionOf(
      openKeySource(
        parseKeySourceConfig({ source: 'gcp-kms', keyName: 'coffer', endpoint: 'ftp://x', extra: 1 }),
        { definitions: keySourceDefinitions },
      ),
    );
    expect(err.code).toBe('invalid_config');
    const issues = (err.details.issues as { path: string }[]).map((i) => i.path).sort();
    expect(issues).toEqual(['keyring', 'keyring.endpoint', 'keyring.keyName']);
    expect(
      gcpKmsConfigSchema.parse({ keyName: 'projects/acme-1/locations/europe-west1/keyRings/r/cryptoKeys/k' }),
    ).toMatchObject({ maxAttempts: 4, requestTimeoutMs: 5000, rotationWaitSeconds: 60 });

    const loaded = await loadKeySourceDefinition('gcp-kms');
    expect(loaded.id).toBe(gcpKms.id);
    expect(loaded.displayName).toBe('Google Cloud KMS');
  });
});
