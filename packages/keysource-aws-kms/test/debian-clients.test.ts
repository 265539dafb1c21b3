import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsCli, awsCliJson, independentAwsClients } from '@coffer/aws-store-kit/testing';
import type { KmsDoubleHandle } from '@coffer/keysource-aws-kms/double';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsDouble } from './support.js';

// The double driven by a client nobody here wrote: Debian's awscli signs with botocore's SigV4
// and parses the answers with botocore's model of KMS, so a double that strays from the wire
// protocol fails here.
const { cli: cliPresent } = await independentAwsClients();

describe.skipIf(!cliPresent)(
  'the KMS double through awscli (independent client)',
  { timeout: 120_000 },
  () => {
    let kms: KmsDoubleHandle & { restoreEnv(): void };
    let dir: string;
    beforeAll(async () => {
      kms = await kmsDouble();
      dir = mkdtempSync(join(tmpdir(), 'coffer-kms-cli-'));
    });
    afterAll(async () => {
      await kms?.close();
      kms?.restoreEnv();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates and describes a key, and encrypts and decrypts with an encryption context', async () => {
      const created = await awsCliJson(kms, 'kms', ['create-key', '--description', 'made by awscli']);
      const metadata = created.KeyMetadata as Record<string, unknown>;
      expect(metadata.KeyState).toBe('Enabled');
      expect(String(metadata.Arn)).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
      expect(typeof metadata.CreationDate).toBe('string'); // botocore parsed the epoch seconds into a date

      const described = await awsCliJson(kms, 'kms', ['describe-key', '--key-id', 'alias/coffer']);
      expect((described.KeyMetadata as Record<string, unknown>).Arn).toBe(kms.keyArn);

      const plaintextFile = join(dir, 'plain.bin');
      writeFileSync(plaintextFile, 'thirty-two bytes of a data key!!');
      const encrypted = await awsCliJson(kms, 'kms', [
        'encrypt',
        '--key-id',
        String(metadata.KeyId),
        '--plaintext',
        `fileb://${plaintextFile}`,
        '--encryption-context',
        'coffer-secret=s-1,coffer-version=3',
      ]);
      expect(encrypted.KeyId).toBe(metadata.Arn);
      const cipherFile = join(dir, 'cipher.bin');
      writeFileSync(cipherFile, Buffer.from(String(encrypted.CiphertextBlob), 'base64'));

      const decrypted = await awsCliJson(kms, 'kms', [
        'decrypt',
        '--ciphertext-blob',
        `fileb://${cipherFile}`,
        '--encryption-context',
        'coffer-version=3,coffer-secret=s-1',
      ]);
      expect(Buffer.from(String(decrypted.Plaintext), 'base64').toString()).toBe(
        'thirty-two bytes of a data key!!',
      );
      expect(decrypted.KeyId).toBe(metadata.Arn);

      const wrong = await awsCli(kms, 'kms', [
        'decrypt',
        '--ciphertext-blob',
        `fileb://${cipherFile}`,
        '--encryption-context',
        'coffer-secret=s-1,coffer-version=4',
      ]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('InvalidCiphertextException');
    });
  },
);
