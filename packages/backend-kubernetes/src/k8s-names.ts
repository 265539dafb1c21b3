import { externalValueName, ownerLabelNames, parseExternalName, type ValueRef } from '@coffer/core';

/** Coffer names Secrets `<clusterPrefix>-<secret id>-v<version>`, a DNS-1123 subdomain. */
export const nameSeparator = '-';

/** The one key of a Secret's `data` that holds the values' JSON. */
export const valuesKey = 'values.json';

/** The labels on every Secret Coffer writes (Kubernetes' recommended label, then Coffer's own). */
export const secretLabelNames = {
  managedBy: 'app.kubernetes.io/managed-by',
  deployment: 'coffer.dev/deployment',
  cluster: 'coffer.dev/cluster',
  secretId: 'coffer.dev/secret-id',
  version: 'coffer.dev/version',
} as const;

/** Label values: empty, or at most 63 of [A-Za-z0-9_.-], starting and ending alphanumeric. */
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && labelValuePattern.test(value);
}

/** The Secret name of one version. */
export function secretNameOf(clusterPrefix: string, ref: ValueRef): string {
  return externalValueName({ clusterPrefix, separator: nameSeparator }, ref);
}

/** The ref a Secret name stands for, or undefined for names Coffer did not make under this prefix. */
export function refOfSecretName(clusterPrefix: string, name: string): ValueRef | undefined {
  const parsed = parseExternalName({ clusterPrefix, separator: nameSeparator }, name);
  return parsed?.version === undefined ? undefined : { secretId: parsed.secretId, version: parsed.version };
}

/** The labels of the Secret holding `ref` for this deployment. */
export function secretLabels(
  owner: { deploymentId: string; clusterPrefix: string },
  ref: ValueRef,
): Record<string, string> {
  return {
    [secretLabelNames.managedBy]: 'coffer',
    [secretLabelNames.deployment]: owner.deploymentId,
    [secretLabelNames.cluster]: owner.clusterPrefix,
    [secretLabelNames.secretId]: ref.secretId,
    [secretLabelNames.version]: String(ref.version),
  };
}

/** A Secret's labels as core's `assertOwnedValue` reads owner labels. */
export function ownerView(
  labels: Readonly<Record<string, string>> | undefined,
): Record<string, string | undefined> {
  const l = labels ?? {};
  const managed = l[secretLabelNames.managedBy] === 'coffer';
  return {
    [ownerLabelNames.deployment]: managed ? l[secretLabelNames.deployment] : undefined,
    [ownerLabelNames.cluster]: l[secretLabelNames.cluster],
    [ownerLabelNames.secretId]: l[secretLabelNames.secretId],
    [ownerLabelNames.version]: l[secretLabelNames.version],
  };
}

/** The label selector of every Secret this deployment wrote under its prefix (and of one secret's). */
export function ownedSelector(
  owner: { deploymentId: string; clusterPrefix: string },
  secretId?: string,
): string {
  return [
    `${secretLabelNames.managedBy}=coffer`,
    `${secretLabelNames.deployment}=${owner.deploymentId}`,
    `${secretLabelNames.cluster}=${owner.clusterPrefix}`,
    ...(secretId === undefined ? [] : [`${secretLabelNames.secretId}=${secretId}`]),
  ].join(',');
}
