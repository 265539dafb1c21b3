import { remoteSettingsShape } from '@coffer/core';
import { z } from 'zod';

/**
 * Writes per second an instance sends by default. Vault has no built-in write quota (operators
 * may add rate limit quotas, answered with 429 and retried), and one Coffer put is three KV
 * requests (metadata read, data write, metadata write), so 50 leaves room for a second replica
 * and the other clients of a shared cluster.
 */
export const defaultWritesPerSecond = 50;

/**
 * The largest values (their JSON encoding) an instance stores by default: 512 KiB. Vault accepts
 * requests up to 32 MiB, but a KV version is one entry of Vault's storage backend, and those are
 * bounded: integrated storage (Raft) by `max_entry_size`, 1 MiB by default; Consul by its 512 KiB
 * value limit. Lower it a little on Consul (the entry also holds Coffer's labels and Vault's
 * framing); raise it to about 1 MiB less 16 KiB on integrated storage with the default limit.
 */
export const defaultMaxValueBytes = 512 * 1024;

/** Path segments of mounts, prefixes and namespaces: what Vault paths hold without escaping. */
const segment = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const pathPattern = new RegExp(`^${segment}(/${segment})*$`);
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

const vaultPath = (what: string) =>
  z
    .string()
    .max(256)
    .regex(
      pathPattern,
      `${what}: segments of letters, digits, "_", "." and "-" joined by "/", no leading "/"`,
    )
    .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), `${what}: no "." or ".." segments`);

const tokenAuthSchema = z
  .object({
    method: z.literal('token'),
    tokenFile: z
      .string()
      .min(1)
      .optional()
      .describe('A file holding the token (a Vault Agent sink); read again when Vault refuses the token'),
    tokenEnv: z
      .string()
      .regex(envNamePattern, 'an environment variable name')
      .default('VAULT_TOKEN')
      .describe('The environment variable holding the token when no tokenFile is given'),
  })
  .strict();

const appRoleAuthSchema = z
  .object({
    method: z.literal('approle'),
    roleId: z.string().min(1).max(256).describe('The AppRole role_id (not a secret on its own)'),
    secretIdFile: z.string().min(1).optional().describe('A file holding the secret_id; read at every login'),
    secretIdEnv: z
      .string()
      .regex(envNamePattern, 'an environment variable name')
      .default('VAULT_SECRET_ID')
      .describe('The environment variable holding the secret_id when no secretIdFile is given'),
    mountPath: vaultPath('mountPath').default('approle').describe('Where the AppRole auth method is mounted'),
  })
  .strict();

/**
 * Settings of a `vault-kv` instance. Tokens and secret ids are never settings: they come from the
 * environment (`VAULT_TOKEN`, `VAULT_SECRET_ID`) or from files, read when needed.
 *
 * @example
 * vaultKvConfigSchema.parse({ address: 'https://vault.example.com:8200', mount: 'kv', auth: { method: 'approle', roleId: '…', secretIdFile: '/run/secrets/coffer-secret-id' } });
 */
export const vaultKvConfigSchema = z
  .object({
    address: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("Vault's address, such as https://vault.example.com:8200; default: VAULT_ADDR"),
    mount: vaultPath('mount').default('secret').describe('Where the KV version 2 engine is mounted'),
    pathPrefix: vaultPath('pathPrefix')
      .optional()
      .describe("The folder of Coffer's secrets under the mount; default: the cluster prefix"),
    namespace: vaultPath('namespace')
      .optional()
      .describe('A Vault Enterprise or OpenBao namespace, sent as X-Vault-Namespace'),
    auth: z
      .discriminatedUnion('method', [tokenAuthSchema, appRoleAuthSchema])
      .default({ method: 'token', tokenEnv: 'VAULT_TOKEN' })
      .describe(
        'How to log in: { method: "token" } (VAULT_TOKEN or tokenFile) or { method: "approle", roleId }',
      ),
    caCertFile: z
      .string()
      .min(1)
      .optional()
      .describe("PEM file of the CA that signed Vault's certificate; default: Node's CA list"),
    tlsServerName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("The name to check Vault's certificate against, when it differs from the address's host"),
    maxValueBytes: z
      .number()
      .int()
      .min(1024)
      .max(32 * 1024 * 1024 - 64 * 1024)
      .default(defaultMaxValueBytes)
      .describe(
        `Largest values (JSON bytes) to store; default ${defaultMaxValueBytes}, under what Vault's storage holds per entry`,
      ),
    ...remoteSettingsShape,
  })
  .strict();

/** The parsed settings of a `vault-kv` instance. */
export type VaultKvConfig = z.infer<typeof vaultKvConfigSchema>;
export type VaultAuthConfig = VaultKvConfig['auth'];
