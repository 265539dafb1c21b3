import { useAwsEnv } from '@coffer/aws-store-kit/testing';
import awsSsm, { type AwsSsmBackend } from '@coffer/backend-aws-ssm';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-aws-ssm/double';
import { createContractContext } from '@coffer/backend-contract';

/** A double, its env set, and a backend instance on it made the way the engine makes one. */
export async function backendOnDouble(
  settings: Record<string, unknown> = {},
  options: StoreDoubleOptions & { clusterPrefix?: string; deploymentId?: string } = {},
): Promise<{
  double: StoreDoubleHandle;
  backend: AwsSsmBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const { clusterPrefix, deploymentId, ...doubleOptions } = options;
  const double = await startStoreDouble(doubleOptions);
  const restore = useAwsEnv(double.env);
  const made = await createContractContext({
    name: 'ssm',
    clusterPrefix: clusterPrefix ?? 'contract',
    ...(deploymentId === undefined ? {} : { deploymentId }),
  });
  const config = awsSsm.configSchema.parse({ ...double.settings, ...settings });
  const backend = (await awsSsm.create(config, made.context)) as AwsSsmBackend;
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
