import type { KeyInfo, KeyringStatus } from '../api-types.js';
import type { CallOptions, Transport } from '../http/transport.js';
import { callOptions } from './resource-support.js';

/** The keyring (admins): key ids and dates, never key material. */
export interface KeyringApi {
  /** `GET /keyring`: source, keys, `canRotate`, missing keys, re-wrap progress. */
  status(options?: CallOptions): Promise<KeyringStatus>;
  /** `POST /keyring/rotate`: adds a key, makes it current, re-wraps data keys in the background. */
  rotate(options?: CallOptions): Promise<KeyInfo>;
}

export function keyringApi(transport: Transport): KeyringApi {
  return {
    status: (options) => transport.call('GET /keyring', callOptions(options)),
    rotate: (options) => transport.call('POST /keyring/rotate', callOptions(options)),
  };
}
