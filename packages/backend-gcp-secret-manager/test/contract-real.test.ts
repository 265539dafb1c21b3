import { randomBytes } from 'node:crypto';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import gcpSecretManager, { createSecretManagerClient } from '@coffer/backend-gcp-secret-manager';
import { describe, it } from 'vitest';

// The contract against the real Secret Manager, when asked for:
//   COFFER_TEST_GCP_PROJECT    the project to use (required to run)
//   COFFER_TEST_GCP_PREFIX     cluster prefix of the test's secrets (default: coffer-ct-<random>)
//   COFFER_TEST_GCP_LOCATION   use regional secrets in this location (optional)
//   COFFER_TEST_GCP_KMS_KEY    a Cloud KMS key for the test's secrets (optional)
// Credentials come from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
// `gcloud auth application-default login`, workload identity). Every secret the run made is
// deleted afterwards.
const projectId = process.env.COFFER_TEST_GCP_PROJECT;

if (projectId === undefined || projectId === '') {
  console.log(
    'skipping the contract against the real Secret Manager: set COFFER_TEST_GCP_PROJECT (and Application Default Credentials) to run it',
  );
  describe.skip('backend contract: gcp-secret-manager (real service; COFFER_TEST_GCP_PROJECT is not set)', () => {
    it('runs only with COFFER_TEST_GCP_PROJECT set', () => {});
  });
} else {
  const clusterPrefix = process.env.COFFER_TEST_GCP_PREFIX ?? `coffer-ct-${randomBytes(4).toString('hex')}`;
  const location = process.env.COFFER_TEST_GCP_LOCATION;
  const kmsKeyName = process.env.COFFER_TEST_GCP_KMS_KEY;
  const config = gcpSecretManager.configSchema.parse({
    projectId,
    ...(location === undefined ? {} : { location }),
    ...(kmsKeyName === undefined ? {} : { kmsKeyName }),
  });

  async function removeEverything(): Promise<void> {
    const client = createSecretManagerClient(config);
    const parent =
      location === undefined ? `projects/${projectId}` : `projects/${projectId}/locations/${location}`;
    try {
      const [secrets] = await client.listSecrets({ parent, filter: `name:${clusterPrefix}-` });
      for (const secret of secrets) {
        if (secret.name?.split('/').pop()?.startsWith(`${clusterPrefix}-`) === true) {
          await client.deleteSecret({ name: secret.name });
        }
      }
    } finally {
      await client.close();
    }
  }

  runBackendContract({
    name: `gcp-secret-manager (real service, ${projectId}, prefix ${clusterPrefix})`,
    listEntries: 1000,
    timeoutMs: 1_800_000,
    create: async () => {
      const made = await createContractContext({ name: 'gcp', clusterPrefix });
      const backend = await gcpSecretManager.create(config, made.context);
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
