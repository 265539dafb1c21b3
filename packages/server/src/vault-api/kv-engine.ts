import { type Actor, type Coffer, isCofferError, type SecretMetadata } from '@coffer/core';
import { listKeys, listPrefixOf, namePrefixOf } from './kv-paths.js';
import {
  customLabelsOf,
  hasNoData,
  labelsWith,
  noDataLabel,
  parseSettings,
  settingsOf,
} from './kv-settings.js';
import {
  fromCofferValues,
  jsonFieldsField,
  mergePatch,
  needsDeepMerge,
  toCofferValues,
} from './kv-values.js';
import { customMetadataOf, type KvVersionMetadata } from './vault-envelope.js';
import { casMismatch, casRequired, VaultHttpError } from './vault-errors.js';

/** The kind a secret created through the Vault door gets unless the write names another. */
export const defaultKvKind = 'generic';

/** How often a write without `cas` starts over after another writer got in between. */
const maxReplaceAttempts = 20;

/** A version's values with Vault's metadata of that version. */
export interface KvRead {
  data: Record<string, unknown>;
  metadata: KvVersionMetadata;
}

/** A write's outcome: the version it made (or the current one, when nothing changed). */
export interface KvWrite {
  metadata: KvVersionMetadata;
  /** True when the values were already these: Coffer makes no new version then. */
  unchanged: boolean;
}

/** Vault's metadata of a whole secret (`GET metadata/<path>`). */
export interface KvSecretMetadata {
  cas_required: boolean;
  created_time: string;
  current_version: number;
  custom_metadata: Record<string, string> | null;
  delete_version_after: string;
  max_versions: number;
  oldest_version: number;
  updated_time: string;
  versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
}

/** The settings a `POST metadata/<path>` may carry. */
export interface KvMetadataInput {
  maxVersions?: unknown;
  casRequired?: unknown;
  deleteVersionAfter?: unknown;
  /** Replaces (or, when patching, merges into) the labels; null removes a label when patching. */
  customMetadata?: Record<string, unknown>;
}

/**
 * KV v2 operations mapped onto Coffer's secret service. Every call acts as the request's
 * principal, so core checks access and writes the audit record; this layer only translates
 * Vault's model (versions that can be deleted one by one, metadata without values,
 * replace-on-write) into Coffer's (a secret with kept versions, a trash, merge updates), and
 * refuses, with a message saying why, what has no counterpart.
 *
 * @example
 * const kv = kvEngine(coffer);
 * const { data } = await kv.read(actor, 'mail');
 */
export function kvEngine(coffer: Coffer) {
  const secrets = coffer.secrets;
  const keep = coffer.config.versions.keep;

  /**
   * The live secret a name means for the actor. `get` prefers the actor's own secret of a name
   * even from the trash; the Vault door, like reads and writes, means the live one.
   */
  async function resolveLive(actor: Actor, name: string): Promise<SecretMetadata> {
    const secret = await secrets.get(actor, name);
    if (secret.deletedAt === null) return secret;
    const { secretId } = await secrets.readValues(actor, name, { reveal: false });
    return secrets.get(actor, secretId);
  }

  async function versionMetadata(
    actor: Actor,
    secret: SecretMetadata,
    version: number,
  ): Promise<KvVersionMetadata> {
    const kept = await secrets.versions(actor, secret.id);
    const created = kept.find((v) => v.version === version)?.createdAt ?? secret.updatedAt;
    return {
      created_time: created,
      custom_metadata: customMetadataOf(secret.labels),
      deletion_time: '',
      destroyed: false,
      version,
    };
  }

  function written(secret: SecretMetadata): KvVersionMetadata {
    // A new version's time is the secret's update time: both are set by the same write.
    return {
      created_time: secret.updatedAt,
      custom_metadata: customMetadataOf(secret.labels),
      deletion_time: '',
      destroyed: false,
      version: secret.currentVersion,
    };
  }

  async function create(actor: Actor, name: string, values: Record<string, unknown>, kind?: string) {
    return secrets.create(actor, { name, kind: kind ?? defaultKvKind, values });
  }

  /** The live secret a name means, or undefined when there is none. */
  async function liveOrNone(actor: Actor, name: string): Promise<SecretMetadata | undefined> {
    try {
      return await resolveLive(actor, name);
    } catch (err) {
      if (isCofferError(err, 'not_found')) return undefined;
      throw err;
    }
  }

  /**
   * The first data written to a secret a metadata write made: its empty version 1 gives way to
   * the data (a new version; version 1 is destroyed), and the secret stops being data-less.
   */
  async function firstData(
    actor: Actor,
    secret: SecretMetadata,
    values: Record<string, unknown>,
  ): Promise<KvWrite> {
    const updated = await secrets.update(actor, secret.id, {
      values,
      expectedVersion: secret.currentVersion,
    });
    const labels = Object.fromEntries(Object.entries(updated.labels).filter(([k]) => k !== noDataLabel));
    const marked = await secrets.updateMetadata(actor, secret.id, {
      labels,
      expectedRevision: updated.revision,
    });
    if (updated.currentVersion !== secret.currentVersion) {
      await secrets.destroyVersions(actor, secret.id, [secret.currentVersion]);
    }
    return madeVersion(actor, marked);
  }

  /**
   * A secret's `max_versions`: after a write, the versions older than the newest `max_versions`
   * are destroyed, as Vault drops them (0: only Coffer's `versions.keep` applies).
   */
  async function applyMaxVersions(actor: Actor, secret: SecretMetadata): Promise<void> {
    const { maxVersions } = settingsOf(secret.labels);
    if (maxVersions === 0 || secret.currentVersion <= maxVersions) return;
    const cut = secret.currentVersion - maxVersions;
    const old = (await secrets.versions(actor, secret.id)).map((v) => v.version).filter((v) => v <= cut);
    if (old.length > 0) await secrets.destroyVersions(actor, secret.id, old);
  }

  /** A write's answer, once the secret's `max_versions` was applied. */
  async function madeVersion(actor: Actor, secret: SecretMetadata): Promise<KvWrite> {
    await applyMaxVersions(actor, secret);
    return { metadata: written(secret), unchanged: false };
  }

  return {
    /** `GET data/<path>`: a version's values, revealed (needs `read`; audited as a reveal). */
    async read(actor: Actor, name: string, version?: number): Promise<KvRead> {
      const view = await secrets.readValues(actor, name, {
        reveal: true,
        ...(version === undefined ? {} : { version }),
      });
      const secret = await secrets.get(actor, view.secretId);
      // Made by a metadata write, no data yet: Vault has no version to read.
      if (hasNoData(secret.labels)) throw new VaultHttpError(404, []);
      return {
        data: fromCofferValues(view.values),
        metadata: await versionMetadata(actor, secret, view.version),
      };
    },

    /**
     * `POST data/<path>`: the values become exactly `data` (Vault replaces, Coffer merges, so
     * fields not sent are removed). Creates the secret when there is none (`cas` absent or 0).
     * With `cas`, the write happens only at that version (0: only while there is no secret).
     */
    async write(
      actor: Actor,
      name: string,
      data: Record<string, unknown>,
      options: { cas?: number; kind?: string },
    ): Promise<KvWrite> {
      const { cas, kind } = options;
      const values = toCofferValues(data);
      for (let attempt = 1; ; attempt++) {
        const live = await liveOrNone(actor, name);
        if (live === undefined || hasNoData(live.labels)) {
          // Vault's current version is 0 here: only `cas` 0 (or none) writes.
          if (cas !== undefined && cas !== 0) throw casMismatch();
          if (live !== undefined) {
            if (cas === undefined && settingsOf(live.labels).casRequired) throw casRequired();
            try {
              return await firstData(actor, live, values);
            } catch (err) {
              if (!isCofferError(err, 'version_conflict')) throw err;
              if (cas !== undefined) throw casMismatch();
              if (attempt >= maxReplaceAttempts) throw beingWritten();
              continue;
            }
          }
          try {
            return await madeVersion(actor, await create(actor, name, values, kind));
          } catch (err) {
            if (!isCofferError(err, 'already_exists')) throw err;
            // Created by someone else in between: replace their values like any other write.
            if (cas === 0) throw casMismatch();
            if (attempt >= maxReplaceAttempts) throw beingWritten();
            continue;
          }
        }
        if (cas === undefined && settingsOf(live.labels).casRequired) throw casRequired();
        if (cas === 0) throw casMismatch();
        let current: { version: number; fields: string[] };
        try {
          const view = await secrets.readValues(actor, live.id, { reveal: false });
          current = { version: view.version, fields: Object.keys(view.values) };
        } catch (err) {
          if (!isCofferError(err, 'not_found')) throw err;
          // The latest version was destroyed: there are no fields to remove.
          current = { version: live.currentVersion, fields: [] };
        }
        if (cas !== undefined && cas !== current.version) throw casMismatch();
        try {
          const updated = await secrets.update(actor, live.id, {
            values,
            removeKeys: current.fields.filter((field) => !Object.hasOwn(values, field)),
            // The read's version, so a write in between makes this one start over, not merge.
            expectedVersion: current.version,
          });
          if (updated.currentVersion === current.version) {
            return { metadata: await versionMetadata(actor, updated, current.version), unchanged: true };
          }
          return await madeVersion(actor, updated);
        } catch (err) {
          if (!isCofferError(err, 'version_conflict') && !isCofferError(err, 'not_found')) throw err;
          if (cas !== undefined) throw casMismatch();
          if (attempt >= maxReplaceAttempts) throw beingWritten();
        }
      }
    },

    /**
     * `PATCH data/<path>`: a JSON merge patch of the current values (null removes a field). The
     * secret must exist and its latest version must be readable. A patch that merges into a
     * nested value (or touches a secret holding some) reads the current values, which needs `read`.
     */
    async patch(
      actor: Actor,
      name: string,
      data: Record<string, unknown>,
      options: { cas?: number },
    ): Promise<KvWrite> {
      const secret = await resolveLive(actor, name);
      if (hasNoData(secret.labels)) throw new VaultHttpError(404, []);
      if (options.cas === 0) throw casMismatch();
      if (options.cas === undefined && settingsOf(secret.labels).casRequired) throw casRequired();
      if (Object.hasOwn(data, jsonFieldsField)) toCofferValues(data); // refuses the reserved field
      for (let attempt = 1; ; attempt++) {
        const view = await secrets.readValues(actor, secret.id, { reveal: false });
        if (options.cas !== undefined && options.cas !== view.version) throw casMismatch();
        try {
          let updated: SecretMetadata;
          if (!Object.hasOwn(view.values, jsonFieldsField) && !needsDeepMerge(data)) {
            updated = await secrets.update(actor, secret.id, {
              values: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null)),
              removeKeys: Object.entries(data)
                .filter(([, v]) => v === null)
                .map(([k]) => k),
              expectedVersion: view.version,
            });
          } else {
            const full = await secrets.readValues(actor, secret.id, { reveal: true, version: view.version });
            const values = toCofferValues(
              mergePatch(fromCofferValues(full.values), data) as Record<string, unknown>,
            );
            updated = await secrets.update(actor, secret.id, {
              values,
              removeKeys: Object.keys(full.values).filter((field) => !Object.hasOwn(values, field)),
              expectedVersion: view.version,
            });
          }
          if (updated.currentVersion === view.version) {
            return { metadata: await versionMetadata(actor, updated, view.version), unchanged: true };
          }
          return await madeVersion(actor, updated);
        } catch (err) {
          if (!isCofferError(err, 'version_conflict')) throw err;
          if (options.cas !== undefined) throw casMismatch();
          if (attempt >= maxReplaceAttempts) throw beingWritten();
        }
      }
    },

    /**
     * `GET metadata/<path>`: the secret's versions and labels (needs `read`). As in Vault, the
     * versions listed are the newest `max_versions` (or `versions.keep`) version numbers and any
     * older one still kept; one of them that Coffer does not keep was destroyed (versions are only
     * ever pruned from the oldest end, so a gap above a kept version is a destroyed one).
     */
    async metadata(actor: Actor, name: string): Promise<KvSecretMetadata> {
      const secret = await resolveLive(actor, name);
      const kept = new Map((await secrets.versions(actor, secret.id)).map((v) => [v.version, v.createdAt]));
      const window = settingsOf(secret.labels).maxVersions || keep;
      const oldest = Math.min(...kept.keys(), Math.max(1, secret.currentVersion - window + 1));
      const versions: KvSecretMetadata['versions'] = {};
      for (let v = oldest; v <= secret.currentVersion; v++) {
        const created = kept.get(v);
        versions[String(v)] =
          created === undefined
            ? // Coffer keeps no record of a destroyed version; the secret's creation bounds it.
              { created_time: secret.createdAt, deletion_time: '', destroyed: true }
            : { created_time: created, deletion_time: '', destroyed: false };
      }
      const settings = settingsOf(secret.labels);
      const noData = hasNoData(secret.labels);
      return {
        cas_required: settings.casRequired,
        created_time: secret.createdAt,
        // Made by a metadata write with no data yet: Vault's current version is 0.
        current_version: noData ? 0 : secret.currentVersion,
        custom_metadata: customMetadataOf(secret.labels),
        delete_version_after: '0s',
        // 0: the mount's setting applies (Coffer's versions.keep, shown by `config`).
        max_versions: settings.maxVersions,
        oldest_version: noData ? 0 : oldest,
        updated_time: secret.updatedAt,
        versions: noData ? {} : versions,
      };
    },

    /**
     * `POST`/`PATCH metadata/<path>`: custom_metadata is the secret's labels, `max_versions` and
     * `cas_required` are kept as labels of their own (see kv-settings.ts). Vault keeps metadata
     * without values; Coffer does not, so writing metadata for a path with no secret creates one
     * with no values (version 1). Settings not sent stay as they are.
     */
    async writeMetadata(actor: Actor, name: string, input: KvMetadataInput, merge: boolean): Promise<void> {
      const settings = parseSettings(input, keep);
      const custom = input.customMetadata;
      let secret: SecretMetadata;
      try {
        secret = await resolveLive(actor, name);
      } catch (err) {
        if (!isCofferError(err, 'not_found') || merge) throw err;
        await secrets.create(actor, {
          name,
          kind: defaultKvKind,
          values: {},
          labels: labelsWith({ [noDataLabel]: 'true' }, labelsOf(custom ?? {}), settings),
        });
        return;
      }
      for (let attempt = 1; ; attempt++) {
        const current = customLabelsOf(secret.labels);
        const nextCustom =
          custom === undefined ? current : merge ? mergeLabels(current, custom) : labelsOf(custom);
        const labels = labelsWith(secret.labels, nextCustom, settings);
        if (sameLabels(labels, secret.labels)) return;
        try {
          await secrets.updateMetadata(actor, secret.id, { labels, expectedRevision: secret.revision });
          return;
        } catch (err) {
          if (!isCofferError(err, 'version_conflict') || attempt >= maxReplaceAttempts) throw err;
          secret = await secrets.get(actor, secret.id);
        }
      }
    },

    /**
     * `DELETE data/<path>` (the latest version) and `DELETE metadata/<path>` (the secret):
     * Coffer cannot hide one version and keep serving the older ones, so both move the secret
     * to the trash, restorable until its recovery window ends. Nothing to delete is no error.
     */
    async deleteSecret(actor: Actor, name: string): Promise<void> {
      try {
        await secrets.delete(actor, name);
      } catch (err) {
        if (!isCofferError(err, 'not_found')) throw err;
      }
    },

    /**
     * `POST delete/<path>`: deleting the latest version moves the secret to the trash (as
     * above). Deleting only older versions is refused: Coffer keeps every kept version of a
     * live secret readable.
     */
    async deleteVersions(actor: Actor, name: string, versions: readonly number[]): Promise<void> {
      let secret: SecretMetadata;
      try {
        secret = await resolveLive(actor, name);
      } catch (err) {
        if (isCofferError(err, 'not_found')) return;
        throw err;
      }
      if (versions.includes(secret.currentVersion)) {
        try {
          await secrets.delete(actor, secret.id, { expectedVersion: secret.currentVersion });
        } catch (err) {
          if (isCofferError(err, 'version_conflict')) {
            throw new VaultHttpError(400, [
              `version ${secret.currentVersion} is no longer the latest; read the metadata again`,
            ]);
          }
          throw err;
        }
        return;
      }
      const kept = (await secrets.versions(actor, secret.id)).map((v) => v.version);
      if (!versions.some((v) => kept.includes(v))) return;
      throw new VaultHttpError(400, [
        `Coffer cannot delete single versions: delete the latest version (${secret.currentVersion}) to move the whole secret to the trash`,
      ]);
    },

    /**
     * `POST undelete/<path>`: a secret in the trash is restored when its latest version is
     * undeleted. Versions of a live secret are never deleted, so undeleting them changes
     * nothing.
     */
    async undelete(actor: Actor, name: string, versions: readonly number[]): Promise<void> {
      let secret: SecretMetadata;
      try {
        secret = await secrets.get(actor, name);
      } catch (err) {
        if (isCofferError(err, 'not_found')) return;
        throw err;
      }
      if (secret.deletedAt === null) return;
      if (!versions.includes(secret.currentVersion)) {
        throw new VaultHttpError(400, [
          `the secret is in the trash; undelete its latest version (${secret.currentVersion}) to restore it`,
        ]);
      }
      try {
        await secrets.restore(actor, secret.id, { expectedVersion: secret.currentVersion });
      } catch (err) {
        if (isCofferError(err, 'already_exists')) {
          throw new VaultHttpError(400, [
            'a new secret has this path now; restore the deleted one under another name with Coffer',
          ]);
        }
        throw err;
      }
    },

    /**
     * `POST destroy/<path>`: the named kept versions' values are destroyed for good, the others
     * stay (Coffer's `destroyVersions`, which needs `write`). Naming every kept version purges the
     * secret instead (live or in the trash; Coffer keeps no secret without a readable version,
     * which needs `manage`); naming none that exists changes nothing.
     */
    async destroy(actor: Actor, name: string, versions: readonly number[]): Promise<void> {
      let secret: SecretMetadata;
      try {
        secret = await secrets.get(actor, name);
      } catch (err) {
        if (isCofferError(err, 'not_found')) return;
        throw err;
      }
      const kept =
        secret.deletedAt === null
          ? (await secrets.versions(actor, secret.id)).map((v) => v.version)
          : // The trash has no version list to read: the last `versions.keep` versions are kept.
            Array.from(
              { length: Math.min(keep, secret.currentVersion) },
              (_, i) => secret.currentVersion - i,
            );
      if (kept.every((v) => versions.includes(v))) {
        await secrets.purge(actor, secret.id, { expectedVersion: secret.currentVersion });
        return;
      }
      const named = kept.filter((v) => versions.includes(v));
      if (named.length === 0) return;
      if (secret.deletedAt !== null) {
        throw new VaultHttpError(400, [
          `the secret is in the trash: undelete its latest version (${secret.currentVersion}) first, or destroy every kept version (${[...kept].sort((a, b) => a - b).join(', ')}) to purge it`,
        ]);
      }
      await secrets.destroyVersions(actor, secret.id, named);
    },

    /**
     * `LIST metadata/<prefix>`: the keys under a prefix, from the secrets the actor may list
     * (`read` or better; admins: all). Undefined when there are none (Vault's 404).
     */
    async list(actor: Actor, prefixPath: string): Promise<string[] | undefined> {
      const prefix = listPrefixOf(prefixPath);
      if (prefix === undefined) return undefined;
      const namePrefix = namePrefixOf(prefix);
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await secrets.list(actor, {
          ...(namePrefix === '' ? {} : { namePrefix }),
          limit: 1000,
          cursor,
        });
        for (const secret of page.items) names.push(secret.name);
        cursor = page.nextCursor;
      } while (cursor !== null);
      const keys = listKeys(prefix, names);
      return keys.length === 0 ? undefined : keys;
    },

    /** `GET config`: the mount's settings, which are Coffer's. */
    config() {
      return { cas_required: false, delete_version_after: '0s', max_versions: keep };
    },

    /** `POST config`: accepted when it asks for what Coffer does; Coffer's configuration decides. */
    writeConfig(input: Pick<KvMetadataInput, 'maxVersions' | 'casRequired' | 'deleteVersionAfter'>): void {
      assertCofferMetadataSettings(input, keep);
    },
  };
}

export type KvEngine = ReturnType<typeof kvEngine>;

function beingWritten(): VaultHttpError {
  return new VaultHttpError(412, ['the secret is being written by someone else; retry']);
}

/** Refuses per-secret settings Coffer does not have, unless they ask for what Coffer does anyway. */
export function assertCofferMetadataSettings(
  input: Pick<KvMetadataInput, 'maxVersions' | 'casRequired' | 'deleteVersionAfter'>,
  keep: number,
): void {
  const errors: string[] = [];
  const { maxVersions, casRequired, deleteVersionAfter } = input;
  if (maxVersions !== undefined && maxVersions !== 0 && maxVersions !== keep) {
    errors.push(
      `max_versions: Coffer keeps ${keep} versions of every secret (the versions.keep setting); per-secret limits are not supported`,
    );
  }
  if (casRequired !== undefined && casRequired !== false) {
    errors.push('cas_required: not supported by Coffer; send options.cas with each write instead');
  }
  if (
    deleteVersionAfter !== undefined &&
    deleteVersionAfter !== 0 &&
    deleteVersionAfter !== '0' &&
    deleteVersionAfter !== '0s'
  ) {
    errors.push(
      'delete_version_after: not supported by Coffer; versions are kept until newer ones replace them',
    );
  }
  if (errors.length > 0) throw new VaultHttpError(400, errors);
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

function labelsOf(custom: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(custom).filter(([, v]) => v !== null)) as Record<string, string>;
}

function mergeLabels(
  current: Readonly<Record<string, string>>,
  patch: Record<string, unknown>,
): Record<string, string> {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next as Record<string, string>;
}
