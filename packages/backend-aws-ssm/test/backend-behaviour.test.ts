import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { sdkSettingsFor } from '@coffer/aws-store-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOn, backendOnDouble } from './support.js';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('aws-ssm mapping onto Parameter Store', () => {
  let made: Awaited<ReturnType<typeof backendOnDouble>>;
  let sdk: SSMClient;
  beforeAll(async () => {
    made = await backendOnDouble({ writesPerSecond: 0 }, { throttle: false, clusterPrefix: 'map' });
    sdk = new SSMClient(sdkSettingsFor(made.double));
  });
  afterAll(async () => {
    sdk?.destroy();
    await made?.close();
  });

  const tagsOf = async (name: string) =>
    (await sdk.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }))).TagList;

  it('writes one SecureString parameter per version, tagged with its owner, holding the values JSON', async () => {
    const secretId = id(1);
    await made.backend.put({ secretId, version: 1 }, { host: 'smtp.example.com', port: 587 });
    await made.backend.put({ secretId, version: 2 }, { host: 'smtp2.example.com', port: 25 });
    expect(made.double.faults.parameterNames()).toEqual([`/map/${secretId}/v1`, `/map/${secretId}/v2`]);
    const got = await sdk.send(
      new GetParameterCommand({ Name: `/map/${secretId}/v1`, WithDecryption: true }),
    );
    expect(got.Parameter).toMatchObject({ Type: 'SecureString', Version: 1 });
    expect(JSON.parse(got.Parameter!.Value!)).toEqual({ host: 'smtp.example.com', port: 587 });
    // without decryption the value is not readable (listing never asks for it)
    const sealed = await sdk.send(new GetParameterCommand({ Name: `/map/${secretId}/v1` }));
    expect(sealed.Parameter!.Value).not.toContain('smtp.example.com');
    expect(await tagsOf(`/map/${secretId}/v2`)).toEqual(
      expect.arrayContaining([
        { Key: 'coffer-deployment', Value: made.deploymentId },
        { Key: 'coffer-cluster', Value: 'map' },
        { Key: 'coffer-secret-id', Value: secretId },
        { Key: 'coffer-version', Value: '2' },
      ]),
    );
  });

  it('replaces a ref put again as a new version of the same parameter, keeping its tags', async () => {
    const secretId = id(2);
    await made.backend.put({ secretId, version: 1 }, { a: 1 });
    await made.backend.put({ secretId, version: 1 }, { a: 'again' });
    expect(await made.backend.get({ secretId, version: 1 })).toEqual({ a: 'again' });
    const history = await sdk.send(new GetParameterHistoryCommand({ Name: `/map/${secretId}/v1` }));
    expect(history.Parameters?.map((p) => p.Version)).toEqual([1, 2]);
    expect(await tagsOf(`/map/${secretId}/v1`)).toContainEqual({ Key: 'coffer-version', Value: '1' });
  });

  it('keeps an advanced parameter advanced when a Standard instance overwrites it', async () => {
    const secretId = id(3);
    // the same deployment through an instance configured for the advanced tier
    const advanced = await backendOn(
      made.double,
      { writesPerSecond: 0, tier: 'Advanced' },
      { clusterPrefix: 'map', deploymentId: made.deploymentId },
    );
    try {
      await advanced.backend.put({ secretId, version: 1 }, { big: 'x'.repeat(5000) });
    } finally {
      await advanced.close();
    }
    await made.backend.put({ secretId, version: 1 }, { small: true });
    expect(await made.backend.get({ secretId, version: 1 })).toEqual({ small: true });
  });

  it('deletes one version and leaves the others; deleting a missing one is fine', async () => {
    const secretId = id(4);
    for (const version of [1, 2, 3]) await made.backend.put({ secretId, version }, { version });
    await made.backend.delete({ secretId, version: 2 });
    await made.backend.delete({ secretId, version: 2 });
    await made.backend.delete({ secretId, version: 9 });
    expect(await made.backend.list({ secretId })).toEqual([1, 3].map((version) => ({ secretId, version })));
    await expect(made.backend.get({ secretId, version: 2 })).rejects.toMatchObject({
      code: 'value_not_found',
    });
  });

  it('refuses a parameter another deployment owns or nobody tagged, and lists only names it makes', async () => {
    const theirs = id(5);
    const untagged = id(6);
    await sdk.send(
      new PutParameterCommand({
        Name: `/map/${theirs}/v1`,
        Value: '{"theirs":true}',
        Type: 'SecureString',
        Tags: [
          { Key: 'coffer-deployment', Value: 'another-deployment' },
          { Key: 'coffer-cluster', Value: 'map' },
          { Key: 'coffer-secret-id', Value: theirs },
          { Key: 'coffer-version', Value: '1' },
        ],
      }),
    );
    await sdk.send(
      new PutParameterCommand({ Name: `/map/${untagged}/v1`, Value: '{}', Type: 'SecureString' }),
    );
    await sdk.send(new PutParameterCommand({ Name: '/map/not-coffer', Value: 'x', Type: 'String' }));
    await sdk.send(new PutParameterCommand({ Name: `/map/${theirs}/latest`, Value: 'x', Type: 'String' }));
    for (const secretId of [theirs, untagged]) {
      await expect(made.backend.get({ secretId, version: 1 })).rejects.toMatchObject({ code: 'integrity' });
      await expect(made.backend.put({ secretId, version: 1 }, { mine: true })).rejects.toMatchObject({
        code: 'integrity',
      });
      await expect(made.backend.delete({ secretId, version: 1 })).rejects.toMatchObject({
        code: 'integrity',
      });
    }
    // theirs is left as it was
    const kept = await sdk.send(new GetParameterCommand({ Name: `/map/${theirs}/v1`, WithDecryption: true }));
    expect(kept.Parameter?.Value).toBe('{"theirs":true}');
    // listing reads names only: Coffer's names are listed, the others are not
    const listed = await made.backend.list();
    expect(listed.map((r) => `${r.secretId}/v${r.version}`)).not.toContain('not-coffer');
    expect(listed.filter((r) => r.secretId === theirs)).toEqual([{ secretId: theirs, version: 1 }]);
  });

  it('retries TooManyUpdates (concurrent updates of one parameter) and writes', async () => {
    made.double.faults.resetCounts();
    made.double.faults.inject(
      { kind: 'error', status: 400, code: 'TooManyUpdates' },
      { count: 2, operation: 'PutParameter' },
    );
    await made.backend.put({ secretId: id(7), version: 1 }, { a: 1 });
    expect(made.double.faults.requestCount('PutParameter')).toBe(3);
    expect(await made.backend.get({ secretId: id(7), version: 1 })).toEqual({ a: 1 });
  });
});

describe('aws-ssm against the request quotas', () => {
  it('stays under the PutParameter quota with its default write limit (no throttling answered)', async () => {
    const made = await backendOnDouble({}, { throttle: true });
    try {
      made.double.faults.resetCounts();
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => made.backend.put({ secretId: id(100 + i), version: 1 }, { i })),
      );
      expect(made.double.faults.requestCount('PutParameter')).toBe(6);
    } finally {
      await made.close();
    }
  });

  it('retries ThrottlingException from the quota when the write limit is off, and every write lands', async () => {
    const made = await backendOnDouble({ writesPerSecond: 0, maxAttempts: 10 }, { throttle: true });
    try {
      made.double.faults.resetCounts();
      // twelve PutParameter calls at once against 3 a second: they would have to be spread over
      // more than 3 seconds to pass unthrottled; the double throttles, the backend retries
      const refs = Array.from({ length: 12 }, (_, i) => ({ secretId: id(200 + i), version: 1 }));
      await Promise.all(refs.map((ref, i) => made.backend.put(ref, { i })));
      expect(made.double.faults.requestCount('PutParameter')).toBeGreaterThan(12);
      const back = await Promise.all(refs.map((ref) => made.backend.get(ref)));
      expect(back).toEqual(refs.map((_, i) => ({ i })));
    } finally {
      await made.close();
    }
  });
});
