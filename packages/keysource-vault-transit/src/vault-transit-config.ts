import { vaultKvConfigSchema } from '@coffer/backend-vault';
import { z } from 'zod';

/** Path segments of mounts and namespaces, as the Vault store takes them. */
const segment = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const pathPattern = new RegExp(`^${segment}(/${segment})*$`);
const vaultPath = (what: string) =>
  z
    .string()
    .max(256)
    .regex(
      pathPattern,
      `${what}: segments of letters, digits, "_", "." and "-" joined by "/", no leading "/"`,
    )
    .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), `${what}: no "." or ".." segments`);

// Address, namespace, login and TLS settings read exactly as the Vault store reads them.
const store = vaultKvConfigSchema.shape;

/**
 * The `keyring` settings of the `vault-transit` key source (besides `source` and the keyring's
 * `cache`). Tokens and AppRole secret ids are never settings: they come from `VAULT_TOKEN` /
 * `VAULT_SECRET_ID` or from files, as for the Vault store.
 *
 * @example
 * { "keyring": { "source": "vault-transit", "address": "https://vault.example.com:8200", "keyName": "coffer" } }
 */
export const vaultTransitConfigSchema = z.strictObject({
  /** Vault's address; default `VAULT_ADDR`. */
  address: store.address,
  /** Where the Transit engine is mounted. */
  mount: vaultPath('mount').default('transit'),
  /** The Transit key that wraps Coffer's data keys: an `aes256-gcm96` or `chacha20-poly1305` key, not derived. */
  keyName: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a Transit key name (letters, digits, "_", "." and "-")'),
  /** A Vault Enterprise or OpenBao namespace, sent as X-Vault-Namespace; default `VAULT_NAMESPACE`. */
  namespace: store.namespace,
  /** How to log in: `{ method: "token" }` (VAULT_TOKEN or tokenFile) or `{ method: "approle", roleId }`. */
  auth: store.auth,
  /** PEM file of the CA that signed Vault's certificate; default `VAULT_CACERT`, else Node's CA list. */
  caCertFile: store.caCertFile,
  /** The name to check Vault's certificate against; default `VAULT_TLS_SERVER_NAME`. */
  tlsServerName: store.tlsServerName,
  /** Attempts per call, the first included, when Vault throttles (429), is sealed or fails with 5xx. */
  maxAttempts: z.number().int().min(1).max(20).default(4),
  /** How long one Vault request may take before it counts as timed out. */
  requestTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});

export type VaultTransitConfig = z.output<typeof vaultTransitConfigSchema>;

/**
 * The settings with what the Vault CLI reads from the environment filled in (`VAULT_ADDR`,
 * `VAULT_NAMESPACE`, `VAULT_CACERT`, `VAULT_TLS_SERVER_NAME`) where the settings leave them out.
 *
 * @example
 * const full = withTransitEnvironment(vaultTransitConfigSchema.parse({ keyName: 'coffer' }));
 */
export function withTransitEnvironment(
  config: VaultTransitConfig,
  env: NodeJS.ProcessEnv = process.env,
): VaultTransitConfig {
  const pick = (value: string | undefined, name: string) =>
    value ?? (env[name] === '' ? undefined : env[name]);
  return {
    ...config,
    address: pick(config.address, 'VAULT_ADDR'),
    namespace: pick(config.namespace, 'VAULT_NAMESPACE'),
    caCertFile: pick(config.caCertFile, 'VAULT_CACERT'),
    tlsServerName: pick(config.tlsServerName, 'VAULT_TLS_SERVER_NAME'),
  };
}

/**
 * Coffer's id of the key (`ExternalKey.keyId`, written into every blob it wraps): the namespace,
 * mount and key name as a Vault path, e.g. `transit/keys/coffer` or `team-a/transit/keys/coffer`.
 */
export function transitKeyId(config: Pick<VaultTransitConfig, 'namespace' | 'mount' | 'keyName'>): string {
  const namespace = config.namespace === undefined ? '' : `${config.namespace.replace(/\/+$/, '')}/`;
  return `${namespace}${config.mount}/keys/${config.keyName}`;
}
