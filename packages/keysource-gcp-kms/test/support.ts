import { inspect } from 'node:util';
import type { CofferConfigInput, KeySourceDefinition } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import gcpKms from '@coffer/keysource-gcp-kms';
import {
  type CloudKmsDoubleHandle,
  type CloudKmsDoubleOptions,
  startCloudKmsDouble,
} from '@coffer/keysource-gcp-kms/double';

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

/** The key source definition handed to the engine as code, as an embedding application would. */
export const keySourceDefinitions = [gcpKms as KeySourceDefinition];

/** Settings that keep fault tests quick: few attempts, short timeouts. */
export const quickSettings = { maxAttempts: 2, requestTimeoutMs: 1_000 } as const;

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

/** A Cloud KMS double (quotas off unless asked) with its environment set; `restoreEnv` puts it back. */
export async function kmsDouble(
  options: CloudKmsDoubleOptions = {},
): Promise<CloudKmsDoubleHandle & { restoreEnv(): void }> {
  const double = await startCloudKmsDouble({ throttle: false, ...options });
  const restore = useEnv(double.env);
  return Object.assign(double, { restoreEnv: restore });
}

/** The `keyring` settings of a Coffer whose key is the double's key. */
export function kmsKeyring(
  double: CloudKmsDoubleHandle,
  extra: Record<string, unknown> = {},
): CofferConfigInput['keyring'] {
  return {
    source: 'gcp-kms',
    ...double.settings,
    ...quickSettings,
    ...extra,
  } as CofferConfigInput['keyring'];
}

/** A Coffer on SQLite whose keyring is the double's Cloud KMS key. */
export function cofferOnKms(
  double: CloudKmsDoubleHandle,
  keyring: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture('sqlite', { keyring: kmsKeyring(double, keyring) }, { keySourceDefinitions });
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
