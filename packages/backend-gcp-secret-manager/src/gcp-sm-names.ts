import {
  externalSecretName,
  type OwnerContext,
  ownerLabelNames,
  parseExternalName,
  type ValueRef,
} from '@coffer/core';

/** Coffer names GCP secrets `<clusterPrefix>-<secret id>` (secret ids allow only [A-Za-z0-9_-]). */
export const nameSeparator = '-';

/** Label keys and values: lowercase letters, digits, `_` and `-`, at most 63 characters. */
const labelValuePattern = /^[a-z0-9_-]{0,63}$/;

/** The version alias that marks the secret version holding Coffer version `version`. */
export function versionAlias(version: number): string {
  return `coffer-v${version}`;
}

/** The Coffer version an alias names, or undefined for other aliases. */
export function versionOfAlias(alias: string): number | undefined {
  const match = /^coffer-v([1-9][0-9]{0,15})$/.exec(alias);
  if (match === null) return undefined;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** The GCP secret id of a Coffer secret. */
export function secretIdOf(clusterPrefix: string, cofferSecretId: string): string {
  return externalSecretName({ clusterPrefix, separator: nameSeparator }, cofferSecretId);
}

/** The Coffer secret id a GCP secret id stands for, or undefined for secrets Coffer did not make. */
export function cofferSecretIdOf(clusterPrefix: string, gcpSecretId: string): string | undefined {
  const parsed = parseExternalName({ clusterPrefix, separator: nameSeparator }, gcpSecretId);
  return parsed === null || parsed.version !== undefined ? undefined : parsed.secretId;
}

/** The last segment of a resource name (`projects/p/secrets/s` → `s`). */
export function lastSegment(name: string | null | undefined): string {
  if (name === null || name === undefined) return '';
  const at = name.lastIndexOf('/');
  return at === -1 ? name : name.slice(at + 1);
}

/** Whether a deployment id and cluster prefix can be label values (they can, as Coffer makes them). */
export function isLabelValue(value: string): boolean {
  return labelValuePattern.test(value);
}

/** The labels a Coffer secret gets: owning deployment, cluster prefix and the Coffer secret id. */
export function ownerSecretLabels(owner: OwnerContext, cofferSecretId: string): Record<string, string> {
  return {
    [ownerLabelNames.deployment]: owner.deploymentId,
    [ownerLabelNames.cluster]: owner.clusterPrefix,
    [ownerLabelNames.secretId]: cofferSecretId,
  };
}

/**
 * Owner labels as `assertOwnedValue` reads them: the secret's labels, and the alias a version
 * was found by standing for the per-version label.
 */
export function labelsForRef(
  labels: Readonly<Record<string, string>> | null | undefined,
  ref: ValueRef,
): Record<string, string> {
  return { ...(labels ?? {}), [ownerLabelNames.version]: String(ref.version) };
}
