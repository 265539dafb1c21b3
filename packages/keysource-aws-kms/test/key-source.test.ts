import { everythingIn, rejectionOf } from '@coffer/aws-store-kit/testing';
import {
  type ExternalKeySource,
  loadKeySourceDefinition,
  openKeySource,
  parseKeySourceConfig,
  silentLogger,
} from '@coffer/core';
import awsKms, { AwsKmsKeySource, awsKmsConfigSchema, createKmsClient } from '@coffer/keysource-aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySourceDefinitions, kmsDouble } from './support.js';

// The key source alone against the double: what each KMS failure becomes.
const context = { 'coffer-deployment': 'd-1', 'coffer-secret': 's-1', 'coffer-version': '1' };

describe('the aws-kms key source', () => {
  let kms: Awaited<ReturnType<typeof kmsDouble>>;
  let source: ExternalKeySource;

  const sourceWith = (settings: Record<string, unknown> = {}) => {
    const config = awsKmsConfigSchema.parse({
      ...kms.settings,
      maxAttempts: 2,
      requestTimeoutMs: 300,
      ...settings,
    });
    return new AwsKmsKeySource(createKmsClient(config), config, {
      logger: silentLogger(),
      clock: () => new Date(),
    });
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

  it('wraps, unwraps and re-wraps with the encryption context, naming key and key material', async () => {
    const current = await source.current();
    expect(current.keyId).toBe(kms.keyArn);
    expect(current.keyVersion).toMatch(/^[0-9a-f]{64}$/);
    const { dataKey, wrapped } = await source.generateDataKey(current, context);
    expect(dataKey.length).toBe(32);
    expect(wrapped).toMatchObject({ keyId: kms.keyArn, keyVersion: current.keyVersion });
    expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);

    const wrong = await rejectionOf(source.unwrap(wrapped, { ...context, 'coffer-version': '2' }));
    expect(wrong.code).toBe('integrity');
    expect(wrong.details).toMatchObject({ keyId: kms.keyArn, vendorCode: 'InvalidCiphertextException' });

    const rotated = await source.rotate!();
    expect(rotated.keyId).toBe(kms.keyArn);
    expect(rotated.keyVersion).not.toBe(current.keyVersion);
    const moved = await source.rewrap(wrapped, context, rotated);
    expect(moved.keyVersion).toBe(rotated.keyVersion);
    expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
  });

  it('turns each KMS failure into key_unavailable with a reason, never quoting KMS', async () => {
    const current = await source.current();
    const { wrapped } = await source.generateDataKey(current, context);

    kms.faults.inject(
      { kind: 'error', status: 500, code: 'KeyUnavailableException' },
      { operation: 'Decrypt' },
    );
    expect((await source.unwrap(wrapped, context)).length).toBe(32); // retried

    kms.faults.inject(
      { kind: 'error', status: 400, code: 'ThrottlingException' },
      { count: 2, operation: 'Decrypt' },
    );
    const throttled = await rejectionOf(source.unwrap(wrapped, context));
    expect(throttled).toMatchObject({
      code: 'key_unavailable',
      details: { reason: 'throttled', attempts: 2 },
    });

    kms.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 2, operation: 'Decrypt' });
    expect((await rejectionOf(source.unwrap(wrapped, context))).details.reason).toBe('timeout');
    kms.faults.clear();

    const readOnly = sourceWith();
    const restore = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = kms.faults.readOnlyCredentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = kms.faults.readOnlyCredentials.secretAccessKey;
    try {
      const denied = await rejectionOf(readOnly.generateDataKey(current, context));
      expect(denied).toMatchObject({
        code: 'key_unavailable',
        details: { reason: 'permission_denied', vendorCode: 'AccessDeniedException', keyId: kms.keyArn },
      });
      expect(everythingIn(denied)).not.toContain('is not authorized');
      process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
      const unknown = sourceWith();
      expect((await rejectionOf(unknown.current())).details.reason).toBe('unauthenticated');
      await unknown.close?.();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = restore;
      process.env.AWS_SECRET_ACCESS_KEY = kms.env.AWS_SECRET_ACCESS_KEY;
      await readOnly.close?.();
    }

    const missing = sourceWith({ keyId: 'alias/missing' });
    const notFound = await rejectionOf(missing.current());
    expect(notFound.details).toMatchObject({ reason: 'key_not_found', keyId: 'alias/missing' });
    expect(notFound.message).toContain('KMS key alias/missing could not be used');
    await missing.close?.();

    const unreachable = sourceWith({ endpoint: 'http://127.0.0.1:9' });
    expect((await rejectionOf(unreachable.current())).details.reason).toBe('unreachable');
    await unreachable.close?.();
  });

  it('validates its settings, naming each, and loads by type from its package', async () => {
    const err = await rejectionOf(
      openKeySource(parseKeySourceConfig({ source: 'aws-kms', keyId: 'my key', region: 'Mars', extra: 1 }), {
        definitions: keySourceDefinitions,
      }),
    );
    expect(err.code).toBe('invalid_config');
    const issues = (err.details.issues as { path: string }[]).map((i) => i.path).sort();
    expect(issues).toEqual(['keyring', 'keyring.keyId', 'keyring.region']);
    expect(
      awsKmsConfigSchema.parse({ keyId: 'arn:aws:kms:eu-west-1:111122223333:alias/coffer' }),
    ).toMatchObject({
      maxAttempts: 4,
      requestTimeoutMs: 5000,
    });

    const loaded = await loadKeySourceDefinition('aws-kms');
    expect(loaded.id).toBe(awsKms.id);
    expect(loaded.displayName).toBe('AWS KMS');
  });
});
