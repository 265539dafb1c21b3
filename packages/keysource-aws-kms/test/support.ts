import { useAwsEnv } from '@coffer/aws-store-kit/testing';
import type { CofferConfigInput, KeySourceDefinition } from '@coffer/core';
import { type CofferFixture, createCofferFixture } from '@coffer/core/test-support';
import awsKms from '@coffer/keysource-aws-kms';
import { type KmsDoubleHandle, startKmsDouble } from '@coffer/keysource-aws-kms/double';

/** The key source definition handed to the engine as code, as an embedding application would. */
export const keySourceDefinitions = [awsKms as KeySourceDefinition];

/** Settings that keep fault tests quick: few attempts, short timeouts. */
export const quickSettings = { maxAttempts: 2, requestTimeoutMs: 1_000 } as const;

/** A KMS double with its environment set; `close` puts the environment back. */
export async function kmsDouble(
  options: { throttle?: boolean } = {},
): Promise<KmsDoubleHandle & { restoreEnv(): void }> {
  const double = await startKmsDouble({ throttle: options.throttle ?? false });
  const restore = useAwsEnv(double.env);
  return Object.assign(double, { restoreEnv: restore });
}

/** The `keyring` settings of a Coffer whose key is the double's `alias/coffer`. */
export function kmsKeyring(
  double: KmsDoubleHandle,
  extra: Record<string, unknown> = {},
): CofferConfigInput['keyring'] {
  return {
    source: 'aws-kms',
    ...double.settings,
    ...quickSettings,
    ...extra,
  } as CofferConfigInput['keyring'];
}

/** A Coffer on SQLite whose keyring is the double's KMS key. */
export function cofferOnKms(
  double: KmsDoubleHandle,
  keyring: Record<string, unknown> = {},
): Promise<CofferFixture> {
  return createCofferFixture('sqlite', { keyring: kmsKeyring(double, keyring) }, { keySourceDefinitions });
}
