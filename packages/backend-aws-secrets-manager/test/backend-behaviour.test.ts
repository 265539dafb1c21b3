import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { sdkSettingsFor } from '@coffer/aws-store-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOnDouble } from './support.js';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('aws-secrets-manager mapping onto Secrets Manager', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let sdk: SecretsManagerClient;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { clusterPrefix: 'map' });
    sdk = new SecretsManagerClient(sdkSettingsFor(made.double));
  });
  afterAll(async () => {
    sdk?.destroy();
    await made?.close();
  });

  const describeSecret = (secretId: string) =>
    sdk.send(new DescribeSecretCommand({ SecretId: `map/${secretId}` }));

  it('keeps AWSCURRENT on the highest version, also when that one is deleted', async () => {
    const secretId = id(1);
    for (const version of [1, 3, 2]) await made.backend.put({ secretId, version }, { version });
    const stagesOf = async () => {
      const d = await describeSecret(secretId);
      return Object.values(d.VersionIdsToStages ?? {}).map((s) => [...s].sort().join(','));
    };
    expect((await stagesOf()).sort()).toEqual(
      ['AWSCURRENT,coffer-v3', 'AWSPREVIOUS,coffer-v1', 'coffer-v2'].sort(),
    );
    await made.backend.delete({ secretId, version: 3 });
    // AWSCURRENT moved to v2; the deleted version keeps no label at all
    expect((await stagesOf()).sort()).toEqual(['AWSCURRENT,coffer-v2', 'coffer-v1'].sort());
    expect(await made.backend.list({ secretId })).toEqual([1, 2].map((version) => ({ secretId, version })));
  });

  it('deletes the AWS secret with its recovery window when the last version goes, and restores it on a later put', async () => {
    const secretId = id(2);
    await made.backend.put({ secretId, version: 1 }, { a: 1 });
    await made.backend.delete({ secretId, version: 1 });
    const pending = await describeSecret(secretId);
    expect(pending.DeletedDate).toBeInstanceOf(Date);
    expect(Object.values(pending.VersionIdsToStages ?? {}).flat()).not.toContain('coffer-v1');
    await expect(made.backend.get({ secretId, version: 1 })).rejects.toMatchObject({
      code: 'value_not_found',
    });
    // a name pending deletion does not block Coffer: the put restores the secret and goes on
    await made.backend.put({ secretId, version: 2 }, { a: 2 });
    expect((await describeSecret(secretId)).DeletedDate).toBeUndefined();
    expect(await made.backend.list({ secretId })).toEqual([{ secretId, version: 2 }]);
    expect(await made.backend.get({ secretId, version: 2 })).toEqual({ a: 2 });
  });

  it('refuses a secret another deployment owns, and lists only its own', async () => {
    const secretId = id(3);
    await sdk.send(
      new CreateSecretCommand({
        Name: `map/${secretId}`,
        Tags: [
          { Key: 'coffer-deployment', Value: 'another-deployment' },
          { Key: 'coffer-cluster', Value: 'map' },
          { Key: 'coffer-secret-id', Value: secretId },
        ],
      }),
    );
    await sdk.send(
      new PutSecretValueCommand({
        SecretId: `map/${secretId}`,
        SecretString: '{"theirs":true}',
        VersionStages: ['coffer-v1'],
      }),
    );
    await sdk.send(new CreateSecretCommand({ Name: 'map/not-a-coffer-secret', SecretString: '{}' }));
    await expect(made.backend.get({ secretId, version: 1 })).rejects.toMatchObject({ code: 'integrity' });
    await expect(made.backend.put({ secretId, version: 2 }, { mine: true })).rejects.toMatchObject({
      code: 'integrity',
    });
    await expect(made.backend.delete({ secretId, version: 1 })).rejects.toMatchObject({ code: 'integrity' });
    const listed = await made.backend.list();
    expect(listed.some((r) => r.secretId === secretId)).toBe(false);
    expect(await made.backend.list({ secretId })).toEqual([]);
  });

  it('deletes at once with forceDeleteWithoutRecovery', async () => {
    const forced = await backendOnDouble({ forceDeleteWithoutRecovery: true, writesPerSecond: 0 });
    try {
      const secretId = id(4);
      await forced.backend.put({ secretId, version: 1 }, { a: 1 });
      await forced.backend.delete({ secretId, version: 1 });
      expect(forced.double.faults.secretNames()).toEqual([]);
      await forced.backend.put({ secretId, version: 1 }, { a: 'again' });
      expect(await forced.backend.get({ secretId, version: 1 })).toEqual({ a: 'again' });
    } finally {
      await forced.close();
    }
  });

  it('answers PutSecretValue idempotently for a repeated ClientRequestToken', async () => {
    await sdk.send(new CreateSecretCommand({ Name: 'map/idem', SecretString: 'one' }));
    const token = 'a'.repeat(32);
    const first = await sdk.send(
      new PutSecretValueCommand({ SecretId: 'map/idem', SecretString: 'two', ClientRequestToken: token }),
    );
    const again = await sdk.send(
      new PutSecretValueCommand({ SecretId: 'map/idem', SecretString: 'two', ClientRequestToken: token }),
    );
    expect(again.VersionId).toBe(first.VersionId);
    await expect(
      sdk.send(
        new PutSecretValueCommand({ SecretId: 'map/idem', SecretString: 'three', ClientRequestToken: token }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
  });
});

describe('aws-secrets-manager against the request quotas', () => {
  it('stays under the write quota with its default rate limit (no throttling answered)', async () => {
    const made = await backendOnDouble({}, { throttle: true });
    try {
      made.double.faults.resetCounts();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => made.backend.put({ secretId: id(100 + i), version: 1 }, { i })),
      );
      // one CreateSecret and one PutSecretValue each: no retries were needed
      expect(made.double.faults.requestCount('CreateSecret')).toBe(30);
      expect(made.double.faults.requestCount('PutSecretValue')).toBe(30);
    } finally {
      await made.close();
    }
  });

  it('retries ThrottlingException from the quota when the write limit is off, and every write lands', async () => {
    // A CreateSecret quota of 5 a second: 25 puts at once get through without throttling only if
    // their CreateSecret calls are spread over more than 4 seconds, which the AWS quota of 50 a
    // second cannot promise on a busy machine (its 80 puts may take longer than 0.6 seconds).
    const made = await backendOnDouble(
      { writesPerSecond: 0, maxAttempts: 10 },
      { throttle: { CreateSecret: { group: 'create', perSecond: 5 } } },
    );
    try {
      made.double.faults.resetCounts();
      const refs = Array.from({ length: 25 }, (_, i) => ({ secretId: id(200 + i), version: 1 }));
      await Promise.all(refs.map((ref, i) => made.backend.put(ref, { i })));
      // the double throttled some CreateSecret calls, the backend retried them
      expect(made.double.faults.requestCount('CreateSecret')).toBeGreaterThan(25);
      const back = await Promise.all(refs.map((ref) => made.backend.get(ref)));
      expect(back).toEqual(refs.map((_, i) => ({ i })));
    } finally {
      await made.close();
    }
  });
});
