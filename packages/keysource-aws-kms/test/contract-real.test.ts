import { runRealKmsChecks } from '@coffer/backend-contract';
import awsKms, { AwsKmsKeySource, awsKmsConfigSchema, createKmsClient } from '@coffer/keysource-aws-kms';
import { expect } from 'vitest';

// The same checks against real AWS KMS, when a key is given:
//   COFFER_TEST_AWS_KMS_KEY_ID=alias/coffer-test  (a key id, key ARN, alias or alias ARN)
//   COFFER_TEST_AWS_KMS_REGION=eu-west-1          (else AWS_REGION; not needed with an ARN)
// Credentials come from the AWS chain. The key needs kms:DescribeKey, kms:GenerateDataKey,
// kms:Decrypt and kms:ReEncrypt*; nothing is created, rotated or deleted in the account.
const keyId = process.env.COFFER_TEST_AWS_KMS_KEY_ID;
const region = process.env.COFFER_TEST_AWS_KMS_REGION ?? process.env.AWS_REGION;
const settings = { keyId, ...(region === undefined ? {} : { region }) };

runRealKmsChecks({
  title: 'the aws-kms key source against real AWS KMS',
  configured: keyId !== undefined && keyId !== '',
  skipMessage: 'skipping the real AWS KMS checks: set COFFER_TEST_AWS_KMS_KEY_ID (and a region) to run them',
  bindsTo: 'encryption context',
  definition: awsKms,
  keyring: { source: 'aws-kms', ...settings },
  openSource: (ctx) => {
    const config = awsKmsConfigSchema.parse(settings);
    return new AwsKmsKeySource(createKmsClient(config), config, ctx);
  },
  checkKey: (current) => expect(current.keyId).toMatch(/^arn:aws[a-z-]*:kms:/),
  secret: { name: 'real-kms', password: 'real kms contract' },
});
