import {
  externalSecretName,
  type OwnerContext,
  ownerLabelNames,
  ownerLabels,
  parseExternalName,
  type ValueRef,
} from '@coffer/core';

/**
 * Coffer names Key Vault secrets `<clusterPrefix>-<secret id>`: names allow only `0-9`, `a-z`,
 * `A-Z` and `-`, 1 to 127 characters, and are case-insensitive. A cluster prefix (lowercase
 * letters, digits and `-`, at most 32) and a lowercase UUID fit: at most 69 characters.
 */
export const nameSeparator = '-';

/** The Key Vault secret name of a Coffer secret. */
export function secretNameOf(clusterPrefix: string, cofferSecretId: string): string {
  return externalSecretName({ clusterPrefix, separator: nameSeparator }, cofferSecretId);
}

/** The Coffer secret id a Key Vault secret name stands for, or undefined for names Coffer did not make. */
export function cofferSecretIdOf(clusterPrefix: string, name: string): string | undefined {
  const parsed = parseExternalName({ clusterPrefix, separator: nameSeparator }, name.toLowerCase());
  return parsed === null || parsed.version !== undefined ? undefined : parsed.secretId;
}

/**
 * The tags each Key Vault version Coffer writes carries: the owning deployment, the cluster
 * prefix, the Coffer secret id and the Coffer version it holds (`coffer-version`), which is how
 * a Coffer version is found among the secret's Key Vault versions.
 */
export function versionTags(owner: OwnerContext, ref: ValueRef): Record<string, string> {
  return ownerLabels(owner, ref);
}

/** The Coffer version a version's tags name, or undefined. */
export function cofferVersionOf(tags: Readonly<Record<string, string>> | undefined): number | undefined {
  const text = tags?.[ownerLabelNames.version];
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text)) return undefined;
  const version = Number(text);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** The content type of the values Coffer writes: its JSON encoding of the fields. */
export const valuesContentType = 'application/json';
