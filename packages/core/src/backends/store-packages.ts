import { CofferError } from '../errors/coffer-error.js';
import type { BackendInstanceConfig } from './backend-registry.js';

/**
 * The backend types Coffer's own store packages define, and the package each lives in. A
 * configuration naming one of these types (`backends: { aws: { type: 'aws-secrets-manager' } }`)
 * loads the package without a `backendModules` entry, so the stores are configured like the
 * built-in backends while their vendor SDKs stay out of `@coffer/core`.
 */
export const storePackages = {
  'aws-secrets-manager': '@coffer/backend-aws-secrets-manager',
  'aws-ssm': '@coffer/backend-aws-ssm',
  'gcp-secret-manager': '@coffer/backend-gcp-secret-manager',
  'azure-key-vault': '@coffer/backend-azure-key-vault',
  'vault-kv': '@coffer/backend-vault',
  kubernetes: '@coffer/backend-kubernetes',
} as const satisfies Record<string, string>;

/**
 * The store packages to load for `configs`: those whose type is configured and not already
 * defined by code, by the built-ins or by a module the operator listed.
 *
 * @example
 * storePackagesFor({ aws: { type: 'aws-secrets-manager' } }, new Set(['sql'])); // ['@coffer/backend-aws-secrets-manager']
 */
export function storePackagesFor(
  configs: Readonly<Record<string, BackendInstanceConfig>>,
  defined: ReadonlySet<string>,
): string[] {
  const wanted = new Set<string>();
  for (const config of Object.values(configs)) {
    const pkg = (storePackages as Record<string, string>)[config.type];
    if (pkg !== undefined && !defined.has(config.type)) wanted.add(pkg);
  }
  return [...wanted];
}

/**
 * Refuses a `versions.keep` that a backend's store cannot hold: a new version is written before
 * the oldest one past `keep` is dropped, so a store holding at most N versions of a secret
 * allows `keep <= N - 1`.
 */
export function assertKeepFits(
  keep: number,
  backends: readonly { name: string; limits?: { maxVersionsPerSecret?: number } }[],
): void {
  const issues = [];
  for (const backend of backends) {
    const max = backend.limits?.maxVersionsPerSecret;
    if (max !== undefined && keep > max - 1) {
      issues.push({
        path: 'versions.keep',
        message: `is ${keep}, but backend ${backend.name} holds at most ${max} versions of a secret; keep at most ${max - 1}`,
      });
    }
  }
  if (issues.length > 0) {
    throw new CofferError(
      'invalid_config',
      `invalid configuration: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      {
        details: { issues },
      },
    );
  }
}
