import { doubleMainFor } from '@coffer/core/doubles';

export type { RunnableDouble, VendorDoubleMainOptions as DoubleMainOptions } from '@coffer/core/doubles';

/**
 * The body of a Google Cloud double's `main.ts` (`runDoubleMain` of `@coffer/core/doubles`),
 * with the environment for Application Default Credentials.
 *
 * @example
 * await runDoubleMain({
 *   start: startStoreDouble,
 *   title: (d) => `Google Cloud Secret Manager double listening on ${d.url}`,
 *   settings: (d) => ({ heading: 'Backend settings for Coffer (backends.<name>):', value: { type: 'gcp-secret-manager', ...d.settings } }),
 * });
 */
export const runDoubleMain = doubleMainFor('Environment for Application Default Credentials:');
