import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { rejectionOf } from '@coffer/aws-store-kit/testing';
import { kmsLimits, startKmsDouble } from '@coffer/keysource-aws-kms/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsDouble } from './support.js';

// The double as the AWS SDK sees it: KMS's operations, errors, quotas and faults.
describe('the AWS KMS double through the AWS SDK', () => {
  let kms: Awaited<ReturnType<typeof kmsDouble>>;
  let client: KMSClient;
  const context = { 'coffer-secret': 's-1', 'coffer-version': '1' };

  beforeAll(async () => {
    kms = await kmsDouble();
    client = new KMSClient({ region: kms.settings.region, endpoint: kms.url, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await kms?.close();
    kms?.restoreEnv();
  });

  const newKey = async (description = 'test') =>
    (await client.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!;

  it('makes keys and aliases, and describes a key by id, ARN, alias or alias ARN', async () => {
    const key = await newKey('described');
    expect(key).toMatchObject({
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Arn: `arn:aws:kms:us-east-1:123456789012:key/${key.KeyId}`,
    });
    expect(key.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    await client.send(new CreateAliasCommand({ AliasName: 'alias/described', TargetKeyId: key.KeyId }));
    for (const id of [
      key.KeyId!,
      key.Arn!,
      'alias/described',
      'arn:aws:kms:us-east-1:123456789012:alias/described',
    ]) {
      expect((await client.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata?.Arn).toBe(key.Arn);
    }
    const aliases = await client.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    expect(aliases.Aliases?.map((a) => a.AliasName)).toEqual(['alias/described']);
    expect(
      (
        await rejectionOf(
          client.send(new CreateAliasCommand({ AliasName: 'alias/described', TargetKeyId: key.KeyId })),
        )
      ).name,
    ).toBe('AlreadyExistsException');
    expect(
      (
        await rejectionOf(
          client.send(new CreateAliasCommand({ AliasName: 'alias/aws/x', TargetKeyId: key.KeyId })),
        )
      ).name,
    ).toBe('InvalidAliasNameException');
    for (const id of [
      'alias/nope',
      '00000000-0000-4000-8000-000000000000',
      'arn:aws:kms:eu-west-1:123456789012:key/x',
    ]) {
      expect((await rejectionOf(client.send(new DescribeKeyCommand({ KeyId: id })))).name).toBe(
        'NotFoundException',
      );
    }
  });

  it('encrypts and decrypts only with the exact encryption context, and names the key', async () => {
    const key = await newKey();
    const plaintext = Buffer.from('a data key, 32 bytes long......!');
    const { CiphertextBlob, KeyId } = await client.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: context }),
    );
    expect(KeyId).toBe(key.Arn);
    const out = await client.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { ...context } }));
    expect(Buffer.from(out.Plaintext!).equals(plaintext)).toBe(true);
    expect(out.KeyId).toBe(key.Arn);
    expect(out.KeyMaterialId).toBe(key.CurrentKeyMaterialId);
    for (const wrong of [{}, { ...context, 'coffer-version': '2' }, { ...context, extra: 'x' }]) {
      const err = await rejectionOf(
        client.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: wrong })),
      );
      expect(err.name).toBe('InvalidCiphertextException');
    }
    const tampered = Buffer.from(CiphertextBlob!);
    tampered[tampered.length - 1]! ^= 1;
    expect(
      (
        await rejectionOf(
          client.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })),
        )
      ).name,
    ).toBe('InvalidCiphertextException');
    const other = await newKey();
    expect(
      (
        await rejectionOf(
          client.send(new DecryptCommand({ CiphertextBlob, KeyId: other.KeyId, EncryptionContext: context })),
        )
      ).name,
    ).toBe('IncorrectKeyException');
    expect(
      (
        await rejectionOf(
          client.send(
            new EncryptCommand({
              KeyId: key.KeyId,
              Plaintext: Buffer.alloc(kmsLimits.maxPlaintextBytes + 1),
            }),
          ),
        )
      ).name,
    ).toBe('ValidationException');
  });

  it('generates data keys and re-encrypts them to another key or new key material; old material still decrypts', async () => {
    const key = await newKey();
    const generated = await client.send(
      new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    expect(generated.Plaintext?.length).toBe(32);
    expect(generated.KeyMaterialId).toBe(key.CurrentKeyMaterialId);
    expect((await rejectionOf(client.send(new GenerateDataKeyCommand({ KeyId: key.Arn })))).name).toBe(
      'ValidationException',
    );

    await client.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    expect(
      (await client.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).KeyRotationEnabled,
    ).toBe(true);
    await client.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const rotated = (await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(rotated.CurrentKeyMaterialId).not.toBe(key.CurrentKeyMaterialId);
    const rotations = await client.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }));
    expect(rotations.Rotations?.map((r) => r.RotationType)).toEqual(['ON_DEMAND']);

    const old = await client.send(
      new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(old.Plaintext!).equals(Buffer.from(generated.Plaintext!))).toBe(true);
    expect(old.KeyMaterialId).toBe(key.CurrentKeyMaterialId);

    const moved = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        SourceEncryptionContext: context,
        DestinationKeyId: key.KeyId,
        DestinationEncryptionContext: context,
      }),
    );
    expect(moved).toMatchObject({
      SourceKeyMaterialId: key.CurrentKeyMaterialId,
      DestinationKeyMaterialId: rotated.CurrentKeyMaterialId,
      KeyId: key.Arn,
    });
    const again = await client.send(
      new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(again.Plaintext!).equals(Buffer.from(generated.Plaintext!))).toBe(true);
    expect(again.KeyMaterialId).toBe(rotated.CurrentKeyMaterialId);

    await client.send(new UpdateAliasCommand({ AliasName: 'alias/coffer', TargetKeyId: key.KeyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: 'alias/coffer' }))).KeyMetadata?.Arn).toBe(
      key.Arn,
    );
    await client.send(new UpdateAliasCommand({ AliasName: 'alias/coffer', TargetKeyId: kms.keyArn }));
  });

  it('refuses disabled keys and keys pending deletion, and counts the on-demand rotation quota', async () => {
    const key = await newKey();
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }),
    );
    await client.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await rejectionOf(client.send(new DecryptCommand({ CiphertextBlob })))).name).toBe(
      'DisabledException',
    );
    await client.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    const scheduled = await client.send(
      new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }),
    );
    expect(scheduled.KeyState).toBe('PendingDeletion');
    expect((await rejectionOf(client.send(new DecryptCommand({ CiphertextBlob })))).name).toBe(
      'KMSInvalidStateException',
    );
    expect(
      (
        await rejectionOf(
          client.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 3 })),
        )
      ).name,
    ).toBe('ValidationException');
    await client.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata?.KeyState).toBe(
      'Disabled',
    );
    await client.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    for (let i = 0; i < kmsLimits.maxOnDemandRotations; i++) {
      await client.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    }
    expect((await rejectionOf(client.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })))).name).toBe(
      'LimitExceededException',
    );
    kms.faults.store.deleteKeyNow(key.KeyId!);
    expect((await rejectionOf(client.send(new DecryptCommand({ CiphertextBlob })))).name).toBe(
      'NotFoundException',
    );
  });

  it('checks signatures and permissions, throttles past a quota, and injects faults', async () => {
    const wrongSecret = new KMSClient({
      region: kms.settings.region,
      endpoint: kms.url,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIACOFFERDOUBLE0001', secretAccessKey: 'not the secret' },
    });
    const readOnly = new KMSClient({
      region: kms.settings.region,
      endpoint: kms.url,
      maxAttempts: 1,
      credentials: kms.faults.readOnlyCredentials,
    });
    const otherRegion = new KMSClient({ region: 'eu-west-1', endpoint: kms.url, maxAttempts: 1 });
    try {
      expect(
        (await rejectionOf(wrongSecret.send(new DescribeKeyCommand({ KeyId: 'alias/coffer' })))).name,
      ).toBe('InvalidSignatureException');
      expect(
        (await rejectionOf(otherRegion.send(new DescribeKeyCommand({ KeyId: 'alias/coffer' })))).name,
      ).toBe('InvalidSignatureException');
      expect((await readOnly.send(new DescribeKeyCommand({ KeyId: 'alias/coffer' }))).KeyMetadata?.Arn).toBe(
        kms.keyArn,
      );
      expect(
        (
          await rejectionOf(
            readOnly.send(new EncryptCommand({ KeyId: 'alias/coffer', Plaintext: Buffer.from('x') })),
          )
        ).name,
      ).toBe('AccessDeniedException');
    } finally {
      wrongSecret.destroy();
      readOnly.destroy();
      otherRegion.destroy();
    }

    // With the quotas on, CreateAlias allows 5 requests a second: a burst of 12 meets ThrottlingException.
    const throttling = await startKmsDouble({ throttle: true });
    const throttled = new KMSClient({
      region: kms.settings.region,
      endpoint: throttling.url,
      maxAttempts: 1,
    });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          throttled.send(
            new CreateAliasCommand({ AliasName: `alias/burst-${i}`, TargetKeyId: throttling.keyArn }),
          ),
        ),
      );
      const names = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'ok'));
      expect(names).toContain('ThrottlingException');
      expect(names).toContain('ok');
    } finally {
      throttled.destroy();
      await throttling.close();
    }

    const key = await newKey();
    kms.faults.inject({ kind: 'error', status: 500, code: 'KMSInternalException' }, { operation: 'Decrypt' });
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }),
    );
    const failed = await rejectionOf(client.send(new DecryptCommand({ CiphertextBlob })));
    expect(failed.name).toBe('KMSInternalException');
    expect((failed as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(
      500,
    );
    expect(
      Buffer.from((await client.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(),
    ).toBe('x');
  });
});
