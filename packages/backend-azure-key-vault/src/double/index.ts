import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  CertificateFile,
  createSelfSignedCertificate,
  type DoubleIdentity,
  doubleIdentities,
  doubleIdentity,
  doublePrincipal,
  doubleVaultSettings,
  FaultPlan,
  startKeyVaultServer,
  type ThrottleLimits,
} from '@coffer/azure-kit/double';
import {
  keyVaultThrottleLimits,
  secretsApi,
  secretsOfficerActions,
  secretsUserActions,
  type VaultOperation,
} from './kv-server.js';
import { KeyVaultStore } from './kv-store.js';

export {
  badParameter,
  createSelfSignedCertificate,
  type DoubleIdentity,
  type DoublePrincipal,
  type FaultAction,
  FaultPlan,
  KeyVaultError,
  keyVaultResource,
  type SelfSignedCertificate,
  type ThrottleLimits,
} from '@coffer/azure-kit/double';
export {
  keyVaultThrottleLimits,
  matchOperation,
  secretsApi,
  secretsOfficerActions,
  secretsUserActions,
  supportedApiVersions,
  type VaultOperation,
} from './kv-server.js';
export { KeyVaultStore, keyVaultLimits, type VaultPolicy } from './kv-store.js';

/** Fault injection and state of a running double. */
export interface KeyVaultFaults {
  /** The next `count` authenticated requests (of `operation`, e.g. `SetSecret`, or of any) meet `action`. */
  inject: FaultPlan<VaultOperation['name']>['inject'];
  clear(): void;
  /** Authenticated requests that reached the double, of one operation or in all (refused ones too). */
  requestCount(operation?: string): number;
  resetCounts(): void;
  /** Deletes a secret behind the client's back (soft delete, as the portal does). */
  removeSecret(name: string): boolean;
  /** Disables the versions of a secret that hold Coffer version `version`, behind the client's back. */
  disableCofferVersion(name: string, version: number): number;
  /** Replaces the tags of every version of a secret, behind the client's back. */
  setTags(name: string, tags: Record<string, string>): boolean;
  /** Live secret names. */
  secretNames(): string[];
  /** Names pending deletion (deleted, not purged). */
  deletedNames(): string[];
  /** Enabled versions over all live secrets. */
  enabledVersionCount(): number;
  /** Every value the vault holds, live, disabled or deleted. */
  storedValues(): string[];
  /** The api-versions clients sent so far. */
  apiVersions(): ReadonlySet<string>;
  /** Other identities: one that may only read (Key Vault Secrets User), and a wrong client secret. */
  identities: { reader: DoubleIdentity; wrongSecret: DoubleIdentity };
  /** The tenant and the PEM file of the double's certificate. */
  tenantId: string;
  caFile: string;
}

/** What every store double of Coffer hands its tests and the benchmark. */
export interface StoreDoubleHandle {
  url: string;
  /** Backend settings (without `type`) that point an instance at this double. */
  settings: Record<string, unknown>;
  /** Environment the vendor's credential chain (DefaultAzureCredential) needs; the caller sets it. */
  env: Record<string, string>;
  /** One write through the vendor SDK alone, nothing of Coffer around it (the benchmark's baseline). */
  rawPut(name: string, value: string): Promise<void>;
  faults: KeyVaultFaults;
  close(): Promise<void>;
}

export interface StoreDoubleOptions {
  /** Enforce Key Vault's per-10-seconds transaction limits (default true); or give other limits. */
  throttle?: boolean | Partial<ThrottleLimits>;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** Purge protection on the vault (default false: deleted secrets can be purged). */
  purgeProtection?: boolean;
  /** Soft-delete retention in days, 7 to 90 (default 90). */
  retentionDays?: number;
}

/**
 * Starts a local Azure Key Vault on 127.0.0.1: the secrets REST API (api-versions 2016-10-01
 * to 2025-07-01) over HTTPS, with Key Vault's bearer challenge, RBAC data actions, soft delete,
 * purge and recover, the 25 KB value limit, name rules, `nextLink` paging and 429 throttling;
 * and a Microsoft Entra ID tenant (OpenID configuration and the client-credentials token
 * endpoint) for `ClientSecretCredential` / `DefaultAzureCredential` to get tokens from.
 *
 * TLS: the Azure SDKs send bearer tokens only over https (and `@azure/identity` wants an https
 * authority), so the double serves HTTPS with a certificate made at start by node:crypto
 * (`@coffer/azure-kit`'s `createSelfSignedCertificate`, for 127.0.0.1 and localhost) and written to `faults.caFile`.
 * `NODE_EXTRA_CA_CERTS` is read once at process start, too late for a double started by a
 * test, and `NODE_TLS_REJECT_UNAUTHORIZED=0` would weaken every connection of the process, so
 * neither is used: clients trust the certificate per client instead. Coffer's backend takes it
 * as the setting `caCertificatesFile` (added to Node's CAs for the vault's and Entra ID's
 * HTTPS agents through the SDKs' `tlsOptions`); Python's SDK through `REQUESTS_CA_BUNDLE`.
 * The settings also set `authorityHost` to the double with `disableInstanceDiscovery` (MSAL
 * would otherwise ask login.microsoftonline.com about the authority) and
 * `disableChallengeResourceVerification` (the SDK checks that the vault's host lies under the
 * challenge's resource domain, which 127.0.0.1 cannot).
 *
 * `env` holds AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET of an application with
 * the data actions of "Key Vault Secrets Officer", and AZURE_TOKEN_CREDENTIALS=
 * EnvironmentCredential, so DefaultAzureCredential never falls through to the managed
 * identity endpoint (169.254.169.254) or the Azure CLI.
 *
 * @example
 * const double = await startStoreDouble({ throttle: false });
 * Object.assign(process.env, double.env);
 * const config = { type: 'azure-key-vault', ...double.settings };
 */
export async function startStoreDouble(options: StoreDoubleOptions = {}): Promise<StoreDoubleHandle> {
  const tenantId = randomUUID();
  const officer = doublePrincipal(secretsOfficerActions);
  const reader = doublePrincipal(secretsUserActions);
  const store = new KeyVaultStore({
    retentionDays: options.retentionDays ?? 90,
    purgeProtection: options.purgeProtection ?? false,
  });
  const plan = new FaultPlan<VaultOperation['name']>();
  const seenVersions = new Set<string>();
  const certificate = createSelfSignedCertificate();
  const throttle = options.throttle ?? true;
  const running = await startKeyVaultServer({
    ...secretsApi(store),
    tenantId,
    principals: [officer, reader],
    faults: plan,
    throttle:
      throttle === false ? false : { ...keyVaultThrottleLimits, ...(throttle === true ? {} : throttle) },
    certPem: certificate.certPem,
    keyPem: certificate.keyPem,
    onApiVersion: (v) => seenVersions.add(v),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  store.vaultUrl = running.url;
  const ca = new CertificateFile('coffer-azure-double-', certificate.certPem);
  const tlsOptions = { ca: certificate.certPem };
  const raw = new SecretClient(
    running.url,
    new ClientSecretCredential(tenantId, officer.clientId, officer.clientSecret, {
      authorityHost: running.url,
      disableInstanceDiscovery: true,
      tlsOptions,
    }),
    { disableChallengeResourceVerification: true, tlsOptions },
  );
  return {
    url: running.url,
    settings: doubleVaultSettings(running.url, ca.path),
    env: doubleIdentity(tenantId, officer).env,
    async rawPut(name, value) {
      await raw.setSecret(name, value);
    },
    faults: {
      inject: (action, opts) => plan.inject(action, opts),
      clear: () => plan.clear(),
      requestCount: (operation) => plan.requestCount(operation as VaultOperation['name'] | undefined),
      resetCounts: () => plan.resetCounts(),
      removeSecret: (name) => store.removeBehindBack(name),
      disableCofferVersion: (name, version) =>
        store.disableBehindBack(name, 'coffer-version', String(version)),
      setTags: (name, tags) => store.setTagsBehindBack(name, tags),
      secretNames: () => store.secretNames(),
      deletedNames: () => store.deletedNames(),
      enabledVersionCount: () => store.enabledVersionCount(),
      storedValues: () => store.allValues(),
      apiVersions: () => seenVersions,
      identities: doubleIdentities(tenantId, officer, { reader }),
      tenantId,
      caFile: ca.path,
    },
    async close() {
      await running.close();
      ca.remove();
    },
  };
}
