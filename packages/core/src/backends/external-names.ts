import { CofferError } from '../errors/coffer-error.js';
import type { ValueRef } from './backend.js';

/**
 * Naming helpers for backends that keep values in a store shared with others (a cloud secrets
 * manager, a Kubernetes namespace, a directory). Names are made of the deployment's cluster
 * prefix and the secret id, never of the user-chosen secret name, so a rename never moves a
 * value and no name a user can type collides with another secret's.
 */

const secretIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const clusterPrefixPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;
const separatorPattern = /^[/_.:+=@-]$/;

/** Whether `id` is a secret id as Coffer makes them (a lowercase UUID). */
export function isSecretId(id: unknown): id is string {
  return typeof id === 'string' && secretIdPattern.test(id);
}

/**
 * Throws `validation` unless `ref` is a lowercase-UUID secret id with a positive integer
 * version. Backends that turn refs into paths or names call it before touching anything.
 *
 * @example
 * assertValueRef(ref); // then join(directory, ref.secretId, `${ref.version}.cfv`) is safe
 */
export function assertValueRef(ref: ValueRef): void {
  const issues = [];
  if (!isSecretId(ref?.secretId)) issues.push({ path: 'secretId', message: 'must be a lowercase UUID' });
  if (!Number.isSafeInteger(ref?.version) || ref.version < 1) {
    issues.push({ path: 'version', message: 'must be a positive integer' });
  }
  if (issues.length > 0) throw CofferError.validation(issues, 'not a valid value reference');
}

export interface ExternalNameOptions {
  /** The deployment's `clusterPrefix` (lowercase letters, digits and `-`). */
  clusterPrefix: string;
  /** Between the parts; pick one the store allows in names. Default `/`. */
  separator?: string;
}

function checkedParts(options: ExternalNameOptions): { prefix: string; sep: string } {
  const sep = options.separator ?? '/';
  if (!clusterPrefixPattern.test(options.clusterPrefix)) {
    throw CofferError.validation([
      { path: 'clusterPrefix', message: 'lowercase letters, digits and "-", at most 32' },
    ]);
  }
  if (!separatorPattern.test(sep)) {
    throw CofferError.validation([{ path: 'separator', message: 'one of / _ . : + = @ -' }]);
  }
  return { prefix: options.clusterPrefix, sep };
}

/**
 * The external name of a secret: `<clusterPrefix><sep><secretId>`.
 *
 * @example
 * externalSecretName({ clusterPrefix: 'prod' }, '0b1e2c3d-...'); // 'prod/0b1e2c3d-...'
 */
export function externalSecretName(options: ExternalNameOptions, secretId: string): string {
  const { prefix, sep } = checkedParts(options);
  if (!isSecretId(secretId)) {
    throw CofferError.validation([
      { path: 'secretId', message: 'external names are made from secret ids, never from names' },
    ]);
  }
  return `${prefix}${sep}${secretId}`;
}

/**
 * The external name of one version of a secret: `<clusterPrefix><sep><secretId><sep>v<version>`.
 *
 * @example
 * externalValueName({ clusterPrefix: 'prod', separator: '-' }, { secretId, version: 3 }); // 'prod-<id>-v3'
 */
export function externalValueName(options: ExternalNameOptions, ref: ValueRef): string {
  assertValueRef(ref);
  const { sep } = checkedParts(options);
  return `${externalSecretName(options, ref.secretId)}${sep}v${ref.version}`;
}

/**
 * Reads a name made by {@link externalSecretName} or {@link externalValueName} back into its
 * ref; null for a name that another deployment (another prefix) or something else made.
 *
 * @example
 * parseExternalName({ clusterPrefix: 'prod' }, 'prod/<id>/v3'); // { secretId: '<id>', version: 3 }
 */
export function parseExternalName(
  options: ExternalNameOptions,
  name: string,
): { secretId: string; version?: number } | null {
  const { prefix, sep } = checkedParts(options);
  const head = `${prefix}${sep}`;
  if (!name.startsWith(head)) return null;
  const secretId = name.slice(head.length, head.length + 36);
  if (!isSecretId(secretId)) return null;
  const rest = name.slice(head.length + 36);
  if (rest === '') return { secretId };
  const match = new RegExp(`^${escapeRegExp(sep)}v([1-9][0-9]{0,15})$`).exec(rest);
  if (match === null) return null;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? { secretId, version } : null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Label names Coffer puts on values it stores in external stores. */
export const ownerLabelNames = {
  deployment: 'coffer-deployment',
  cluster: 'coffer-cluster',
  secretId: 'coffer-secret-id',
  version: 'coffer-version',
} as const;

/** Which deployment a backend works for (a subset of its {@link BackendContext}). */
export interface OwnerContext {
  deploymentId: string;
  clusterPrefix: string;
}

/**
 * Labels marking a value as owned by this deployment, for backends with the `labels`
 * capability. Read them back with {@link assertOwnedValue}.
 *
 * @example
 * await client.send(new CreateSecretCommand({ Name, SecretString, Tags: toTags(ownerLabels(context, ref)) }));
 */
export function ownerLabels(owner: OwnerContext, ref: ValueRef): Record<string, string> {
  return {
    [ownerLabelNames.deployment]: owner.deploymentId,
    [ownerLabelNames.cluster]: owner.clusterPrefix,
    [ownerLabelNames.secretId]: ref.secretId,
    [ownerLabelNames.version]: String(ref.version),
  };
}

/**
 * Refuses (with `integrity`) a value whose labels say another deployment owns it, or that
 * were written for another ref. The message names deployment ids and the ref, never values.
 *
 * @example
 * assertOwnedValue(labelsFromStore, context, ref, this.name);
 */
export function assertOwnedValue(
  labels: Readonly<Record<string, string | undefined>> | undefined,
  owner: OwnerContext,
  ref: ValueRef,
  backendName: string,
): void {
  const what = `value of secret ${ref.secretId} version ${ref.version} in backend ${backendName}`;
  const deployment = labels?.[ownerLabelNames.deployment];
  if (deployment === undefined) {
    throw new CofferError('integrity', `the ${what} carries no owner label; refusing to read it`);
  }
  if (deployment !== owner.deploymentId) {
    throw new CofferError(
      'integrity',
      `the ${what} belongs to Coffer deployment ${deployment}, not this one (${owner.deploymentId}); refusing to read it`,
      { details: { owner: deployment, deployment: owner.deploymentId } },
    );
  }
  if (
    labels?.[ownerLabelNames.secretId] !== ref.secretId ||
    labels?.[ownerLabelNames.version] !== String(ref.version)
  ) {
    throw new CofferError('integrity', `the ${what} is labelled for another secret or version`);
  }
}
