import { type Actor, type Coffer, isCofferError, type SecretMetadata } from '@coffer/core';
import { listKeys, listPrefixOf, namePrefixOf } from './kv-paths.js';
import { customMetadataOf, type KvVersionMetadata } from './vault-envelope.js';
import { casMismatch, VaultHttpError } from './vault-errors.js';

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

  async function create(actor: Actor, name: string, data: Record<string, unknown>, kind?: string) {
    return secrets.create(actor, { name, kind: kind ?? defaultKvKind, values: data });
  }

  return {
    /** `GET data/<path>`: a version's values, revealed (needs `read`; audited as a reveal). */
    async read(actor: Actor, name: string, version?: number): Promise<KvRead> {
      const view = await secrets.readValues(actor, name, {
        reveal: true,
        ...(version === undefined ? {} : { version }),
      });
      const secret = await secrets.get(actor, view.secretId);
      return { data: view.values, metadata: await versionMetadata(actor, secret, view.version) };
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
      if (cas === 0) {
        try {
          const existing = await secrets.get(actor, name);
          if (existing.deletedAt === null) throw casMismatch();
        } catch (err) {
          if (!isCofferError(err, 'not_found')) throw err;
        }
        try {
          return { metadata: written(await create(actor, name, data, kind)), unchanged: false };
        } catch (err) {
          if (isCofferError(err, 'already_exists')) throw casMismatch();
          throw err;
        }
      }
      for (let attempt = 1; ; attempt++) {
        let current: { secretId: string; version: number; fields: string[] };
        try {
          const view = await secrets.readValues(actor, name, { reveal: false });
          current = { secretId: view.secretId, version: view.version, fields: Object.keys(view.values) };
        } catch (err) {
          if (!isCofferError(err, 'not_found')) throw err;
          if (cas !== undefined) throw casMismatch();
          try {
            return { metadata: written(await create(actor, name, data, kind)), unchanged: false };
          } catch (createErr) {
            // Created by someone else in between: replace their values like any other write.
            if (isCofferError(createErr, 'already_exists') && attempt < maxReplaceAttempts) continue;
            throw createErr;
          }
        }
        if (cas !== undefined && cas !== current.version) throw casMismatch();
        try {
          const updated = await secrets.update(actor, current.secretId, {
            values: data,
            removeKeys: current.fields.filter((field) => !Object.hasOwn(data, field)),
            // The read's version, so a write in between makes this one start over, not merge.
            expectedVersion: current.version,
          });
          if (updated.currentVersion === current.version) {
            return { metadata: await versionMetadata(actor, updated, current.version), unchanged: true };
          }
          return { metadata: written(updated), unchanged: false };
        } catch (err) {
          if (!isCofferError(err, 'version_conflict')) throw err;
          if (cas !== undefined) throw casMismatch();
          if (attempt >= maxReplaceAttempts) {
            throw new VaultHttpError(412, ['the secret is being written by someone else; retry']);
          }
        }
      }
    },

    /**
     * `PATCH data/<path>`: a JSON merge patch of the current values (null removes a field).
     * The secret must exist.
     */
    async patch(
      actor: Actor,
      name: string,
      data: Record<string, unknown>,
      options: { cas?: number },
    ): Promise<KvWrite> {
      if (options.cas === 0) {
        await resolveLive(actor, name);
        throw casMismatch();
      }
      const values = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
      const removeKeys = Object.entries(data)
        .filter(([, v]) => v === null)
        .map(([k]) => k);
      try {
        const updated = await secrets.update(actor, name, {
          values,
          removeKeys,
          ...(options.cas === undefined ? {} : { expectedVersion: options.cas }),
        });
        return { metadata: written(updated), unchanged: false };
      } catch (err) {
        if (isCofferError(err, 'version_conflict')) throw casMismatch();
        throw err;
      }
    },

    /** `GET metadata/<path>`: the secret's versions and labels (needs `read`). */
    async metadata(actor: Actor, name: string): Promise<KvSecretMetadata> {
      const secret = await resolveLive(actor, name);
      const kept = await secrets.versions(actor, secret.id);
      const versions = Object.fromEntries(
        [...kept]
          .sort((a, b) => a.version - b.version)
          .map((v) => [
            String(v.version),
            { created_time: v.createdAt, deletion_time: '', destroyed: false },
          ]),
      );
      return {
        cas_required: false,
        created_time: secret.createdAt,
        current_version: secret.currentVersion,
        custom_metadata: customMetadataOf(secret.labels),
        delete_version_after: '0s',
        // 0: the mount's setting applies (Coffer's versions.keep, shown by `config`).
        max_versions: 0,
        oldest_version: Math.min(...kept.map((v) => v.version), secret.currentVersion),
        updated_time: secret.updatedAt,
        versions,
      };
    },

    /**
     * `POST`/`PATCH metadata/<path>`: custom_metadata is the secret's labels. Vault keeps
     * metadata without values; Coffer does not, so writing metadata for a path with no secret
     * creates one with no values (version 1). Per-secret `max_versions`, `cas_required` and
     * `delete_version_after` have no Coffer counterpart and are refused unless they ask for
     * what Coffer does anyway.
     */
    async writeMetadata(actor: Actor, name: string, input: KvMetadataInput, merge: boolean): Promise<void> {
      assertCofferMetadataSettings(input, keep);
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
          ...(custom === undefined ? {} : { labels: labelsOf(custom) }),
        });
        return;
      }
      if (custom === undefined) return;
      for (let attempt = 1; ; attempt++) {
        const labels = merge ? mergeLabels(secret.labels, custom) : labelsOf(custom);
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
     * `POST destroy/<path>`: Coffer cannot destroy some versions and keep others, so the secret
     * is purged for good (live or in the trash) when every kept version is named; naming only
     * some of them is refused, naming none that exists changes nothing.
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
      if (!versions.some((v) => kept.includes(v))) return;
      throw new VaultHttpError(400, [
        `Coffer cannot destroy single versions: destroy every kept version (${[...kept].sort((a, b) => a - b).join(', ')}) to purge the secret`,
      ]);
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
