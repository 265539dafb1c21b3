import { randomBytes } from 'node:crypto';
import {
  DeleteSecretCommand,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import awsSecretsManager from '@coffer/backend-aws-secrets-manager';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import { describe, it } from 'vitest';

// The contract against the real AWS Secrets Manager, when asked for:
//   COFFER_TEST_AWS_SM_REGION    the region to use (required to run)
//   COFFER_TEST_AWS_SM_PREFIX    cluster prefix of the test's secrets (default: coffer-ct-<random>)
//   COFFER_TEST_AWS_SM_ENDPOINT  another endpoint (optional)
//   COFFER_TEST_AWS_SM_KMS_KEY   a KMS key for the test's secrets (optional)
// Credentials come from the AWS SDK's default chain (AWS_PROFILE, env keys, SSO, a role).
// Every secret the run made is force-deleted afterwards.
const region = process.env.COFFER_TEST_AWS_SM_REGION;

if (region === undefined || region === '') {
  console.log(
    'skipping the contract against the real AWS Secrets Manager: set COFFER_TEST_AWS_SM_REGION (and credentials for the AWS SDK chain) to run it',
  );
  describe.skip('backend contract: aws-secrets-manager (real service; COFFER_TEST_AWS_SM_REGION is not set)', () => {
    it('runs only with COFFER_TEST_AWS_SM_REGION set', () => {});
  });
} else {
  const clusterPrefix =
    process.env.COFFER_TEST_AWS_SM_PREFIX ?? `coffer-ct-${randomBytes(4).toString('hex')}`;
  const endpoint = process.env.COFFER_TEST_AWS_SM_ENDPOINT;
  const kmsKeyId = process.env.COFFER_TEST_AWS_SM_KMS_KEY;

  async function removeEverything(): Promise<void> {
    const client = new SecretsManagerClient({ region, ...(endpoint === undefined ? {} : { endpoint }) });
    try {
      let token: string | undefined;
      do {
        const page: ListSecretsCommandOutput = await client.send(
          new ListSecretsCommand({
            Filters: [{ Key: 'name', Values: [`${clusterPrefix}/`] }],
            IncludePlannedDeletion: true,
            MaxResults: 100,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        );
        for (const secret of page.SecretList ?? []) {
          if (secret.Name?.startsWith(`${clusterPrefix}/`) !== true) continue;
          await client.send(
            new DeleteSecretCommand({ SecretId: secret.ARN, ForceDeleteWithoutRecovery: true }),
          );
        }
        token = page.NextToken;
      } while (token !== undefined);
    } finally {
      client.destroy();
    }
  }

  runBackendContract({
    name: `aws-secrets-manager (real service, ${region}, prefix ${clusterPrefix})`,
    listEntries: 1000,
    timeoutMs: 900_000,
    create: async () => {
      const made = await createContractContext({ name: 'aws', clusterPrefix });
      const config = awsSecretsManager.configSchema.parse({
        region,
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
      });
      const backend = await awsSecretsManager.create(config, made.context);
      return {
        backend,
        cleanup: async () => {
          await removeEverything();
          await made.close();
        },
      };
    },
  });
}
