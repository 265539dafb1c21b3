import { VaultHttp, VaultSession } from '@coffer/backend-vault';
import {
  CofferError,
  defineKeySource,
  type ExternalKeySourceContext,
  type KeySourceDefinition,
} from '@coffer/core';
import {
  type VaultTransitConfig,
  vaultTransitConfigSchema,
  withTransitEnvironment,
} from './vault-transit-config.js';
import { VaultTransitKeySource, vaultTransitType } from './vault-transit-key-source.js';

export {
  transitKeyId,
  type VaultTransitConfig,
  vaultTransitConfigSchema,
  withTransitEnvironment,
} from './vault-transit-config.js';
export {
  classifyTransitAnswer,
  classifyTransitError,
  type TransitFailure,
  TransitStatusError,
} from './vault-transit-errors.js';
export {
  type TransitKeyInfo,
  VaultTransitKeySource,
  vaultTransitType,
  versionOf,
} from './vault-transit-key-source.js';
export { bindContext, contextDigest, openBound } from './wrap-binding.js';

/**
 * A Transit key source from its parsed settings: the address and TLS settings (or `VAULT_ADDR`,
 * `VAULT_CACERT`, ...), and a Vault session that logs in with a token or AppRole exactly as the
 * Vault store does. Problems with the settings are `invalid_config` naming `keyring.<setting>`.
 *
 * @example
 * const source = createVaultTransitKeySource(vaultTransitConfigSchema.parse({ keyName: 'coffer' }), { logger, clock });
 */
export function createVaultTransitKeySource(
  parsed: VaultTransitConfig,
  context: ExternalKeySourceContext,
  env: NodeJS.ProcessEnv = process.env,
): VaultTransitKeySource {
  const config = withTransitEnvironment(parsed, env);
  const invalid = (setting: string, message: string) =>
    new CofferError('invalid_config', `invalid configuration: keyring.${setting} ${message}`, {
      details: { issues: [{ path: `keyring.${setting}`, message }] },
    });
  if (config.address === undefined)
    throw invalid('address', 'is required (or VAULT_ADDR in the environment)');
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
    throw invalid('caCertFile', `cannot be read (${typeof code === 'string' ? code : 'error'})`);
  }
  const session = new VaultSession(http, config.auth, env, context.logger, 'keyring');
  return new VaultTransitKeySource(http, session, config, context);
}

/**
 * HashiCorp Vault (or OpenBao) Transit as a Coffer keyring key source
 * (`keyring.source: vault-transit`): a Transit key wraps each data key, bound to the deployment,
 * secret and version.
 *
 * @example
 * // coffer.json, with VAULT_TOKEN in the environment
 * { "keyring": { "source": "vault-transit", "address": "https://vault.example.com:8200", "keyName": "coffer" } }
 */
export const vaultTransitKeySourceDefinition: KeySourceDefinition<VaultTransitConfig> = defineKeySource({
  id: vaultTransitType,
  displayName: 'HashiCorp Vault Transit',
  configSchema:
    vaultTransitConfigSchema as unknown as KeySourceDefinition<VaultTransitConfig>['configSchema'],
  create: (config, context) => createVaultTransitKeySource(config, context),
});

export default vaultTransitKeySourceDefinition;
