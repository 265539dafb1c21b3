import { randomBytes } from 'node:crypto';
import { createContractContext, runBackendContract } from '@coffer/backend-contract';
import kubernetes, { connectKubernetes } from '@coffer/backend-kubernetes';
import { describe, it } from 'vitest';

// The contract against a real cluster, when asked for:
//   COFFER_TEST_KUBECONFIG      the kubeconfig to use (required to run)
//   COFFER_TEST_K8S_NAMESPACE   the namespace for the test's Secrets (required to run; it must exist)
//   COFFER_TEST_K8S_CONTEXT     a context of that kubeconfig (default: its current-context)
//   COFFER_TEST_K8S_PREFIX      cluster prefix of the test's Secrets (default: coffer-ct-<random>)
// The credentials need the Role in docs/stores/kubernetes.md in that namespace. Every Secret the
// run made (label coffer.dev/cluster=<prefix>) is deleted afterwards.
const kubeconfigPath = process.env.COFFER_TEST_KUBECONFIG;
const namespace = process.env.COFFER_TEST_K8S_NAMESPACE;

if (kubeconfigPath === undefined || kubeconfigPath === '' || namespace === undefined || namespace === '') {
  console.log(
    'skipping the contract against a real cluster: set COFFER_TEST_KUBECONFIG and COFFER_TEST_K8S_NAMESPACE to run it',
  );
  describe.skip('backend contract: kubernetes (real cluster; COFFER_TEST_KUBECONFIG or COFFER_TEST_K8S_NAMESPACE is not set)', () => {
    it('runs only with COFFER_TEST_KUBECONFIG and COFFER_TEST_K8S_NAMESPACE set', () => {});
  });
} else {
  const clusterPrefix = process.env.COFFER_TEST_K8S_PREFIX ?? `coffer-ct-${randomBytes(4).toString('hex')}`;
  const context = process.env.COFFER_TEST_K8S_CONTEXT;
  const config = kubernetes.configSchema.parse({
    auth: 'kubeconfig',
    kubeconfigPath,
    namespace,
    ...(context === undefined || context === '' ? {} : { context }),
  });

  async function removeEverything(): Promise<void> {
    const connection = connectKubernetes(config, { name: 'k8s' });
    try {
      let token: string | undefined;
      do {
        const list = await connection.api.listNamespacedSecret({
          namespace: connection.namespace,
          labelSelector: `app.kubernetes.io/managed-by=coffer,coffer.dev/cluster=${clusterPrefix}`,
          limit: 500,
          ...(token === undefined ? {} : { _continue: token }),
        });
        for (const secret of list.items) {
          const name = secret.metadata?.name;
          if (name?.startsWith(`${clusterPrefix}-`) === true) {
            await connection.api.deleteNamespacedSecret({ name, namespace: connection.namespace });
          }
        }
        token = list.metadata?._continue || undefined;
      } while (token !== undefined);
    } finally {
      await connection.close();
    }
  }

  runBackendContract({
    name: `kubernetes (real cluster, namespace ${namespace}, prefix ${clusterPrefix})`,
    listEntries: 1000,
    timeoutMs: 1_800_000,
    create: async () => {
      const made = await createContractContext({ name: 'k8s', clusterPrefix });
      const backend = await kubernetes.create(config, made.context);
      return {
        backend,
        cleanup: async () => {
          await removeEverything();
          await made.close();
        },
      };
    },
  });
}
