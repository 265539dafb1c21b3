import {
  type StoreDoubleHandle,
  type StoreDoubleOptions,
  startStoreDouble,
} from '@coffer/backend-vault/double';

export { doubleTokens, type StoreDoubleHandle, startStoreDouble } from '@coffer/backend-vault/double';

/** The Transit key every Transit double starts with. */
export const doubleKeyName = 'coffer';

/** The Vault double, with what the `vault-transit` key source needs to point at its Transit key. */
export interface TransitDoubleHandle extends StoreDoubleHandle {
  /** `keyring` settings (without `source`) naming the double's key `coffer` at `transit/`. */
  keyring: { address: string; mount: string; keyName: string };
  /** Coffer's id of that key (`transit/keys/coffer`), as blobs and `status()` name it. */
  keyId: string;
}

/**
 * Starts the Vault double of `@coffer/backend-vault` (which serves Transit at `transit/` besides
 * KV) with an `aes256-gcm96` key named `coffer`, for the `vault-transit` key source's tests and
 * for trying it out. `env` carries `VAULT_ADDR` and a `VAULT_TOKEN` whose policy covers Transit.
 *
 * @example
 * const vault = await startTransitDouble({ throttle: false });
 * Object.assign(process.env, vault.env);
 * const keyring = { source: 'vault-transit', ...vault.keyring };
 */
export async function startTransitDouble(options: StoreDoubleOptions = {}): Promise<TransitDoubleHandle> {
  const double = await startStoreDouble(options);
  double.faults.transit().createKey(doubleKeyName, {});
  return Object.assign(double, {
    keyring: { address: double.url, mount: 'transit', keyName: doubleKeyName },
    keyId: `transit/keys/${doubleKeyName}`,
  });
}
