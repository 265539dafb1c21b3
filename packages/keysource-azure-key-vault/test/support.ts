import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ClientSecretCredential } from '@azure/identity';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import type { CofferConfigInput, KeySourceDefinition } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import azureKeyVault from '@coffer/keysource-azure-key-vault';
import {
  type KeyVaultKeysDoubleHandle,
  type KeyVaultKeysDoubleOptions,
  startKeyVaultKeysDouble,
} from '@coffer/keysource-azure-key-vault/double';

/** The key source definition handed to the engine as code, as an embedding application would. */
export const keySourceDefinitions = [azureKeyVault as KeySourceDefinition];

/** Settings that keep fault tests quick: few attempts (a timeout long enough for the double to make an RSA key). */
export const quickSettings = { maxAttempts: 2, requestTimeoutMs: 5_000 } as const;

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

/** A Key Vault keys double (throttling off unless asked) with its environment set; `restoreEnv` puts it back. */
export async function vaultDouble(
  options: KeyVaultKeysDoubleOptions = {},
): Promise<KeyVaultKeysDoubleHandle & { restoreEnv(): void }> {
  const double = await startKeyVaultKeysDouble({ throttle: false, ...options });
  const restore = useEnv(double.env);
  return Object.assign(double, { restoreEnv: restore });
}

/** The `keyring` settings of a Coffer whose key is the double's key. */
export function vaultKeyring(
  double: KeyVaultKeysDoubleHandle,
  extra: Record<string, unknown> = {},
): CofferConfigInput['keyring'] {
  return {
    source: 'azure-key-vault',
    ...double.settings,
    ...quickSettings,
    ...extra,
  } as CofferConfigInput['keyring'];
}

/** A Coffer on SQLite whose keyring is the double's Key Vault key. */
export function cofferOnVault(
  double: KeyVaultKeysDoubleHandle,
  keyring: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture('sqlite', { keyring: vaultKeyring(double, keyring) }, { keySourceDefinitions });
}

/** The error `promise` rejects with; fails when it resolves. */
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

/** An error with everything it carries (message, stack, details, causes) as one text to scan. */
export function everythingIn(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    parts.push(String(current), inspect(current, { depth: 8, showHidden: true }));
    if (current instanceof Error && current.stack !== undefined) parts.push(current.stack);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

/**
 * The official SDK's clients on the double, as the main application (Key Vault Crypto Officer):
 * a KeyClient and a CryptographyClient maker, trusting the double's certificate per client.
 */
export function sdkClients(double: KeyVaultKeysDoubleHandle): {
  keys: KeyClient;
  crypto(keyId: string): CryptographyClient;
} {
  const tlsOptions = { ca: readFileSync(double.faults.caFile, 'utf8') };
  const credential = new ClientSecretCredential(
    double.faults.tenantId,
    double.env.AZURE_CLIENT_ID!,
    double.env.AZURE_CLIENT_SECRET!,
    { authorityHost: double.url, disableInstanceDiscovery: true, tlsOptions },
  );
  const options = { disableChallengeResourceVerification: true, tlsOptions, retryOptions: { maxRetries: 0 } };
  return {
    keys: new KeyClient(double.url, credential, options),
    crypto: (keyId) => new CryptographyClient(keyId, credential, options),
  };
}
