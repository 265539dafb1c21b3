import { useAwsEnv } from '@coffer/aws-store-kit/testing';
import awsSsm, { type AwsSsmBackend } from '@coffer/backend-aws-ssm';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-aws-ssm/double';
import { createContractContext } from '@coffer/backend-contract';

interface Owner {
  clusterPrefix?: string;
  deploymentId?: string;
}

/** A backend instance on a running double, made the way the engine makes one. */
export async function backendOn(
  double: StoreDoubleHandle,
  settings: Record<string, unknown> = {},
  owner: Owner = {},
): Promise<{ backend: AwsSsmBackend; deploymentId: string; close(): Promise<void> }> {
  const made = await createContractContext({
    name: 'ssm',
    clusterPrefix: owner.clusterPrefix ?? 'contract',
    ...(owner.deploymentId === undefined ? {} : { deploymentId: owner.deploymentId }),
  });
  const config = awsSsm.configSchema.parse({ ...double.settings, ...settings });
  const backend = (await awsSsm.create(config, made.context)) as AwsSsmBackend;
  return {
    backend,
    deploymentId: made.context.deploymentId,
    async close() {
      await backend.close();
      await made.close();
    },
  };
}

/** A double, its env set, and a backend instance on it. */
export async function backendOnDouble(
  settings: Record<string, unknown> = {},
  options: StoreDoubleOptions & Owner = {},
): Promise<{
  double: StoreDoubleHandle;
  backend: AwsSsmBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const { clusterPrefix, deploymentId, ...doubleOptions } = options;
  const double = await startStoreDouble(doubleOptions);
  const restore = useAwsEnv(double.env);
  const made = await backendOn(double, settings, {
    ...(clusterPrefix === undefined ? {} : { clusterPrefix }),
    ...(deploymentId === undefined ? {} : { deploymentId }),
  });
  return {
    double,
    backend: made.backend,
    deploymentId: made.deploymentId,
    async close() {
      await made.close();
      await double.close();
      restore();
    },
  };
}
