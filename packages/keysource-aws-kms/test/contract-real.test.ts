import { rejectionOf } from '@coffer/aws-store-kit/testing';
import { silentLogger } from '@coffer/core';
import { createCofferFixture } from '@coffer/core/test-support';
import { AwsKmsKeySource, awsKmsConfigSchema, createKmsClient } from '@coffer/keysource-aws-kms';
import { describe, expect, it } from 'vitest';
import { keySourceDefinitions } from './support.js';

// The same checks against real AWS KMS, when a key is given:
//   COFFER_TEST_AWS_KMS_KEY_ID=alias/coffer-test  (a key id, key ARN, alias or alias ARN)
//   COFFER_TEST_AWS_KMS_REGION=eu-west-1          (else AWS_REGION; not needed with an ARN)
// Credentials come from the AWS chain. The key needs kms:DescribeKey, kms:GenerateDataKey,
// kms:Decrypt and kms:ReEncrypt*; nothing is created, rotated or deleted in the account.
const keyId = process.env.COFFER_TEST_AWS_KMS_KEY_ID;
const region = process.env.COFFER_TEST_AWS_KMS_REGION ?? process.env.AWS_REGION;
if (keyId === undefined || keyId === '') {
  console.log('skipping the real AWS KMS checks: set COFFER_TEST_AWS_KMS_KEY_ID (and a region) to run them');
}
const settings = { keyId, ...(region === undefined ? {} : { region }) };
const context = {
  'coffer-deployment': 'contract',
  'coffer-secret': 'contract-secret',
  'coffer-version': '1',
};

describe.skipIf(keyId === undefined || keyId === '')(
  'the aws-kms key source against real AWS KMS',
  { timeout: 60_000 },
  () => {
    it('wraps, unwraps and re-wraps data keys only under their encryption context', async () => {
      const config = awsKmsConfigSchema.parse(settings);
      const source = new AwsKmsKeySource(createKmsClient(config), config, {
        logger: silentLogger(),
        clock: () => new Date(),
      });
      try {
        const current = await source.current();
        expect(current.keyId).toMatch(/^arn:aws[a-z-]*:kms:/);
        const { dataKey, wrapped } = await source.generateDataKey(current, context);
        expect(dataKey.length).toBe(32);
        expect((await source.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
        expect((await rejectionOf(source.unwrap(wrapped, { ...context, 'coffer-version': '2' }))).code).toBe(
          'integrity',
        );
        const moved = await source.rewrap(wrapped, context, current);
        expect((await source.unwrap(moved, context)).equals(dataKey)).toBe(true);
      } finally {
        await source.close();
      }
    });

    it('runs a whole Coffer on the key: create, reveal, restart, reveal', async () => {
      const fx = await createCofferFixture(
        'sqlite',
        { keyring: { source: 'aws-kms', ...settings } as never },
        { keySourceDefinitions },
      );
      try {
        const secret = await fx.coffer.secrets.create(fx.admin.actor, {
          name: 'real-kms',
          kind: 'generic',
          values: { password: 'real kms contract' },
        });
        const again = await fx.reopen({ keySourceDefinitions });
        const view = await again.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
        expect(view.values.password).toBe('real kms contract');
      } finally {
        await fx.close();
      }
    });
  },
);
