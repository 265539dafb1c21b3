import { randomUUID } from 'node:crypto';
import { customLabelsOf } from './kv-settings.js';

/**
 * Vault's response envelope around `data`: no leases (Coffer's values are not leased), no
 * response wrapping, no auth block.
 *
 * @example
 * vaultEnvelope({ keys: ['mail'] });
 * // { request_id: '…', lease_id: '', renewable: false, lease_duration: 0, data: { keys: ['mail'] }, wrap_info: null, warnings: null, auth: null }
 */
export function vaultEnvelope(data: unknown, warnings: readonly string[] = [], mountType?: string) {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: warnings.length === 0 ? null : [...warnings],
    auth: null,
    ...(mountType === undefined ? {} : { mount_type: mountType }),
  };
}

/** Vault's version metadata of one KV v2 version (never soft-deleted through Coffer's door). */
export interface KvVersionMetadata {
  created_time: string;
  custom_metadata: Record<string, string> | null;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

/**
 * Labels as Vault's `custom_metadata`, without the door's own settings labels: null when there are
 * none, as Vault answers.
 */
export function customMetadataOf(labels: Readonly<Record<string, string>>): Record<string, string> | null {
  const custom = customLabelsOf(labels);
  return Object.keys(custom).length === 0 ? null : custom;
}
