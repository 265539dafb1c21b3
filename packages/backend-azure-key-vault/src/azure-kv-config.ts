import { remoteSettingsShape } from '@coffer/core';
import { z } from 'zod';

/**
 * Writes per second an instance sends by default. Key Vault allows 300 secret CREATE
 * transactions (a set) per 10 seconds per vault and region, and 4,000 of every other kind;
 * one Coffer put is one set plus a list and, when it replaces a version, an update. Half of the
 * create limit leaves room for other users of the vault and a second replica.
 */
export const defaultWritesPerSecond = 15;

/** The data-plane api-versions of `@azure/keyvault-secrets` an instance may pin. */
export const serviceVersions = ['7.5', '7.6', '2025-07-01'] as const;

const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });

/**
 * Settings of an `azure-key-vault` instance. Credentials are never settings: they come from
 * `DefaultAzureCredential` (AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET or a client
 * certificate, workload identity, managed identity, the Azure CLI). `AZURE_TOKEN_CREDENTIALS`
 * narrows that chain to one kind, as the Azure SDK documents.
 *
 * @example
 * azureKeyVaultConfigSchema.parse({ vaultUrl: 'https://acme-prod.vault.azure.net' });
 */
export const azureKeyVaultConfigSchema = z
  .object({
    vaultUrl: httpsUrl
      .refine((u) => {
        const url = new URL(u);
        return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
      }, 'the vault URL without a path, e.g. https://acme-prod.vault.azure.net')
      .describe("The vault's URL, e.g. https://acme-prod.vault.azure.net"),
    authorityHost: httpsUrl
      .optional()
      .describe(
        'Microsoft Entra ID authority host for a sovereign cloud or Azure Stack (default: AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com)',
      ),
    disableInstanceDiscovery: z
      .boolean()
      .default(false)
      .describe(
        'Trust authorityHost as it is, without asking login.microsoftonline.com about it (Azure Stack, private clouds, the local double)',
      ),
    disableChallengeResourceVerification: z
      .boolean()
      .default(false)
      .describe(
        'Accept a vault whose host is not under the domain of the resource its authentication challenge names (custom domains, the local double on 127.0.0.1)',
      ),
    caCertificatesFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PEM file of certificate authorities to trust for the vault and Entra ID besides Node's own (a TLS-inspecting proxy, a private CA, the local double); relative to the data directory",
      ),
    serviceVersion: z
      .enum(serviceVersions)
      .optional()
      .describe('The Key Vault api-version to send (default: the newest the SDK knows, 2025-07-01)'),
    purgeDeleted: z
      .boolean()
      .default(false)
      .describe(
        "Purge a deleted secret at once instead of leaving it recoverable for the vault's retention period (needs the purge permission; a vault with purge protection refuses, and the secret then waits out its retention)",
      ),
    ...remoteSettingsShape,
  })
  .strict();

/** The parsed settings of an `azure-key-vault` instance. */
export type AzureKeyVaultConfig = z.infer<typeof azureKeyVaultConfigSchema>;
