import { createContractContext } from '@coffer/backend-contract';
import gcpSecretManager, { crc32c, gcpSecretManagerLimits } from '@coffer/backend-gcp-secret-manager';
import type { BackendDefinition } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

const definitions = [gcpSecretManager as BackendDefinition];

async function startError(settings: Record<string, unknown>): Promise<{ code: string; message: string }> {
  try {
    const fx = await createCofferFixture(
      'sqlite',
      { backends: { gcp: { type: 'gcp-secret-manager', ...settings } }, backend: 'gcp' },
      { backendDefinitions: definitions },
    );
    await fx.close();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the start to fail');
}

describe('gcp-secret-manager settings', () => {
  it('refuses bad settings with invalid_config naming each one', async () => {
    const err = await startError({
      projectId: 'Not A Project',
      endpoint: 'ftp://example.com',
      kmsKeyName: 'my-key',
      writesPerSecond: -1,
      private_key: 'never-in-config',
    });
    expect(err.code).toBe('invalid_config');
    for (const path of [
      'backends.gcp.projectId',
      'backends.gcp.endpoint',
      'backends.gcp.kmsKeyName',
      'backends.gcp.writesPerSecond',
    ]) {
      expect(err.message).toContain(path);
    }
    expect(err.message).toContain('private_key');
    expect(err.message).not.toContain('never-in-config');
  });

  it('needs a project id', async () => {
    const err = await startError({});
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.gcp.projectId');
  });

  it('refuses a replication policy for regional secrets', async () => {
    const err = await startError({
      projectId: 'acme-prod',
      location: 'europe-west1',
      replication: { userManaged: [{ location: 'europe-west1' }] },
    });
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('backends.gcp.replication');
  });

  it('fills in the defaults', () => {
    expect(gcpSecretManager.configSchema.parse({ projectId: 'acme-prod' })).toEqual({
      projectId: 'acme-prod',
      replication: 'automatic',
      maxAttempts: 5,
      requestTimeoutMs: 10_000,
    });
  });

  it('refuses versions.keep above what the 50-alias quota allows', async () => {
    try {
      const fx = await createCofferFixture(
        'sqlite',
        {
          backends: { gcp: { type: 'gcp-secret-manager', projectId: 'acme-prod' } },
          backend: 'gcp',
          versions: { keep: 50 },
        },
        { backendDefinitions: definitions },
      );
      await fx.close();
      throw new Error('expected the start to fail');
    } catch (err) {
      expect((err as { code: string }).code).toBe('invalid_config');
      expect((err as Error).message).toContain('versions.keep');
    }
  });

  it('computes CRC32C (Castagnoli) as Secret Manager does', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
  });
});

describe('gcp-secret-manager limits', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false });
  });
  afterAll(() => made?.close());

  it('declares 64 KiB and 50 versions (the alias quota)', () => {
    expect(gcpSecretManagerLimits).toEqual({ maxValueBytes: 65_536, maxVersionsPerSecret: 50 });
    expect(made.backend.limits).toEqual(gcpSecretManagerLimits);
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

  it('stores exactly 65,536 bytes', async () => {
    const ref = { secretId: '11111111-2222-4333-8444-666666666666', version: 1 };
    const blob = 'a'.repeat(65_536 - '{"b":""}'.length);
    await made.backend.put(ref, { b: blob });
    expect(await made.backend.get(ref)).toEqual({ b: blob });
  });

  it('keeps 50 versions of one secret, refuses a 51st with limit_exceeded, replaces in place', async () => {
    const secretId = '11111111-2222-4333-8444-777777777777';
    for (let version = 1; version <= 50; version++)
      await made.backend.put({ secretId, version }, { version });
    await made.backend.put({ secretId, version: 50 }, { version: 'again' });
    expect(await made.backend.get({ secretId, version: 1 })).toEqual({ version: 1 });
    expect(await made.backend.get({ secretId, version: 50 })).toEqual({ version: 'again' });
    const err = await made.backend.put({ secretId, version: 51 }, { version: 51 }).then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
    );
    expect(err.code).toBe('backend_unavailable');
    expect(err.details).toMatchObject({ reason: 'limit_exceeded' });
    // the replaced version was destroyed: 50 live versions, not 51
    expect(made.double.faults.liveVersionCount()).toBe(50 + 1);
  });

  it('refuses to read a secret another deployment labelled, and does not delete it', async () => {
    const ref = { secretId: '11111111-2222-4333-8444-888888888888', version: 1 };
    await made.backend.put(ref, { mine: 'no longer' });
    const id = `contract-${ref.secretId}`;
    made.double.faults.setLabels(id, {
      'coffer-deployment': 'someone-else',
      'coffer-secret-id': ref.secretId,
    });
    const fresh = await createContractContext({ name: 'gcp2', clusterPrefix: 'contract' });
    const config = gcpSecretManager.configSchema.parse({ ...made.double.settings, writesPerSecond: 0 });
    const second = await gcpSecretManager.create(config, fresh.context);
    try {
      const readErr = await second.get(ref).catch((e: unknown) => e as { code: string });
      expect((readErr as { code: string }).code).toBe('integrity');
      const delErr = await second.delete(ref).catch((e: unknown) => e as { code: string });
      expect((delErr as { code: string }).code).toBe('integrity');
      expect(made.double.faults.secretIds()).toContain(id);
    } finally {
      await second.close?.();
      await fresh.close();
    }
  });
});

describe('gcp-secret-manager under the real quotas', () => {
  it('says throttled (RESOURCE_EXHAUSTED) when the per-minute write quota is used up', async () => {
    const made = await backendOnDouble(
      { writesPerSecond: 0, maxAttempts: 1 },
      { throttle: { writePerMinute: 2 } },
    );
    try {
      const err = await made.backend
        .put({ secretId: '11111111-2222-4333-8444-999999999999', version: 1 }, { a: '1' })
        .then(
          () => {
            throw new Error('expected a refusal');
          },
          (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
        );
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({ reason: 'throttled', vendorCode: 'RESOURCE_EXHAUSTED' });
    } finally {
      await made.close();
    }
  });
});
