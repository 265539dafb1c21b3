import { createContractContext } from '@coffer/backend-contract';
import gcpSecretManager, { type GcpSecretManagerBackend } from '@coffer/backend-gcp-secret-manager';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-gcp-secret-manager/double';

/** The variables Application Default Credentials read, so a test can set and put them back. */
const adcEnvNames = [
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CLOUD_PROJECT',
  'GCLOUD_PROJECT',
  'GOOGLE_CLOUD_UNIVERSE_DOMAIN',
] as const;

/** Sets `env` in process.env and returns a function that restores what was there. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = new Map(adcEnvNames.map((n) => [n, process.env[n]]));
  for (const n of adcEnvNames) delete process.env[n];
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
  options: StoreDoubleOptions & { clusterPrefix?: string; deploymentId?: string } = {},
): Promise<{
  double: StoreDoubleHandle;
  backend: GcpSecretManagerBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const { clusterPrefix, deploymentId, ...doubleOptions } = options;
  const double = await startStoreDouble(doubleOptions);
  const restore = useEnv(double.env);
  const made = await createContractContext({
    name: 'gcp',
    clusterPrefix: clusterPrefix ?? 'contract',
    ...(deploymentId === undefined ? {} : { deploymentId }),
  });
  const config = gcpSecretManager.configSchema.parse({ ...double.settings, ...settings });
  const backend = (await gcpSecretManager.create(config, made.context)) as GcpSecretManagerBackend;
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
