import type { AccessLevel } from '../access/access-level.js';
import type { AccessBasis } from '../access/access-policy.js';
import type { CofferError } from '../errors/coffer-error.js';
import type { SecretValues } from '../kinds/kind-types.js';

/** Labels: short key/value pairs for filtering and ownership marks (not secret). */
export type Labels = Record<string, string>;

/** A secret's metadata. Never holds values. */
export interface SecretMetadata {
  id: string;
  name: string;
  kind: string;
  description: string;
  labels: Labels;
  ownerId: string;
  currentVersion: number;
  /**
   * Counts every change of the secret (values, description, labels, name, deletion). Metadata
   * writes can be conditional on it (`expectedRevision`), so two edits of the description or
   * labels from the same read cannot silently overwrite one another.
   */
  revision: number;
  /** The configured backend instance holding the values. */
  backend: string;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
  /** Set while the secret is in the recovery window after a delete. */
  deletedAt: string | null;
  /** When a deleted secret is purged for good. */
  purgeAfter: string | null;
  /** When the secret's credentials expire (its owner says so), or null (docs/reminders.md). */
  expiresAt: string | null;
  /** How often the values should be rotated, in days, or null. */
  rotateEveryDays: number | null;
  /** When they are due for rotation: the last values change plus `rotateEveryDays`, or null. */
  rotationDueAt: string | null;
  /** The caller's level on this secret, and why it holds it. */
  access: { level: AccessLevel | null; basis: AccessBasis };
}

/** Values as returned to a caller: masked unless revealed. */
export interface SecretValuesView {
  secretId: string;
  version: number;
  values: SecretValues;
  /** True when secret fields carry their real values. */
  revealed: boolean;
  /** Names of the fields that are masked in this view. */
  maskedFields: string[];
}

/** One kept version of a secret (never its values). */
export interface SecretVersionInfo {
  version: number;
  createdAt: string;
  createdBy: string;
  /** Fields whose values differ from the previous version (names only). */
  changedFields: string[];
  rollbackOf: number | null;
  current: boolean;
}

export interface CreateSecretInput {
  name: string;
  kind: string;
  description?: string;
  labels?: Labels;
  values: Record<string, unknown>;
  /** Admins may create a secret owned by another user. */
  ownerId?: string;
  /** When its credentials expire: an ISO-8601 date or date and time; null or absent for none. */
  expiresAt?: string | null;
  /** Rotate its values every this many days (1 to 3650); absent: the kind's default; null: none. */
  rotateEveryDays?: number | null;
}

/** Most secrets one `createMany` call takes. */
export const maxBatchCreate = 100;

/** One entry's outcome in `createMany`: the secret it created, or why it created none. */
export type BatchCreateOutcome =
  | { name: string; created: true; secret: SecretMetadata }
  | { name: string; created: false; error: CofferError };

export interface UpdateValuesInput {
  /** Fields to set; other fields keep their values. A secret field set to the mask keeps its value. */
  values?: Record<string, unknown>;
  /** Fields to remove. */
  removeKeys?: readonly string[];
  /** Check-and-set: fail with `version_conflict` unless this is still the current version. */
  expectedVersion?: number;
}

export interface UpdateMetadataInput {
  description?: string;
  /** Replaces all labels. */
  labels?: Labels;
  /** A new expiry (ISO-8601 date or date and time), or null to clear it. */
  expiresAt?: string | null;
  /** A new rotation interval in days (1 to 3650), or null for none; the clock keeps running from the last values change. */
  rotateEveryDays?: number | null;
  /** Check-and-set: fail with `version_conflict` unless this is still the current version. */
  expectedVersion?: number;
  /** Check-and-set: fail with `version_conflict` unless nothing changed since this revision. */
  expectedRevision?: number;
}

export interface ListSecretsFilter {
  kind?: string;
  /** `name` (has the label) or `name=value`, all must match. */
  labels?: readonly string[];
  namePrefix?: string;
  /** `live` (default), `deleted` (the trash) or `all`. */
  state?: 'live' | 'deleted' | 'all';
  /** `accessible` (default; for admins every secret) or `mine` (owned or shared directly to me). */
  view?: 'accessible' | 'mine';
  cursor?: string | null;
  limit?: number;
}
