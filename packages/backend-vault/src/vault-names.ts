import { isSecretId, type OwnerContext, ownerLabelNames, type ValueRef } from '@coffer/core';

/**
 * The `custom_metadata` key that records which KV version holds Coffer version `version`:
 * `coffer-v3` = `"7"`. The index is a hint kept up to date by every write; the data of each KV
 * version names its Coffer version itself, so a lost or stale entry is found and repaired.
 */
export function indexKey(version: number): string {
  return `coffer-v${version}`;
}

/** The Coffer version an index key names, or undefined for other keys. */
export function versionOfIndexKey(key: string): number | undefined {
  const match = /^coffer-v([1-9][0-9]{0,15})$/.exec(key);
  if (match === null) return undefined;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** The KV path (under the mount) of a Coffer secret: `<pathPrefix>/<secret id>`. */
export function secretPath(pathPrefix: string, secretId: string): string {
  if (!isSecretId(secretId)) throw new Error('paths are made from secret ids only');
  return `${pathPrefix}/${secretId}`;
}

/** The labels of a Coffer secret in `custom_metadata`: owning deployment, cluster prefix, secret id. */
export function ownerMetadata(owner: OwnerContext, secretId: string): Record<string, string> {
  return {
    [ownerLabelNames.deployment]: owner.deploymentId,
    [ownerLabelNames.cluster]: owner.clusterPrefix,
    [ownerLabelNames.secretId]: secretId,
  };
}

/** What each KV version's data carries besides the values: whose it is and which version. */
export interface VersionHeader {
  'coffer-deployment': string;
  'coffer-cluster': string;
  'coffer-secret-id': string;
  'coffer-version': string;
}

/** The labels `assertOwnedValue` reads, from the secret's metadata, for one ref. */
export function labelsForRef(
  custom: Readonly<Record<string, string>> | undefined,
  ref: ValueRef,
): Record<string, string> {
  return { ...(custom ?? {}), [ownerLabelNames.version]: String(ref.version) };
}

/** The header of a KV version's data, or undefined when the data is not Coffer's. */
export function headerOf(data: unknown): VersionHeader | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const fields = ['coffer-deployment', 'coffer-cluster', 'coffer-secret-id', 'coffer-version'] as const;
  for (const f of fields) if (typeof d[f] !== 'string') return undefined;
  return {
    'coffer-deployment': d['coffer-deployment'] as string,
    'coffer-cluster': d['coffer-cluster'] as string,
    'coffer-secret-id': d['coffer-secret-id'] as string,
    'coffer-version': d['coffer-version'] as string,
  };
}
