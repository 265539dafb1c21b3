import { isAbsolute } from 'node:path';
import { z } from 'zod';

const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });

/**
 * The `keyring` settings of the `azure-key-vault` key source (besides `source` and the keyring's
 * `cache`). Credentials are never settings: they come from `DefaultAzureCredential`
 * (AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET or a client certificate, workload
 * identity, managed identity, the Azure CLI); `AZURE_TOKEN_CREDENTIALS` narrows that chain.
 *
 * @example
 * { "keyring": { "source": "azure-key-vault", "vaultUrl": "https://acme-prod.vault.azure.net", "keyName": "coffer" } }
 */
export const azureKeyVaultKeysConfigSchema = z.strictObject({
  /** The vault's URL, e.g. https://acme-prod.vault.azure.net (a Managed HSM's URL works too). */
  vaultUrl: httpsUrl.refine((u) => {
    const url = new URL(u);
    return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
  }, 'the vault URL without a path, e.g. https://acme-prod.vault.azure.net'),
  /** The RSA key (RSA or RSA-HSM, with wrapKey and unwrapKey allowed) that wraps Coffer's data keys. */
  keyName: z.string().regex(/^[0-9a-zA-Z-]{1,127}$/, 'a Key Vault key name: 1 to 127 of 0-9, a-z, A-Z and -'),
  /** PEM file of certificate authorities to trust for the vault and Entra ID besides Node's own; an absolute path. */
  caCertificatesFile: z
    .string()
    .min(1)
    .refine((p) => isAbsolute(p), 'an absolute path to a PEM file')
    .optional(),
  /** Microsoft Entra ID authority host for a sovereign cloud or Azure Stack (default: AZURE_AUTHORITY_HOST, else login.microsoftonline.com). */
  authorityHost: httpsUrl.optional(),
  /** Trust `authorityHost` as it is, without asking login.microsoftonline.com about it (Azure Stack, private clouds, the local double). */
  disableInstanceDiscovery: z.boolean().default(false),
  /** Accept a vault whose host is not under the domain its authentication challenge names (custom domains, the local double). */
  disableChallengeResourceVerification: z.boolean().default(false),
  /** Attempts per call, the first included, when Key Vault throttles, fails with 5xx or cannot be reached. */
  maxAttempts: z.number().int().min(1).max(20).default(4),
  /** How long one Key Vault request may take before it counts as timed out. */
  requestTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});

export type AzureKeyVaultKeysConfig = z.output<typeof azureKeyVaultKeysConfigSchema>;
