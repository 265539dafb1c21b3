import { remoteSettingsShape } from '@coffer/core';
import { z } from 'zod';

/**
 * Writes per second an instance sends by default. The API server publishes no write quota:
 * API Priority and Fairness shares its concurrency among all clients and answers 429 when a
 * priority level's queues are full. 20 writes a second stays well inside what a control plane
 * serves while leaving room for the controllers that share it (client-go's own default is 5
 * requests a second, with bursts of 10).
 */
export const defaultWritesPerSecond = 20;

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Settings of a `kubernetes` instance. Credentials are never settings: they come from the pod's
 * service account (in-cluster) or from a kubeconfig file, as kubectl finds them.
 *
 * @example
 * kubernetesConfigSchema.parse({ namespace: 'coffer' }); // in a pod, or with ~/.kube/config
 * kubernetesConfigSchema.parse({ auth: 'kubeconfig', kubeconfigPath: '/etc/coffer/kubeconfig', context: 'prod', namespace: 'coffer' });
 */
export const kubernetesConfigSchema = z
  .object({
    namespace: z
      .string()
      .max(63)
      .regex(dnsLabel, 'a namespace name: lowercase letters, digits and "-", at most 63')
      .optional()
      .describe(
        "The namespace that holds the values. Default in a pod: the service account's namespace; required with a kubeconfig",
      ),
    auth: z
      .enum(['auto', 'in-cluster', 'kubeconfig'])
      .default('auto')
      .describe(
        'How to reach the cluster: "in-cluster" (the pod\'s service account token and CA), "kubeconfig" (a kubeconfig file), or "auto" (the way kubectl looks: KUBECONFIG, ~/.kube/config, then in-cluster)',
      ),
    kubeconfigPath: z
      .string()
      .min(1)
      .optional()
      .describe('The kubeconfig file to use (auth "kubeconfig"); default: KUBECONFIG, then ~/.kube/config'),
    context: z
      .string()
      .min(1)
      .optional()
      .describe('The kubeconfig context to use; default: its current-context'),
    ...remoteSettingsShape,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.auth === 'in-cluster') {
      for (const key of ['kubeconfigPath', 'context'] as const) {
        if (config[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is a kubeconfig setting; with auth "in-cluster" the pod\'s service account is used',
          });
        }
      }
    }
  });

/** The parsed settings of a `kubernetes` instance. */
export type KubernetesConfig = z.infer<typeof kubernetesConfigSchema>;
