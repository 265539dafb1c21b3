import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { rejectionOf, sdkSettingsFor, startFailure } from '@coffer/aws-store-kit/testing';
import awsSsm, { awsSsmLimits, defaultWritesPerSecond } from '@coffer/backend-aws-ssm';
import { doubleKmsKey } from '@coffer/backend-aws-ssm/double';
import type { BackendDefinition } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

const definitions = [awsSsm as BackendDefinition];
const id = (n: number) => `22222222-0000-4000-8000-${String(n).padStart(12, '0')}`;

const startError = (settings: Record<string, unknown>, more: Record<string, unknown> = {}) =>
  startFailure(awsSsm as BackendDefinition, 'aws-ssm', settings, more);

/** Tier and key of each parameter, as DescribeParameters reports them. */
async function describeAll(made: Awaited<ReturnType<typeof backendOnDouble>>) {
  const sdk = new SSMClient(sdkSettingsFor(made.double));
  try {
    const out = await sdk.send(new DescribeParametersCommand({ MaxResults: 50 }));
    return new Map((out.Parameters ?? []).map((p) => [p.Name, { tier: p.Tier, keyId: p.KeyId }]));
  } finally {
    sdk.destroy();
  }
}

describe('aws-ssm settings', () => {
  it('refuses bad settings with invalid_config naming each one', async () => {
    const err = await startError({
      region: 'Mars-1',
      endpoint: 'ftp://example.com',
      tier: 'Premium',
      kmsKeyId: '',
      writesPerSecond: -1,
      secretAccessKey: 'never-in-config',
    });
    expect(err.code).toBe('invalid_config');
    for (const path of [
      'backends.store.region',
      'backends.store.endpoint',
      'backends.store.tier',
      'backends.store.kmsKeyId',
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

  it('fills in the defaults: Standard tier, 2 writes a second', () => {
    expect(awsSsm.configSchema.parse({ region: 'eu-central-1' })).toEqual({
      region: 'eu-central-1',
      tier: 'Standard',
      maxAttempts: 5,
      requestTimeoutMs: 10_000,
    });
    expect(defaultWritesPerSecond).toBe(2);
  });

  it('refuses a cluster prefix that Parameter Store reserves (aws..., ssm...)', async () => {
    const err = await startError({ region: 'eu-central-1' }, { clusterPrefix: 'ssm-prod' });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('clusterPrefix');
  });

  it('takes any versions.keep: each version is a parameter of its own', async () => {
    const fx = await createCofferFixture(
      'sqlite',
      {
        backends: { ssm: { type: 'aws-ssm', region: 'eu-central-1' } },
        backend: 'ssm',
        versions: { keep: 150 },
      },
      { backendDefinitions: definitions },
    );
    await fx.close();
  });
});

describe('aws-ssm limits', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, clusterPrefix: 'limits' });
  });
  afterAll(() => made?.close());

  it('declares the value size of its tier: 4 KB Standard, 8 KB Advanced and Intelligent-Tiering', () => {
    expect(made.backend.limits).toEqual({ maxValueBytes: 4096 });
    expect(awsSsmLimits({ tier: 'Advanced' })).toEqual({ maxValueBytes: 8192 });
    expect(awsSsmLimits({ tier: 'Intelligent-Tiering' })).toEqual({ maxValueBytes: 8192 });
  });

  it('refuses an oversized value with payload_too_large before sending anything', async () => {
    made.double.faults.resetCounts();
    const planted = `PLANTED-${'z'.repeat(5_000)}`;
    const err = await rejectionOf(made.backend.put({ secretId: id(1), version: 1 }, { blob: planted }));
    expect(err.code).toBe('payload_too_large');
    expect(err.message).not.toContain('PLANTED');
    expect(made.double.faults.requestCount()).toBe(0);
  });

  it('stores exactly 4096 bytes in a standard parameter', async () => {
    const ref = { secretId: id(2), version: 1 };
    const blob = 'a'.repeat(4096 - '{"b":""}'.length);
    await made.backend.put(ref, { b: blob });
    expect(await made.backend.get(ref)).toEqual({ b: blob });
    expect((await describeAll(made)).get(`/limits/${id(2)}/v1`)?.tier).toBe('Standard');
  });

  it('stores 8 KB in advanced parameters, and intelligent tiering upgrades only what needs it', async () => {
    const advanced = await backendOnDouble(
      { writesPerSecond: 0, tier: 'Advanced' },
      { throttle: false, clusterPrefix: 'adv' },
    );
    const smart = await backendOnDouble(
      { writesPerSecond: 0, tier: 'Intelligent-Tiering' },
      { throttle: false, clusterPrefix: 'smart' },
    );
    try {
      const blob = 'b'.repeat(8192 - '{"b":""}'.length);
      await advanced.backend.put({ secretId: id(3), version: 1 }, { b: blob });
      expect(await advanced.backend.get({ secretId: id(3), version: 1 })).toEqual({ b: blob });
      await expect(
        advanced.backend.put({ secretId: id(3), version: 2 }, { b: `${blob}x` }),
      ).rejects.toMatchObject({ code: 'payload_too_large' });
      expect((await describeAll(advanced)).get(`/adv/${id(3)}/v1`)?.tier).toBe('Advanced');

      await smart.backend.put({ secretId: id(4), version: 1 }, { small: true });
      await smart.backend.put({ secretId: id(4), version: 2 }, { b: blob });
      const tiers = await describeAll(smart);
      expect(tiers.get(`/smart/${id(4)}/v1`)?.tier).toBe('Standard');
      expect(tiers.get(`/smart/${id(4)}/v2`)?.tier).toBe('Advanced');
    } finally {
      await advanced.close();
      await smart.close();
    }
  });

  it('reports the standard-parameter quota as limit_exceeded, and nothing is half-written', async () => {
    const small = await backendOnDouble(
      { writesPerSecond: 0 },
      { throttle: false, standardParameterLimit: 3, clusterPrefix: 'full' },
    );
    try {
      for (let v = 1; v <= 3; v++) await small.backend.put({ secretId: id(5), version: v }, { v });
      const err = await rejectionOf(small.backend.put({ secretId: id(5), version: 4 }, { v: 4 }));
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({ reason: 'limit_exceeded', vendorCode: 'ParameterLimitExceeded' });
      expect(await small.backend.list({ secretId: id(5) })).toEqual(
        [1, 2, 3].map((version) => ({ secretId: id(5), version })),
      );
      // deleting one makes room again
      await small.backend.delete({ secretId: id(5), version: 1 });
      await small.backend.put({ secretId: id(5), version: 4 }, { v: 4 });
    } finally {
      await small.close();
    }
  });

  it('encrypts with the configured KMS key, and an unknown key is rejected (InvalidKeyId)', async () => {
    const keyed = await backendOnDouble(
      { writesPerSecond: 0, kmsKeyId: doubleKmsKey.alias },
      { throttle: false, clusterPrefix: 'keyed' },
    );
    const unknown = await backendOnDouble(
      { writesPerSecond: 0, kmsKeyId: 'alias/no-such-key' },
      { throttle: false, clusterPrefix: 'keyed' },
    );
    try {
      await keyed.backend.put({ secretId: id(6), version: 1 }, { a: 1 });
      expect((await describeAll(keyed)).get(`/keyed/${id(6)}/v1`)?.keyId).toBe(doubleKmsKey.alias);
      const err = await rejectionOf(unknown.backend.put({ secretId: id(6), version: 1 }, { a: 1 }));
      expect(err.details).toMatchObject({ reason: 'rejected', vendorCode: 'InvalidKeyId' });
    } finally {
      await keyed.close();
      await unknown.close();
    }
  });
});
