import type { CofferConfigInput, KeySourceDefinition } from '@coffer/core';
import { silentLogger } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import vaultTransit, {
  createVaultTransitKeySource,
  type VaultTransitKeySource,
  vaultTransitConfigSchema,
} from '@coffer/keysource-vault-transit';
import { startTransitDouble, type TransitDoubleHandle } from '@coffer/keysource-vault-transit/double';

/** The key source definition handed to the engine as code, as an embedding application would. */
export const keySourceDefinitions = [vaultTransit as KeySourceDefinition];

/** Settings that keep fault tests quick: few attempts, short timeouts. */
export const quickSettings = { maxAttempts: 2, requestTimeoutMs: 1_000 } as const;

const vaultEnvNames = [
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'VAULT_NAMESPACE',
  'VAULT_CACERT',
  'VAULT_TLS_SERVER_NAME',
  'VAULT_SECRET_ID',
] as const;

/** Sets `env` in process.env (clearing the other Vault variables); the result puts them back. */
export function useVaultEnv(env: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>(vaultEnvNames.map((n) => [n, process.env[n]]));
  for (const n of Object.keys(env)) if (!saved.has(n)) saved.set(n, process.env[n]);
  for (const n of vaultEnvNames) delete process.env[n];
  Object.assign(process.env, env);
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

/** A Vault double with the Transit key `coffer` and its environment set; `restoreEnv` puts it back. */
export async function transitDouble(): Promise<TransitDoubleHandle & { restoreEnv(): void }> {
  const double = await startTransitDouble({ throttle: false });
  return Object.assign(double, { restoreEnv: useVaultEnv(double.env) });
}

/** The `keyring` settings of a Coffer whose key is the double's `transit/keys/coffer`. */
export function transitKeyring(
  double: TransitDoubleHandle,
  extra: Record<string, unknown> = {},
): CofferConfigInput['keyring'] {
  return {
    source: 'vault-transit',
    ...double.keyring,
    ...quickSettings,
    ...extra,
  } as CofferConfigInput['keyring'];
}

/** A Coffer on SQLite whose keyring is the double's Transit key. */
export function cofferOnTransit(
  double: TransitDoubleHandle,
  keyring: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture(
    'sqlite',
    { keyring: transitKeyring(double, keyring) },
    { keySourceDefinitions },
  );
}

/** The key source alone, made from settings as the keyring makes it. */
export function transitSource(
  double: TransitDoubleHandle,
  settings: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): VaultTransitKeySource {
  const config = vaultTransitConfigSchema.parse({ ...double.keyring, ...quickSettings, ...settings });
  return createVaultTransitKeySource(config, { logger: silentLogger(), clock: () => new Date() }, env);
}

/** What a rejected promise rejected with. */
export async function rejectionOf(
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
export function everythingIn(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; details?: unknown; cause?: unknown };
  return [
    e.name,
    e.message,
    e.stack,
    JSON.stringify(e.details ?? {}),
    String(e.code),
    everythingIn(e.cause ?? ''),
  ].join('\n');
}
