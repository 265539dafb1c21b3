import { type BackendDefinition, CofferError, defineBackend } from '@coffer/core';
import { KubernetesBackend, kubernetesCapabilities, kubernetesType } from './k8s-backend.js';
import { connectKubernetes } from './k8s-client.js';
import { type KubernetesConfig, kubernetesConfigSchema } from './k8s-config.js';
import { isLabelValue } from './k8s-names.js';

export {
  KubernetesBackend,
  kubernetesCapabilities,
  kubernetesLimits,
  kubernetesType,
  maxSecretDataBytes,
} from './k8s-backend.js';
export {
  type ConnectOptions,
  connectKubernetes,
  type KubernetesConnection,
  type SecretsApiLike,
} from './k8s-client.js';
export { defaultWritesPerSecond, type KubernetesConfig, kubernetesConfigSchema } from './k8s-config.js';
export { classifyKubernetesError, type KubernetesFailure } from './k8s-errors.js';
export {
  isLabelValue,
  nameSeparator,
  ownedSelector,
  refOfSecretName,
  secretLabelNames,
  secretLabels,
  secretNameOf,
  valuesKey,
} from './k8s-names.js';

/**
 * Kubernetes Secrets as a Coffer backend (`type: kubernetes`).
 *
 * @example
 * // coffer.json, in a pod whose service account may manage Secrets in its namespace
 * { "backends": { "k8s": { "type": "kubernetes" } }, "backend": "k8s" }
 */
export const kubernetesBackendDefinition: BackendDefinition<KubernetesConfig> = defineBackend({
  id: kubernetesType,
  displayName: 'Kubernetes Secrets',
  description:
    'Values in Kubernetes Secrets of one namespace: one Secret per Coffer version, named by cluster prefix, secret id and version, labelled with the owning deployment.',
  configSchema: kubernetesConfigSchema as unknown as BackendDefinition<KubernetesConfig>['configSchema'],
  capabilities: kubernetesCapabilities,
  create: (config, context) => {
    if (!isLabelValue(context.deploymentId) || !isLabelValue(context.clusterPrefix)) {
      throw new CofferError(
        'invalid_config',
        `backend ${context.name}: the deployment id and cluster prefix must be Kubernetes label values (at most 63 of letters, digits, "-", "_" and ".", starting and ending with a letter or digit)`,
      );
    }
    const connection = connectKubernetes(config, { name: context.name });
    return new KubernetesBackend(connection.api, connection.namespace, config, context, () =>
      connection.close(),
    );
  },
});

export default kubernetesBackendDefinition;
