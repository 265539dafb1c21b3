import type { Labels } from '@coffer/core';
import { VaultHttpError } from './vault-errors.js';

/**
 * Vault's per-secret KV settings, kept by the door as labels of the secret under this prefix.
 * They are not part of `custom_metadata` (which is the other labels), and a client cannot write
 * custom_metadata keys under the prefix.
 */
export const settingsLabelPrefix = 'vault.kv/';
/** `max_versions` other than 0 (0: the mount's setting, Coffer's `versions.keep`). */
export const maxVersionsLabel = `${settingsLabelPrefix}max-versions`;
/** `cas_required: true`. */
export const casRequiredLabel = `${settingsLabelPrefix}cas-required`;
/**
 * Marks a secret made by a metadata write before any data: Vault has metadata without versions
 * there (current_version 0), Coffer an empty version 1 that the first data write replaces.
 */
export const noDataLabel = `${settingsLabelPrefix}no-data`;

/** Whether the secret was made by a metadata write and has had no data written yet. */
export function hasNoData(labels: Readonly<Labels>): boolean {
  return labels[noDataLabel] === 'true';
}

/** Labels a secret may hold in all (Coffer's limit). */
const maxLabels = 64;

/** The per-secret settings a secret's labels hold. */
export interface KvSettings {
  maxVersions: number;
  casRequired: boolean;
}

/** The settings a secret's labels hold (Vault's defaults where they hold none). */
export function settingsOf(labels: Readonly<Labels>): KvSettings {
  const max = Number(labels[maxVersionsLabel]);
  return {
    maxVersions: Number.isSafeInteger(max) && max > 0 ? max : 0,
    casRequired: labels[casRequiredLabel] === 'true',
  };
}

/** The labels that are `custom_metadata`: all but the door's settings. */
export function customLabelsOf(labels: Readonly<Labels>): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([name]) => !name.startsWith(settingsLabelPrefix)));
}

/** What a metadata or config write asks for, as Vault takes it. */
export interface KvSettingsInput {
  maxVersions?: unknown;
  casRequired?: unknown;
  deleteVersionAfter?: unknown;
}

/**
 * The settings a metadata write asks for, checked: `max_versions` 0 (the mount's) up to Coffer's
 * `versions.keep` (Coffer cannot keep more), `cas_required` a boolean, `delete_version_after`
 * only `0s` (Coffer does not expire versions). Absent settings stay undefined (unchanged).
 */
export function parseSettings(
  input: KvSettingsInput,
  keep: number,
): { maxVersions?: number; casRequired?: boolean } {
  const errors: string[] = [];
  const out: { maxVersions?: number; casRequired?: boolean } = {};
  const { maxVersions, casRequired, deleteVersionAfter } = input;
  if (maxVersions !== undefined && maxVersions !== null) {
    const n =
      typeof maxVersions === 'string' && /^\d+$/.test(maxVersions) ? Number(maxVersions) : maxVersions;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      errors.push('max_versions: must be a whole number');
    } else if (n > keep) {
      errors.push(
        `max_versions: Coffer keeps at most ${keep} versions of a secret (the versions.keep setting); ask for ${keep} or fewer`,
      );
    } else {
      out.maxVersions = n;
    }
  }
  if (casRequired !== undefined && casRequired !== null) {
    const b = casRequired === 'true' ? true : casRequired === 'false' ? false : casRequired;
    if (typeof b !== 'boolean') errors.push('cas_required: must be true or false');
    else out.casRequired = b;
  }
  if (
    deleteVersionAfter !== undefined &&
    deleteVersionAfter !== 0 &&
    deleteVersionAfter !== '0' &&
    deleteVersionAfter !== '0s'
  ) {
    errors.push(
      'delete_version_after: not supported by Coffer; versions are kept until newer ones replace them or they are destroyed',
    );
  }
  if (errors.length > 0) throw new VaultHttpError(400, errors);
  return out;
}

/**
 * The labels a secret gets: `custom` (the custom_metadata, or the current one) and the settings
 * (each changed where `settings` names it). Refuses custom_metadata keys under the settings prefix,
 * and more keys than fit beside the settings.
 */
export function labelsWith(
  current: Readonly<Labels>,
  custom: Readonly<Record<string, string>>,
  settings: { maxVersions?: number; casRequired?: boolean },
): Labels {
  const reserved = Object.keys(custom).filter((k) => k.startsWith(settingsLabelPrefix));
  if (reserved.length > 0) {
    throw new VaultHttpError(
      400,
      reserved.map(
        (k) => `custom_metadata.${k}: keys starting with ${settingsLabelPrefix} are reserved by Coffer`,
      ),
    );
  }
  const next: Labels = { ...custom };
  const maxVersions = settings.maxVersions ?? settingsOf(current).maxVersions;
  const casRequired = settings.casRequired ?? settingsOf(current).casRequired;
  if (maxVersions > 0) next[maxVersionsLabel] = String(maxVersions);
  if (casRequired) next[casRequiredLabel] = 'true';
  if (hasNoData(current)) next[noDataLabel] = 'true';
  const room = maxLabels - (Object.keys(next).length - Object.keys(custom).length);
  if (Object.keys(custom).length > room) {
    throw new VaultHttpError(400, [
      `custom_metadata: at most ${room} keys${room < maxLabels ? ' while max_versions or cas_required is set, or before the first data write (each takes one of the 64 labels)' : ''}`,
    ]);
  }
  return next;
}
