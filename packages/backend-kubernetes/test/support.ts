import { createContractContext } from '@coffer/backend-contract';
import kubernetes, { type KubernetesBackend } from '@coffer/backend-kubernetes';
import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-kubernetes/double';

/** Everything a thrown error carries, as text, to look for planted values in. */
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

/** The rejection of `promise` (the test fails when it resolves). */
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

/** A double and a backend instance on it, made the way the engine makes one. */
export async function backendOnDouble(
  settings: Record<string, unknown> = {},
  options: StoreDoubleOptions & {
    clusterPrefix?: string;
    deploymentId?: string;
    double?: StoreDoubleHandle;
  } = {},
): Promise<{
  double: StoreDoubleHandle;
  backend: KubernetesBackend;
  deploymentId: string;
  close(): Promise<void>;
}> {
  const { clusterPrefix, deploymentId, double: given, ...doubleOptions } = options;
  const double = given ?? (await startStoreDouble(doubleOptions));
  const made = await createContractContext({
    name: 'k8s',
    clusterPrefix: clusterPrefix ?? 'contract',
    ...(deploymentId === undefined ? {} : { deploymentId }),
  });
  const config = kubernetes.configSchema.parse({ ...double.settings, ...settings });
  const backend = (await kubernetes.create(config, made.context)) as KubernetesBackend;
  return {
    double,
    backend,
    deploymentId: made.context.deploymentId,
    async close() {
      await backend.close();
      await made.close();
      if (given === undefined) await double.close();
    },
  };
}
