import awsSecretsManager, { type AwsSecretsManagerBackend } from '@coffer/backend-aws-secrets-manager';
import { type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-aws-secrets-manager/double';
import { createContractContext } from '@coffer/backend-contract';

/** The credential and region variables a test sets, so they can be put back. */
const awsEnvNames = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
] as const;

/** Sets `env` in process.env and returns a function that restores what was there. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = new Map(awsEnvNames.map((n) => [n, process.env[n]]));
  for (const n of awsEnvNames) delete process.env[n];
  Object.assign(process.env, env);
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

/** A double, its env set, and a backend instance on it made the way the engine makes one. */
export async function backendOnDouble(
  settings: Record<string, unknown> = {},
  options: { throttle?: boolean; clusterPrefix?: string; deploymentId?: string } = {},
): Promise<{
  double: StoreDoubleHandle;
  backend: AwsSecretsManagerBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const double = await startStoreDouble({ throttle: options.throttle ?? true });
  const restore = useEnv(double.env);
  const made = await createContractContext({
    name: 'aws',
    clusterPrefix: options.clusterPrefix ?? 'contract',
    ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
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
