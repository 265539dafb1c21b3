import { randomBytes } from 'node:crypto';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  type GetParametersByPathCommandOutput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import awsSsm from '@coffer/backend-aws-ssm';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import { describe, it } from 'vitest';

// The contract against the real AWS Systems Manager Parameter Store, when asked for:
//   COFFER_TEST_AWS_SSM_REGION    the region to use (required to run)
//   COFFER_TEST_AWS_SSM_PREFIX    cluster prefix of the test's parameters (default: coffer-ct-<random>)
//   COFFER_TEST_AWS_SSM_ENDPOINT  another endpoint (optional)
//   COFFER_TEST_AWS_SSM_KMS_KEY   a KMS key for the test's SecureStrings (optional; default aws/ssm)
//   COFFER_TEST_AWS_SSM_TIER      Standard (default), Advanced or Intelligent-Tiering
//   COFFER_TEST_AWS_SSM_WRITES    writes a second (default 2, the backend's default)
// Credentials come from the AWS SDK's default chain (AWS_PROFILE, env keys, SSO, a role).
// Every parameter under the prefix is deleted afterwards.
const region = process.env.COFFER_TEST_AWS_SSM_REGION;

if (region === undefined || region === '') {
  console.log(
    'skipping the contract against the real AWS SSM Parameter Store: set COFFER_TEST_AWS_SSM_REGION (and credentials for the AWS SDK chain) to run it',
  );
  describe.skip('backend contract: aws-ssm (real service; COFFER_TEST_AWS_SSM_REGION is not set)', () => {
    it('runs only with COFFER_TEST_AWS_SSM_REGION set', () => {});
  });
} else {
  const clusterPrefix =
    process.env.COFFER_TEST_AWS_SSM_PREFIX ?? `coffer-ct-${randomBytes(4).toString('hex')}`;
  const endpoint = process.env.COFFER_TEST_AWS_SSM_ENDPOINT;
  const kmsKeyId = process.env.COFFER_TEST_AWS_SSM_KMS_KEY;
  const tier = process.env.COFFER_TEST_AWS_SSM_TIER;
  const writes = process.env.COFFER_TEST_AWS_SSM_WRITES;

  async function removeEverything(): Promise<void> {
    const client = new SSMClient({ region, ...(endpoint === undefined ? {} : { endpoint }) });
    try {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page: GetParametersByPathCommandOutput = await client.send(
          new GetParametersByPathCommand({
            Path: `/${clusterPrefix}`,
            Recursive: true,
            MaxResults: 10,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        );
        for (const p of page.Parameters ?? []) if (p.Name !== undefined) names.push(p.Name);
        token = page.NextToken;
      } while (token !== undefined);
      for (let i = 0; i < names.length; i += 10) {
        await client.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
      }
    } finally {
      client.destroy();
    }
  }

  runBackendContract({
    name: `aws-ssm (real service, ${region}, prefix ${clusterPrefix})`,
    listEntries: 1000,
    // 1000 parameters written and deleted at 2 a second take over 15 minutes
    timeoutMs: 2_400_000,
    create: async () => {
      const made = await createContractContext({ name: 'ssm', clusterPrefix });
      const config = awsSsm.configSchema.parse({
        region,
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
        ...(tier === undefined ? {} : { tier }),
        ...(writes === undefined ? {} : { writesPerSecond: Number(writes) }),
      });
      const backend = await awsSsm.create(config, made.context);
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
