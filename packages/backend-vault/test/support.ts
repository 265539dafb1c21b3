import { createContractContext } from '@coffer/backend-contract';
import vaultKv, { type VaultKvBackend } from '@coffer/backend-vault';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-vault/double';

/** The variables the backend and Vault clients read, so a test can set and put them back. */
const vaultEnvNames = [
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'VAULT_NAMESPACE',
  'VAULT_CACERT',
  'VAULT_TLS_SERVER_NAME',
  'VAULT_SECRET_ID',
] as const;

/** Sets `env` in process.env (clearing the other Vault variables) and returns a function that restores what was there. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = new Map(vaultEnvNames.map((n) => [n, process.env[n]]));
  for (const n of vaultEnvNames) delete process.env[n];
  Object.assign(process.env, env);
  return () => {
    for (const n of Object.keys(env))
      if (!saved.has(n as (typeof vaultEnvNames)[number])) delete process.env[n];
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

export interface BackendOnDouble {
  double: StoreDoubleHandle;
  backend: VaultKvBackend;
  deploymentId: string;
  /** Another backend instance on the same double (another deployment by default). */
  another(settings?: Record<string, unknown>, deploymentId?: string): Promise<VaultKvBackend>;
  close(): Promise<void>;
}

/** A double, its env set, and a backend instance on it made the way the engine makes one. */
export async function backendOnDouble(
  settings: Record<string, unknown> = {},
  options: StoreDoubleOptions & {
    clusterPrefix?: string;
    deploymentId?: string;
    double?: StoreDoubleHandle;
  } = {},
): Promise<BackendOnDouble> {
  const { clusterPrefix, deploymentId, double: given, ...doubleOptions } = options;
  const double = given ?? (await startStoreDouble(doubleOptions));
  const restore = useEnv(double.env);
  const contexts: { close(): Promise<void> }[] = [];
  const backends: VaultKvBackend[] = [];
  const make = async (extra: Record<string, unknown>, id: string | undefined) => {
    const made = await createContractContext({
      name: 'vault',
      clusterPrefix: clusterPrefix ?? 'contract',
      ...(id === undefined ? {} : { deploymentId: id }),
    });
    contexts.push(made);
    const config = vaultKv.configSchema.parse({ ...double.settings, ...settings, ...extra });
    const backend = (await vaultKv.create(config, made.context)) as VaultKvBackend;
    backends.push(backend);
    return { backend, deploymentId: made.context.deploymentId };
  };
  const first = await make({}, deploymentId);
  return {
    double,
    backend: first.backend,
    deploymentId: first.deploymentId,
    another: async (extra = {}, id) => (await make(extra, id)).backend,
    async close() {
      for (const b of backends) await b.close();
      for (const c of contexts) await c.close();
      if (given === undefined) await double.close();
      restore();
    },
  };
}

/** What a rejected promise rejected with. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error('expected the operation to fail');
}

/** Every text an error carries: name, message, stack, details, code and causes. */
export function everything(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; details?: unknown; cause?: unknown };
  return [
    e.name,
    e.message,
    e.stack,
    JSON.stringify(e.details ?? {}),
    String(e.code),
    everything(e.cause ?? ''),
  ].join('\n');
}
