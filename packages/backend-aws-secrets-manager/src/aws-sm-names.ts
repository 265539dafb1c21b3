import {
  externalSecretName,
  type OwnerContext,
  ownerLabelNames,
  ownerLabels,
  parseExternalName,
  type ValueRef,
} from '@coffer/core';

/** Coffer names AWS secrets `<clusterPrefix>/<secret id>`; `/` is allowed in secret names. */
export const nameSeparator = '/';

/** The staging label that marks the secret version holding Coffer version `version`. */
export function versionStage(version: number): string {
  return `coffer-v${version}`;
}

/** The Coffer version a staging label names, or undefined for other labels (AWSCURRENT, ...). */
export function versionOfStage(stage: string): number | undefined {
  const match = /^coffer-v([1-9][0-9]{0,15})$/.exec(stage);
  if (match === null) return undefined;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** The AWS secret name of a Coffer secret. */
export function secretNameOf(clusterPrefix: string, secretId: string): string {
  return externalSecretName({ clusterPrefix, separator: nameSeparator }, secretId);
}

/** The secret id an AWS secret name stands for, or undefined for names Coffer did not make. */
export function secretIdOf(clusterPrefix: string, name: string): string | undefined {
  const parsed = parseExternalName({ clusterPrefix, separator: nameSeparator }, name);
  return parsed === null || parsed.version !== undefined ? undefined : parsed.secretId;
}

/**
 * The tags a Coffer secret gets: the owner labels without the per-version one (tags belong to the
 * whole AWS secret; the version is its staging label).
 */
export function ownerTags(owner: OwnerContext, secretId: string): { Key: string; Value: string }[] {
  const labels = ownerLabels(owner, { secretId, version: 1 });
  return Object.entries(labels)
    .filter(([key]) => key !== ownerLabelNames.version)
    .map(([Key, Value]) => ({ Key, Value }));
}

/**
 * Owner labels as `assertOwnedValue` reads them, from a secret's tags and the staging label a
 * version was found by (which stands for the per-version label).
 */
export function labelsFromTags(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
  ref: ValueRef,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const tag of tags ?? []) {
    if (tag.Key !== undefined && tag.Value !== undefined) labels[tag.Key] = tag.Value;
  }
  labels[ownerLabelNames.version] = String(ref.version);
  return labels;
}
