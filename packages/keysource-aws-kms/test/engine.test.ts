import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { runKeySourceContract } from '@coffer/backend-contract';
import type { KmsDoubleHandle } from '@coffer/keysource-aws-kms/double';
import { keySourceDefinitions, kmsDouble, kmsKeyring } from './support.js';

// A whole Coffer on SQLite whose keyring is an AWS KMS key in the double, through the key
// source contract every KMS key source passes: sealing and revealing, the cache of unwrapped
// data keys, rotation (new key material) and ReEncrypt, outages, missing and disabled keys,
// tampering, and the move from the key file.

/** How many key materials the key has, and the one that encrypts (the double's state). */
function keyMaterials(kms: KmsDoubleHandle): { count: number; current: string } {
  const { KeyMetadata } = kms.faults.store.handle('DescribeKey', { KeyId: kms.keyArn }) as {
    KeyMetadata: { CurrentKeyMaterialId: string };
  };
  const { Rotations } = kms.faults.store.handle('ListKeyRotations', { KeyId: kms.keyArn }) as {
    Rotations: unknown[];
  };
  return { count: 1 + Rotations.length, current: KeyMetadata.CurrentKeyMaterialId };
}

runKeySourceContract({
  name: 'aws-kms on the KMS double',
  definition: keySourceDefinitions[0]!,
  rotates: true,
  async start() {
    const kms = await kmsDouble();
    const client = new KMSClient({ region: kms.settings.region, endpoint: kms.url, maxAttempts: 1 });
    return {
      keyring: (extra) => kmsKeyring(kms, extra),
      configuredKey: 'alias/coffer',
      keyId: kms.keyArn,
      operations: { wrap: 'GenerateDataKey', unwrap: 'Decrypt', rewrap: 'ReEncrypt' },
      requestCount: (operation) => kms.faults.requestCount(operation),
      resetCounts: () => kms.faults.resetCounts(),
      keyVersions: () => keyMaterials(kms),
      slowDown: (operation, ms) => kms.faults.inject({ kind: 'delay', ms }, { count: 10_000, operation }),
      // stop() refuses connections; start() answers again with the faults and counts afresh.
      stop: () => kms.stop(),
      restart: () => kms.start(),
      missingKey: () => ({ settings: { keyId: 'alias/not-there' }, keyId: 'alias/not-there' }),
      async addKey(name) {
        const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: name }));
        await client.send(
          new CreateAliasCommand({ AliasName: `alias/${name}`, TargetKeyId: KeyMetadata!.KeyId }),
        );
        return {
          settings: { keyId: `alias/${name}` },
          external: { keyId: KeyMetadata!.Arn!, keyVersion: KeyMetadata!.CurrentKeyMaterialId },
          async disable() {
            await client.send(new DisableKeyCommand({ KeyId: KeyMetadata!.KeyId }));
          },
        };
      },
      async close() {
        client.destroy();
        await kms.close();
        kms.restoreEnv();
      },
    };
  },
});
