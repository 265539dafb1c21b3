import { doubleMainFor } from '@coffer/core/doubles';

export type { RunnableDouble, VendorDoubleMainOptions as DoubleMainOptions } from '@coffer/core/doubles';

/**
 * The body of an Azure double's `main.ts` (`runDoubleMain` of `@coffer/core/doubles`), with the
 * environment for DefaultAzureCredential.
 *
 * @example
 * await runDoubleMain({
 *   start: startStoreDouble,
 *   title: (d) => `Azure Key Vault double listening on ${d.url}`,
 *   settings: (d) => ({ heading: 'Backend settings for Coffer (backends.<name>):', value: { type: 'azure-key-vault', ...d.settings } }),
 * });
 */
export const runDoubleMain = doubleMainFor('Environment for DefaultAzureCredential:');
