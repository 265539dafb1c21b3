/** One context of a kubeconfig the double writes: a user (its token) in a namespace. */
export interface KubeconfigContext {
  name: string;
  token: string;
  namespace: string;
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

/**
 * A kubeconfig (YAML) for the double: one cluster (its URL and CA file, or none for plain
 * HTTP), one user and one context per entry, the first context current. kubectl and
 * `KubeConfig.loadFromFile` both read it.
 */
export function kubeconfigYaml(
  server: string,
  caFile: string | undefined,
  contexts: readonly KubeconfigContext[],
): string {
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'preferences: {}',
    'clusters:',
    '- name: coffer-double',
    '  cluster:',
    `    server: ${quoted(server)}`,
    ...(caFile === undefined ? [] : [`    certificate-authority: ${quoted(caFile)}`]),
    'users:',
    ...contexts.flatMap((c) => [`- name: ${quoted(c.name)}`, '  user:', `    token: ${quoted(c.token)}`]),
    'contexts:',
    ...contexts.flatMap((c) => [
      `- name: ${quoted(c.name)}`,
      '  context:',
      '    cluster: coffer-double',
      `    user: ${quoted(c.name)}`,
      `    namespace: ${quoted(c.namespace)}`,
    ]),
    `current-context: ${quoted(contexts[0]!.name)}`,
    '',
  ];
  return lines.join('\n');
}
