import {
  type KeyVaultApi,
  KeyVaultError,
  type ThrottleLimits,
  type VaultOperation,
} from '@coffer/azure-kit/double';
import type { KeyVaultKeyStore } from './keys-store.js';

/**
 * The data-plane api-versions the double answers: those `@azure/keyvault-keys` (2025-07-01 by
 * default) and Debian's `azure-keyvault-keys` (7.0 to 7.4-preview.1) send. `rotate` needs 7.3.
 */
export const supportedApiVersions: ReadonlySet<string> = new Set([
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4-preview.1',
  '7.4',
  '7.5-preview.1',
  '7.5',
  '7.6-preview.2',
  '7.6',
  '2025-07-01',
]);

/** The key operations of the REST API the double serves. */
export type KeyOperationName =
  | 'CreateKey'
  | 'GetKey'
  | 'UpdateKey'
  | 'GetKeyVersions'
  | 'WrapKey'
  | 'UnwrapKey'
  | 'RotateKey';

/** One REST operation on keys, with the RBAC data action it needs. */
export interface KeyOperation extends VaultOperation {
  name: KeyOperationName;
  keyName: string;
  version: string;
}

const action = (verb: string) => `Microsoft.KeyVault/vaults/keys/${verb}`;

/** The data actions of the built-in role "Key Vault Crypto Officer" the double checks. */
export const cryptoOfficerActions: ReadonlySet<string> = new Set([
  action('read'),
  action('create/action'),
  action('update/action'),
  action('rotate/action'),
  action('wrap/action'),
  action('unwrap/action'),
]);

/** "Key Vault Crypto Service Encryption User": read key metadata, wrap and unwrap; nothing else. */
export const cryptoServiceEncryptionUserActions: ReadonlySet<string> = new Set([
  action('read'),
  action('wrap/action'),
  action('unwrap/action'),
]);

/** The operation a method and path stand for, or undefined. */
export function matchKeyOperation(method: string, path: string): KeyOperation | undefined {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  const [collection, name, third, fourth] = parts;
  if (collection !== 'keys' || name === undefined || name === '') return undefined;
  const n = parts.length;
  const op = (
    opName: KeyOperationName,
    verb: string,
    version = '',
    limit: KeyOperation['limit'] = 'other',
  ): KeyOperation => ({ name: opName, dataAction: action(verb), limit, keyName: name, version });
  if (n === 2) {
    if (method === 'GET') return op('GetKey', 'read');
    if (method === 'PATCH') return op('UpdateKey', 'update/action');
    return undefined;
  }
  if (n === 3) {
    if (third === 'create')
      return method === 'POST' ? op('CreateKey', 'create/action', '', 'create') : undefined;
    if (third === 'rotate')
      return method === 'POST' ? op('RotateKey', 'rotate/action', '', 'create') : undefined;
    if (third === 'versions') return method === 'GET' ? op('GetKeyVersions', 'read') : undefined;
    if (method === 'GET') return op('GetKey', 'read', third);
    if (method === 'PATCH') return op('UpdateKey', 'update/action', third);
    return undefined;
  }
  if (n === 4 && method === 'POST') {
    if (fourth === 'wrapkey') return op('WrapKey', 'wrap/action', third);
    if (fourth === 'unwrapkey') return op('UnwrapKey', 'unwrap/action', third);
  }
  return undefined;
}

/**
 * Key Vault's documented service limits for software RSA 2,048-bit keys, per vault and region, in
 * 10-second windows: 20 key CREATE transactions (create and rotate), 2,000 of all other kinds.
 */
export const keyVaultKeyThrottleLimits: Readonly<ThrottleLimits> = Object.freeze({
  createPer10Seconds: 20,
  otherPer10Seconds: 2_000,
});

/**
 * Key Vault's keys REST API (the data plane of one vault, at the root of the URL) for the Azure
 * kit's Key Vault server: its api-versions, its routes, `rotate`'s api-version check, and `store`
 * behind them.
 *
 * @example
 * const running = await startKeyVaultServer({ ...keysApi(store), tenantId, principals, faults, throttle: false, certPem, keyPem });
 */
export function keysApi(store: KeyVaultKeyStore): KeyVaultApi<KeyOperation> {
  return {
    apiVersions: supportedApiVersions,
    match: matchKeyOperation,
    resourceOf: (operation) => `/keys/${operation.keyName}`,
    check: (operation, apiVersion) => {
      if (operation.name === 'RotateKey' && /^(?:2016-10-01|7\.[0-2])$/.test(apiVersion)) {
        throw new KeyVaultError(
          400,
          'BadParameter',
          `The operation rotate is not supported by api-version ${apiVersion}.`,
        );
      }
    },
    serve: async (operation, { input, query, apiVersion }) => {
      const { keyName, version } = operation;
      switch (operation.name) {
        case 'CreateKey':
          return await store.createKey(keyName, input);
        case 'RotateKey':
          return await store.rotateKey(keyName);
        case 'GetKey':
          return store.getKey(keyName, version);
        case 'UpdateKey':
          return store.updateKey(keyName, version, input);
        case 'GetKeyVersions':
          return store.listVersions(keyName, query, apiVersion);
        case 'WrapKey':
          return store.wrap(keyName, version, input, false);
        case 'UnwrapKey':
          return store.wrap(keyName, version, input, true);
      }
    },
  };
}
