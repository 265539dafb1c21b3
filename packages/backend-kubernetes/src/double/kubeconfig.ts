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
 * A kubeconfig (YAML) for the double: one cluster (its URL and CA file; for plain HTTP,
 * `insecure-skip-tls-verify`), one user and one context per entry, the first context current. kubectl and
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
    // plain HTTP: client-node refuses an http server unless the kubeconfig says to skip TLS checks
    ...(caFile === undefined
      ? ['    insecure-skip-tls-verify: true']
      : [`    certificate-authority: ${quoted(caFile)}`]),
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
