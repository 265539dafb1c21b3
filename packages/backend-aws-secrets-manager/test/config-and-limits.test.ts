import { startFailure } from '@coffer/aws-store-kit/testing';
import awsSecretsManager, { awsSecretsManagerLimits } from '@coffer/backend-aws-secrets-manager';
import type { BackendDefinition } from '@coffer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

const startError = (settings: Record<string, unknown>, more: Record<string, unknown> = {}) =>
  startFailure(awsSecretsManager as BackendDefinition, 'aws-secrets-manager', settings, more);

describe('aws-secrets-manager settings', () => {
  it('refuses bad settings with invalid_config naming each one', async () => {
    const err = await startError({
      region: 'Mars-1',
      endpoint: 'ftp://example.com',
      recoveryWindowDays: 3,
      writesPerSecond: -1,
      secretAccessKey: 'never-in-config',
    });
    expect(err.code).toBe('invalid_config');
    for (const path of [
      'backends.store.region',
      'backends.store.endpoint',
      'backends.store.recoveryWindowDays',
      'backends.store.writesPerSecond',
    ]) {
      expect(err.message).toContain(path);
    }
    // credentials are not settings: an unknown key is refused, and its value is not echoed
    expect(err.message).toContain('secretAccessKey');
    expect(err.message).not.toContain('never-in-config');
  });

  it('needs a region', async () => {
    const err = await startError({});
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.store.region');
  });

  it('refuses a recovery window together with forceDeleteWithoutRecovery', async () => {
    const err = await startError({
      region: 'eu-central-1',
      recoveryWindowDays: 10,
      forceDeleteWithoutRecovery: true,
    });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.store.recoveryWindowDays');
  });

  it('fills in the defaults', () => {
    expect(awsSecretsManager.configSchema.parse({ region: 'eu-central-1' })).toEqual({
      region: 'eu-central-1',
      forceDeleteWithoutRecovery: false,
      maxAttempts: 5,
      requestTimeoutMs: 10_000,
    });
  });

  it('refuses versions.keep above what the staging-label quota allows', async () => {
    const err = await startError({ region: 'eu-central-1' }, { versions: { keep: 17 } });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('versions.keep');
  });
});

describe('aws-secrets-manager limits', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble();
  });
  afterAll(() => made?.close());

  it('declares 64 KiB and 17 versions (20 staging labels less AWSCURRENT, AWSPREVIOUS, AWSPENDING)', () => {
    expect(awsSecretsManagerLimits).toEqual({ maxValueBytes: 65_536, maxVersionsPerSecret: 17 });
    expect(made.backend.limits).toEqual(awsSecretsManagerLimits);
  });

  it('refuses an oversized value with payload_too_large before sending anything', async () => {
    made.double.faults.resetCounts();
    const planted = `PLANTED-${'z'.repeat(70_000)}`;
    const ref = { secretId: '11111111-2222-4333-8444-555555555555', version: 1 };
    const err = await made.backend.put(ref, { blob: planted }).then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e as Error & { code: string },
    );
    expect(err.code).toBe('payload_too_large');
    expect(err.message).not.toContain('PLANTED');
    expect(made.double.faults.requestCount()).toBe(0);
  });

  it('stores exactly 65,536 bytes (the SecretString quota)', async () => {
    const ref = { secretId: '11111111-2222-4333-8444-666666666666', version: 1 };
    const blob = 'a'.repeat(65_536 - '{"b":""}'.length);
    await made.backend.put(ref, { b: blob });
    expect(await made.backend.get(ref)).toEqual({ b: blob });
  });

  it('keeps 17 versions of one secret within the 20-label quota, plus one replaced in place', async () => {
    const secretId = '11111111-2222-4333-8444-777777777777';
    for (let version = 1; version <= 17; version++)
      await made.backend.put({ secretId, version }, { version });
    await made.backend.put({ secretId, version: 17 }, { version: 'again' });
    expect(await made.backend.get({ secretId, version: 1 })).toEqual({ version: 1 });
    expect(await made.backend.get({ secretId, version: 17 })).toEqual({ version: 'again' });
    // an 18th still fits (AWSPENDING is not in use here): 20 labels; a 19th is past the quota
    await made.backend.put({ secretId, version: 18 }, { version: 18 });
    const err = await made.backend.put({ secretId, version: 19 }, { version: 19 }).then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
    );
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'limit_exceeded', vendorCode: 'LimitExceededException' });
  });
});
