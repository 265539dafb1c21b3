import { randomUUID } from 'node:crypto';
import {
  CertificateFile,
  createSelfSignedCertificate,
  type DoubleIdentity,
  doubleIdentities,
  doubleIdentity,
  doublePrincipal,
  doubleVaultSettings,
  FaultPlan,
  type IssuedToken,
  type RunningVault,
  startKeyVaultServer,
  type ThrottleLimits,
} from '@coffer/azure-kit/double';
import {
  cryptoOfficerActions,
  cryptoServiceEncryptionUserActions,
  type KeyOperationName,
  keysApi,
  keyVaultKeyThrottleLimits,
} from './keys-server.js';
import { KeyVaultKeyStore } from './keys-store.js';

export {
  type DoubleIdentity,
  type DoublePrincipal,
  type FaultAction,
  FaultPlan,
  type ThrottleLimits,
} from '@coffer/azure-kit/double';
export {
  cryptoOfficerActions,
  cryptoServiceEncryptionUserActions,
  type KeyOperation,
  type KeyOperationName,
  keysApi,
  keyVaultKeyThrottleLimits,
  matchKeyOperation,
  supportedApiVersions,
} from './keys-server.js';
export { KeyVaultKeyStore, keyVaultKeyLimits } from './keys-store.js';

/** The key a double makes on start, which `settings.keyName` names. */
export const doubleKeyName = 'coffer';

/** Fault injection and state of a running Key Vault keys double. */
export interface KeyVaultKeysFaults {
  /** The next `count` authenticated requests (of `operation`, e.g. `UnwrapKey`, or of any) meet `action`. */
  inject: FaultPlan<KeyOperationName>['inject'];
  clear(): void;
  /** Authenticated requests that reached the double, of one operation or in all (refused ones too). */
  requestCount: FaultPlan<KeyOperationName>['requestCount'];
  resetCounts(): void;
  /** The double's keys, to rotate or disable versions behind the client's back. */
  store: KeyVaultKeyStore;
  /** The api-versions clients sent so far. */
  apiVersions(): ReadonlySet<string>;
  /**
   * Other identities: one with only "Key Vault Crypto Service Encryption User" (read, wrap,
   * unwrap), and the main application with a wrong client secret.
   */
  identities: { encryptionUser: DoubleIdentity; wrongSecret: DoubleIdentity };
  /** The tenant and the PEM file of the double's certificate. */
  tenantId: string;
  caFile: string;
}

/** A running Azure Key Vault keys double, in the shape of Coffer's KMS doubles. */
export interface KeyVaultKeysDoubleHandle {
  /** The vault's URL. */
  url: string;
  /** `keyring` settings (without `source`) that point a key source at this double's key. */
  settings: {
    vaultUrl: string;
    keyName: string;
    authorityHost: string;
    disableInstanceDiscovery: true;
    disableChallengeResourceVerification: true;
    caCertificatesFile: string;
  };
  /** The key's id without a version (`https://127.0.0.1:port/keys/coffer`). */
  keyId: string;
  /** Environment DefaultAzureCredential needs to reach the double; the caller sets it. */
  env: Record<string, string>;
  /** Fault injection, request counts and state; counts go on across `stop()`/`start()`. */
  readonly faults: KeyVaultKeysFaults;
  /** Stops answering (connections are refused), keeping the keys: an outage. */
  stop(): Promise<void>;
  /** Answers again on the same port with the same keys and tokens. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface KeyVaultKeysDoubleOptions {
  /** Enforce Key Vault's per-10-seconds transaction limits for keys (default true); or give other limits. */
  throttle?: boolean | Partial<ThrottleLimits>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
}

/**
 * Starts a local Azure Key Vault (keys) on 127.0.0.1: the keys REST API (create, get, versions,
 * update attributes, `rotate`, `wrapkey`/`unwrapkey` with RSA-OAEP-256 done by node:crypto) over
 * HTTPS with Key Vault's bearer challenge, RBAC data actions and 429 throttling, and a Microsoft
 * Entra ID tenant for `DefaultAzureCredential` to get tokens from. It makes the RSA key `coffer`
 * on start. TLS and authority settings work as in the Key Vault secrets double of
 * `@coffer/backend-azure-key-vault/double` (both are built on `@coffer/azure-kit/double`): the
 * certificate is written to `faults.caFile` and named by `settings.caCertificatesFile`.
 *
 * @example
 * const vault = await startKeyVaultKeysDouble({ throttle: false });
 * Object.assign(process.env, vault.env);
 * const keyring = { source: 'azure-key-vault', ...vault.settings };
 */
export async function startKeyVaultKeysDouble(
  options: KeyVaultKeysDoubleOptions = {},
): Promise<KeyVaultKeysDoubleHandle> {
  const tenantId = randomUUID();
  const officer = doublePrincipal(cryptoOfficerActions);
  const encryptionUser = doublePrincipal(cryptoServiceEncryptionUserActions);
  const store = new KeyVaultKeyStore();
  const plan = new FaultPlan<KeyOperationName>();
  const seenVersions = new Set<string>();
  const certificate = createSelfSignedCertificate();
  const throttle = options.throttle ?? true;
  // Tokens outlive a stop()/start(): an outage of the vault does not revoke credentials.
  const tokens = new Map<string, IssuedToken>();
  let port = options.port;
  let running: RunningVault | undefined;
  const launch = async () => {
    running = await startKeyVaultServer({
      ...keysApi(store),
      tenantId,
      principals: [officer, encryptionUser],
      faults: plan,
      tokens,
      throttle:
        throttle === false ? false : { ...keyVaultKeyThrottleLimits, ...(throttle === true ? {} : throttle) },
      certPem: certificate.certPem,
      keyPem: certificate.keyPem,
      onApiVersion: (v) => seenVersions.add(v),
      ...(port === undefined ? {} : { port }),
    });
    store.vaultUrl = running.url;
    port = Number(new URL(running.url).port);
  };
  await launch();
  const url = running!.url;
  await store.createKey(doubleKeyName, { kty: 'RSA', key_size: 2048 });
  const ca = new CertificateFile('coffer-azure-keys-double-', certificate.certPem);
  const { vaultUrl, ...trust } = doubleVaultSettings(url, ca.path);
  let closed = false;
  return {
    url,
    settings: { vaultUrl, keyName: doubleKeyName, ...trust },
    keyId: `${url}/keys/${doubleKeyName}`,
    env: doubleIdentity(tenantId, officer).env,
    faults: {
      inject: (action, opts) => plan.inject(action, opts),
      clear: () => plan.clear(),
      requestCount: (operation) => plan.requestCount(operation),
      resetCounts: () => plan.resetCounts(),
      store,
      apiVersions: () => seenVersions,
      identities: doubleIdentities(tenantId, officer, { encryptionUser }),
      tenantId,
      caFile: ca.path,
    },
    async stop() {
      const was = running;
      running = undefined;
      await was?.close();
    },
    async start() {
      if (running === undefined && !closed) await launch();
    },
    async close() {
      closed = true;
      const was = running;
      running = undefined;
      await was?.close();
      ca.remove();
    },
  };
}
