import { type BackendDefinition, CofferError, defineBackend } from '@coffer/core';
import { VaultSession } from './vault-auth.js';
import { VaultKvBackend, vaultKvCapabilities, vaultKvType } from './vault-backend.js';
import { type VaultKvConfig, vaultKvConfigSchema } from './vault-config.js';
import { VaultHttp } from './vault-http.js';

export { type DeniedVerdict, VaultSession } from './vault-auth.js';
export {
  customMetadataKeyLimit,
  type KvMetadata,
  maxVersionsPerSecret,
  parseMetadata,
  VaultKvBackend,
  vaultKvCapabilities,
  vaultKvType,
} from './vault-backend.js';
export {
  defaultMaxValueBytes,
  defaultWritesPerSecond,
  type VaultAuthConfig,
  type VaultKvConfig,
  vaultKvConfigSchema,
} from './vault-config.js';
export {
  classifyVaultAnswer,
  classifyVaultError,
  type VaultFailure,
  VaultStatusError,
  vaultRetryVerdict,
} from './vault-errors.js';
export {
  escapePath,
  VaultHttp,
  type VaultHttpOptions,
  type VaultRequest,
  VaultRequestTimeout,
  type VaultResponse,
} from './vault-http.js';
export { indexKey, secretPath, type VersionHeader, versionOfIndexKey } from './vault-names.js';

/**
 * The settings with what the Vault CLI reads from the environment filled in: `VAULT_ADDR`,
 * `VAULT_NAMESPACE`, `VAULT_CACERT` and `VAULT_TLS_SERVER_NAME`, for what the settings leave out.
 */
export function withVaultEnvironment(
  config: VaultKvConfig,
  env: NodeJS.ProcessEnv = process.env,
): VaultKvConfig {
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
 * HashiCorp Vault or OpenBao KV version 2 as a Coffer backend (`type: vault-kv`).
 *
 * @example
 * // coffer.json, with VAULT_TOKEN in the environment
 * { "backends": { "vault": { "type": "vault-kv", "address": "https://vault.example.com:8200", "mount": "kv" } }, "backend": "vault" }
 */
export const vaultKvBackendDefinition: BackendDefinition<VaultKvConfig> = defineBackend({
  id: vaultKvType,
  displayName: 'HashiCorp Vault / OpenBao KV v2',
  description:
    'Values in a Vault or OpenBao KV version 2 engine: one KV secret per Coffer secret at <mount>/<pathPrefix>/<secret id>, each Coffer version a KV version written with check-and-set.',
  configSchema: vaultKvConfigSchema as unknown as BackendDefinition<VaultKvConfig>['configSchema'],
  capabilities: vaultKvCapabilities,
  create: (parsed, context) => {
    const config = withVaultEnvironment(parsed);
    if (config.address === undefined) {
      throw new CofferError(
        'invalid_config',
        `invalid configuration: backends.${context.name}.address is required (or VAULT_ADDR in the environment)`,
        { details: { issues: [{ path: `backends.${context.name}.address`, message: 'is required' }] } },
      );
    }
    let http: VaultHttp;
    try {
      http = new VaultHttp({
        address: config.address,
        namespace: config.namespace,
        caCertFile: config.caCertFile,
        tlsServerName: config.tlsServerName,
        timeoutMs: config.requestTimeoutMs,
      });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new CofferError(
        'invalid_config',
        `invalid configuration: backends.${context.name}.caCertFile cannot be read (${typeof code === 'string' ? code : 'error'})`,
        { details: { issues: [{ path: `backends.${context.name}.caCertFile`, message: 'cannot be read' }] } },
      );
    }
    const session = new VaultSession(http, config.auth, process.env, context.logger, context.name);
    return new VaultKvBackend(http, session, config, context);
  },
});

export default vaultKvBackendDefinition;
