import { useAwsEnv } from '@coffer/aws-store-kit/testing';
import awsSecretsManager, { type AwsSecretsManagerBackend } from '@coffer/backend-aws-secrets-manager';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-aws-secrets-manager/double';
import { createContractContext } from '@coffer/backend-contract';

/** A double, its env set, and a backend instance on it made the way the engine makes one. */
export async function backendOnDouble(
  settings: Record<string, unknown> = {},
  options: StoreDoubleOptions & { clusterPrefix?: string; deploymentId?: string } = {},
): Promise<{
  double: StoreDoubleHandle;
  backend: AwsSecretsManagerBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const { clusterPrefix, deploymentId, ...doubleOptions } = options;
  const double = await startStoreDouble(doubleOptions);
  const restore = useAwsEnv(double.env);
  const made = await createContractContext({
    name: 'aws',
    clusterPrefix: clusterPrefix ?? 'contract',
    ...(deploymentId === undefined ? {} : { deploymentId }),
  });
  const config = awsSecretsManager.configSchema.parse({ ...double.settings, ...settings });
  const backend = (await awsSecretsManager.create(config, made.context)) as AwsSecretsManagerBackend;
  return {
    double,
    backend,
    deploymentId: made.context.deploymentId,
    async close() {
      await backend.close();
      await made.close();
      await double.close();
      restore();
    },
  };
}
