import { pathToFileURL } from 'node:url';
import { resolveStorePackage } from '../backends/backend-module-loader.js';
import type { KeySourceDefinition } from './external-key-source.js';
import { KEY_SOURCE_TYPE_PATTERN } from './external-key-source.js';
import { invalidConfig } from './keyring-errors.js';

/**
 * The KMS key source types and the package each lives in. `keyring: { source: 'aws-kms', ... }`
 * loads `@coffer/keysource-aws-kms` without any other setting, so the KMS client stays out of
 * `@coffer/core`; likewise `gcp-kms`, `azure-key-vault` and `vault-transit`. A package that is
 * not installed, or does not define the type, is an `invalid_config` naming it.
 */
export const keySourcePackages = {
  'aws-kms': '@coffer/keysource-aws-kms',
  'gcp-kms': '@coffer/keysource-gcp-kms',
  'azure-key-vault': '@coffer/keysource-azure-key-vault',
  'vault-transit': '@coffer/keysource-vault-transit',
} as const satisfies Record<string, string>;

/**
 * Loads the definition of the key source `type` from its package (default export, or a named
 * export that is one). Every way this can fail is an `invalid_config` naming `keyring.source`.
 *
 * @example
 * const definition = await loadKeySourceDefinition('aws-kms');
 */
export async function loadKeySourceDefinition(type: string, cwd?: string): Promise<KeySourceDefinition> {
  const fail = (message: string) =>
    invalidConfig([{ path: 'keyring.source', message }], `keyring.source: ${message}`);
  const pkg = (keySourcePackages as Record<string, string>)[type];
  if (pkg === undefined) {
    throw fail(
      `unknown key source ${type}; use file, env, or one of ${Object.keys(keySourcePackages).join(', ')}`,
    );
  }
  const path = resolveStorePackage(pkg, cwd);
  if (path === null) {
    throw fail(
      `key source ${type} comes with the package ${pkg}, which is not installed (npm install ${pkg})`,
    );
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const name = err instanceof Error ? err.name : 'error';
    throw fail(`the package ${pkg} failed to load (${name})`);
  }
  const candidates = [namespace.default, ...Object.values(namespace)];
  const definition = candidates.find((c) => isKeySourceDefinition(c) && c.id === type);
  if (definition === undefined) {
    throw fail(`the package ${pkg} defines no key source ${type}; is it an older version?`);
  }
  return definition as KeySourceDefinition;
}

/** Whether `value` has the shape of a {@link KeySourceDefinition}. */
export function isKeySourceDefinition(value: unknown): value is KeySourceDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  const schema = d.configSchema as { safeParse?: unknown } | undefined;
  return (
    typeof d.id === 'string' &&
    KEY_SOURCE_TYPE_PATTERN.test(d.id) &&
    typeof d.create === 'function' &&
    typeof schema?.safeParse === 'function'
  );
}
