import { externalValueName, parseExternalName, type ValueRef } from '@coffer/core';

/**
 * Parameter names: `/<clusterPrefix>/<secret id>/v<version>`, one parameter per Coffer version
 * (Parameter Store cannot delete one version of a parameter, so versions cannot live in its
 * history). The leading `/` makes them a hierarchy Parameter Store lists by path and IAM scopes
 * by ARN.
 */
export function parameterNameOf(clusterPrefix: string, ref: ValueRef): string {
  return `/${externalValueName({ clusterPrefix, separator: '/' }, ref)}`;
}

/** The path all of a deployment's parameters sit under: `/<clusterPrefix>`. */
export function clusterPathOf(clusterPrefix: string): string {
  return `/${clusterPrefix}`;
}

/** The path of one secret's parameters: `/<clusterPrefix>/<secret id>`. */
export function secretPathOf(clusterPrefix: string, secretId: string): string {
  return `/${clusterPrefix}/${secretId}`;
}

/** The ref a parameter name stands for, or undefined for names Coffer did not make. */
export function refOfParameterName(clusterPrefix: string, name: string): ValueRef | undefined {
  if (!name.startsWith('/')) return undefined;
  const parsed = parseExternalName({ clusterPrefix, separator: '/' }, name.slice(1));
  return parsed?.version === undefined ? undefined : { secretId: parsed.secretId, version: parsed.version };
}
