import type { KeyVaultApi, VaultOperation as KitOperation, ThrottleLimits } from '@coffer/azure-kit/double';
import type { KeyVaultStore } from './kv-store.js';

/**
 * The data-plane api-versions the double answers: every version of the secrets API that
 * `@azure/keyvault-secrets` (2025-07-01 by default; 7.5, 7.6 on request) and Debian's
 * `azure-keyvault-secrets` (7.3 by default; 7.0 to 7.3, 2016-10-01) send.
 */
export const supportedApiVersions: ReadonlySet<string> = new Set([
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6-preview.1',
  '7.6-preview.2',
  '7.6',
  '2025-07-01',
]);

/** One REST operation of the secrets API, with the RBAC data action it needs. */
export interface VaultOperation extends KitOperation {
  name:
    | 'SetSecret'
    | 'GetSecret'
    | 'UpdateSecret'
    | 'DeleteSecret'
    | 'GetSecrets'
    | 'GetSecretVersions'
    | 'GetDeletedSecrets'
    | 'GetDeletedSecret'
    | 'PurgeDeletedSecret'
    | 'RecoverDeletedSecret';
  secretName?: string;
  version?: string;
}

const action = (verb: string) => `Microsoft.KeyVault/vaults/secrets/${verb}`;

/** The data actions of the built-in role "Key Vault Secrets Officer" that the double checks. */
export const secretsOfficerActions: ReadonlySet<string> = new Set([
  action('getSecret/action'),
  action('setSecret/action'),
  action('update/action'),
  action('readMetadata/action'),
  action('delete'),
  action('recover/action'),
  action('purge/action'),
]);

/** "Key Vault Secrets User": read values and metadata, nothing else. */
export const secretsUserActions: ReadonlySet<string> = new Set([
  action('getSecret/action'),
  action('readMetadata/action'),
]);

/** The operation a method and path stand for, or undefined. */
export function matchOperation(method: string, path: string): VaultOperation | undefined {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  const [collection, name, third, fourth] = parts;
  const n = parts.length;
  if (collection === 'secrets') {
    if (n === 1) return method === 'GET' ? op('GetSecrets', 'readMetadata/action') : undefined;
    if (n === 2 || (n === 3 && third === '')) {
      const version = { secretName: name!, version: '' };
      if (method === 'PUT' && n === 2)
        return { ...op('SetSecret', 'setSecret/action', 'create'), ...version };
      if (method === 'GET') return { ...op('GetSecret', 'getSecret/action'), ...version };
      if (method === 'PATCH') return { ...op('UpdateSecret', 'update/action'), ...version };
      if (method === 'DELETE' && n === 2) return { ...op('DeleteSecret', 'delete'), secretName: name! };
      return undefined;
    }
    if (n === 3 && third === 'versions' && method === 'GET') {
      return { ...op('GetSecretVersions', 'readMetadata/action'), secretName: name! };
    }
    if (n === 3) {
      const version = { secretName: name!, version: third! };
      if (method === 'GET') return { ...op('GetSecret', 'getSecret/action'), ...version };
      if (method === 'PATCH') return { ...op('UpdateSecret', 'update/action'), ...version };
    }
    return undefined;
  }
  if (collection === 'deletedsecrets') {
    if (n === 1) return method === 'GET' ? op('GetDeletedSecrets', 'readMetadata/action') : undefined;
    if (n === 2 && method === 'GET')
      return { ...op('GetDeletedSecret', 'readMetadata/action'), secretName: name! };
    if (n === 2 && method === 'DELETE') {
      return { ...op('PurgeDeletedSecret', 'purge/action'), secretName: name! };
    }
    if (n === 3 && third === 'recover' && method === 'POST' && fourth === undefined) {
      return { ...op('RecoverDeletedSecret', 'recover/action'), secretName: name! };
    }
  }
  return undefined;
}

function op(
  name: VaultOperation['name'],
  verb: string,
  limit: VaultOperation['limit'] = 'other',
): VaultOperation {
  return { name, dataAction: action(verb), limit };
}

/**
 * Key Vault's documented service limits for secrets, per vault and region, in 10-second
 * windows: 300 secret CREATE transactions (a set), 4,000 of all other transactions.
 */
export const keyVaultThrottleLimits: Readonly<ThrottleLimits> = Object.freeze({
  createPer10Seconds: 300,
  otherPer10Seconds: 4_000,
});

/**
 * Key Vault's secrets REST API (the data plane of one vault, at the root of the URL) for the
 * Azure kit's Key Vault server: its api-versions, its routes, and `store` behind them.
 *
 * @example
 * const running = await startKeyVaultServer({ ...secretsApi(store), tenantId, principals, faults, throttle: false, certPem, keyPem });
 */
export function secretsApi(store: KeyVaultStore): KeyVaultApi<VaultOperation> {
  return {
    apiVersions: supportedApiVersions,
    match: matchOperation,
    resourceOf: (operation) => `/secrets/${operation.secretName ?? ''}`,
    serve: (operation, { input, query, apiVersion }) => {
      const name = operation.secretName ?? '';
      const version = operation.version ?? '';
      switch (operation.name) {
        case 'SetSecret':
          return store.setSecret(name, input);
        case 'GetSecret':
          return store.getSecret(name, version);
        case 'UpdateSecret':
          return store.updateSecret(name, version, input);
        case 'DeleteSecret':
          return store.deleteSecret(name);
        case 'GetSecrets':
          return store.listSecrets(query, apiVersion);
        case 'GetSecretVersions':
          return store.listVersions(name, query, apiVersion);
        case 'GetDeletedSecrets':
          return store.listDeletedSecrets(query, apiVersion);
        case 'GetDeletedSecret':
          return store.getDeletedSecret(name);
        case 'PurgeDeletedSecret':
          // 204 No Content
          store.purgeDeletedSecret(name);
          return undefined;
        case 'RecoverDeletedSecret':
          return store.recoverDeletedSecret(name);
      }
    },
  };
}
