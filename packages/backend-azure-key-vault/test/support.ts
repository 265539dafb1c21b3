import azureKeyVault, { type AzureKeyVaultBackend } from '@coffer/backend-azure-key-vault';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-azure-key-vault/double';
import { createContractContext } from '@coffer/backend-contract';

/** The variables DefaultAzureCredential reads, so a test can set and put them back. */
const azureEnvNames = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_USERNAME',
  'AZURE_PASSWORD',
  'AZURE_AUTHORITY_HOST',
  'AZURE_TOKEN_CREDENTIALS',
  'AZURE_FEDERATED_TOKEN_FILE',
] as const;

/** Sets `env` in process.env and returns a function that restores what was there. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = new Map(azureEnvNames.map((n) => [n, process.env[n]]));
  for (const n of azureEnvNames) delete process.env[n];
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
  backend: AzureKeyVaultBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const { clusterPrefix, deploymentId, ...doubleOptions } = options;
  const double = await startStoreDouble(doubleOptions);
  const restore = useEnv(double.env);
  const made = await createContractContext({
    name: 'azure',
    clusterPrefix: clusterPrefix ?? 'contract',
    ...(deploymentId === undefined ? {} : { deploymentId }),
  });
  const config = azureKeyVault.configSchema.parse({ ...double.settings, ...settings });
  const backend = (await azureKeyVault.create(config, made.context)) as AzureKeyVaultBackend;
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
