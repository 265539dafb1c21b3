/**
 * Row types of Coffer's SQL tables, as Kysely sees them. Timestamps are ISO-8601 UTC strings
 * (`Date#toISOString()`), which sort correctly as text on every dialect; flags are 0/1
 * integers. Secret values never appear in these tables: the `sql` backend keeps its sealed
 * blobs in `secret_values`, which only that backend reads or writes.
 */
export interface CofferTables {
  users: UserRow;
  external_identities: ExternalIdentityRow;
  sso_requests: SsoRequestRow;
  sso_handoffs: SsoHandoffRow;
  groups: GroupRow;
  group_members: GroupMemberRow;
  api_tokens: ApiTokenRow;
  sessions: SessionRow;
  secrets: SecretRow;
  secret_labels: SecretLabelRow;
  secret_versions: SecretVersionRow;
  value_journal: ValueJournalRow;
  shares: ShareRow;
  audit_log: AuditRow;
  audit_head: AuditHeadRow;
  keyring_keys: KeyringKeyRow;
  secret_values: SecretValueRow;
  deployment: DeploymentRow;
  migration_runs: MigrationRunRow;
  migration_failures: MigrationFailureRow;
  migration_kept_values: MigrationKeptValueRow;
  share_links: ShareLinkRow;
  events: EventRow;
  events_horizon: EventsHorizonRow;
  login_throttle: LoginThrottleRow;
  job_leases: JobLeaseRow;
  reminders_sent: ReminderSentRow;
}

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  /** `user` for people, `service_account` for bots that authenticate with tokens only. */
  type: string;
  role: string;
  disabled: number;
  password_hash: string | null;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/** An identity provider's account linked to a Coffer user (see 0007-sso). */
export interface ExternalIdentityRow {
  /** The provider's issuer identifier (`iss`). */
  issuer: string;
  /** The provider's stable id of the account (`sub`). */
  subject: string;
  user_id: string;
  created_at: string;
  last_login_at: string | null;
}

/**
 * A single sign-on started and not finished (see 0007-sso). Holds hashes only: the PKCE
 * verifier and the nonce derive from the browser's cookie, which the row never sees.
 */
export interface SsoRequestRow {
  state_hash: string;
  binding_hash: string;
  /** Where the browser goes afterwards: a page of the web UI, or the CLI's loopback address. */
  return_to: string;
  /** For `coffer login --sso`: the CLI's PKCE challenge and its own state. */
  cli_challenge: string | null;
  cli_state: string | null;
  created_at: string;
  expires_at: string;
}

/** A one-time code handing a finished sign-in to the CLI that started it (see 0007-sso). */
export interface SsoHandoffRow {
  code_hash: string;
  user_id: string;
  /** The CLI's PKCE challenge (S256): only its verifier redeems the code. */
  challenge: string;
  created_at: string;
  expires_at: string;
}

export interface GroupRow {
  id: string;
  name: string;
  description: string;
  builtin: number;
  created_at: string;
}

export interface GroupMemberRow {
  group_id: string;
  user_id: string;
  added_at: string;
}

export interface ApiTokenRow {
  id: string;
  user_id: string;
  name: string;
  /** SHA-256 of the whole token; the token itself is shown once and never stored. */
  token_hash: string;
  /** The first characters of the token, so a user can tell tokens apart. */
  prefix: string;
  scope: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface SessionRow {
  /** SHA-256 of the session id; the id itself lives only in the client's cookie. */
  id_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  address: string | null;
}

export interface SecretRow {
  id: string;
  owner_id: string;
  name: string;
  /** Equals `name` while the secret is live and NULL once deleted, so a deleted name can be reused. */
  live_name: string | null;
  kind: string;
  description: string;
  current_version: number;
  /** Counts every change of the record (values, metadata, name, deletion); see 0004-secret-revision. */
  revision: number;
  /** Name of the configured backend instance that holds this secret's values. */
  backend: string;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
  deleted_at: string | null;
  purge_after: string | null;
  /** When the secret's credentials expire (set by its owner); see 0008-reminders. */
  expires_at: string | null;
  /** Rotate the values every this many days (null: no rotation is expected). */
  rotate_every_days: number | null;
  /** The last values change plus `rotate_every_days`; kept by every write. */
  rotation_due_at: string | null;
  /** The earlier of `expires_at` and `rotation_due_at`: what "due within N days" looks up. */
  due_at: string | null;
}

export interface SecretLabelRow {
  secret_id: string;
  name: string;
  value: string;
}

export interface SecretVersionRow {
  secret_id: string;
  version: number;
  created_at: string;
  created_by: string;
  /** JSON array of field names whose values changed against the previous version (never values). */
  changed_fields: string;
  /** Set when this version was made by rolling back to an earlier one. */
  rollback_of: number | null;
}

/**
 * Write-ahead journal for values in backends. A `put` row is written before a value is put
 * and removed in the metadata transaction that references it; a `delete` row is written in
 * the metadata transaction that drops a version and removed once the backend deleted it.
 * After a crash the reconciler finishes or undoes whatever the journal still holds.
 * A migration moving a secret journals a `fence` for the version a writer would write next,
 * so writers wait until the secret switched backends; the reconciler clears a stale one.
 */
export interface ValueJournalRow {
  secret_id: string;
  version: number;
  backend: string;
  action: string;
  created_at: string;
}

export interface ShareRow {
  secret_id: string;
  grantee_type: string;
  grantee_id: string;
  level: string;
  created_at: string;
  created_by: string;
}

export interface AuditRow {
  seq: number;
  at: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  outcome: string;
  source: string;
  address: string | null;
  purpose: string | null;
  /** JSON object with non-secret context (changed field names, share level, error code...). */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadRow {
  id: number;
  seq: number;
  hash: string;
}

export interface KeyringKeyRow {
  id: string;
  /** A known plaintext sealed with this key: proves at open that a configured key is the right one. */
  check_blob: Buffer;
  created_at: string;
}

export interface SecretValueRow {
  /** Name of the `sql` backend instance owning the row. */
  store: string;
  secret_id: string;
  version: number;
  kek_id: string;
  blob: Buffer;
  created_at: string;
}

/** The single row (id 1) naming this deployment; backends with labels mark values with it. */
export interface DeploymentRow {
  id: number;
  deployment_id: string;
  created_at: string;
}

/** One run of moving secrets' values to another backend. */
export interface MigrationRunRow {
  id: string;
  /** 1, 2, 3...: runs in the order they started. */
  number: number;
  /** Name of the backend instance values move to. */
  target: string;
  keep_source: number;
  retry_failed: number;
  /** `running`, `done` or `failed`. */
  state: string;
  total: number;
  /** Secrets switched to the target; counted in the transaction that switches each one. */
  done: number;
  failed: number;
  started_at: string;
  finished_at: string | null;
  /** Who started it (a username, or `system` for the start-up migration). */
  started_by: string;
  /** The process running it (a random id per engine) and when it last said it is alive. */
  owner: string | null;
  heartbeat_at: string | null;
  /** Secrets per second as the running server last measured it (null when it did not yet). */
  rate_per_second?: number | null;
}

/** A secret whose move failed, with the reason (an error code and message, never a value). */
export interface MigrationFailureRow {
  secret_id: string;
  target: string;
  run_id: string;
  reason: string;
  failed_at: string;
}

/** A value copy left in a source backend by a `keepSource` migration. */
export interface MigrationKeptValueRow {
  secret_id: string;
  version: number;
  backend: string;
  run_id: string;
  kept_at: string;
}

/**
 * A one-time share link (see 0005-share-links). Never holds the link's key, its passphrase or
 * a value: `sealed` is the copy sealed under a key derived from them (NULL once the link ended),
 * `key_check` a one-way derivation of the key that tells a wrong key from a wrong passphrase.
 */
export interface ShareLinkRow {
  id: string;
  secret_id: string;
  /** The secret's name when the link was made (the recipient sees it; renames do not follow). */
  secret_name: string;
  secret_kind: string;
  created_by: string;
  created_by_name: string;
  /** JSON array of the field names the link reveals (never values). */
  fields: string;
  created_at: string;
  expires_at: string;
  max_views: number;
  views: number;
  /** Wrong passphrases so far; the link is revoked when they reach the limit. */
  failed_attempts: number;
  passphrase: number;
  /** How the sealing key is derived, with its parameters (JSON; a salt, never a secret). */
  kdf: string;
  key_check: string;
  sealed: Buffer | null;
  last_viewed_at: string | null;
  revoked_at: string | null;
  /** Who revoked it: a user id, or `system` (secret deleted, too many wrong passphrases). */
  revoked_by: string | null;
  /** When the sealed copy was destroyed, and why: `used`, `expired`, `revoked`, ... */
  ended_at: string | null;
  end_reason: string | null;
}

/**
 * A change event (never a value), written in the transaction of the change; `seq` is the
 * sequence number of the change's audit record. Bigint columns come back as strings from
 * PostgreSQL: read them through `Number()`.
 */
export interface EventRow {
  seq: number | string;
  at: string;
  type: string;
  secret_id: string | null;
  name: string | null;
  kind: string | null;
  version: number | null;
  owner_id: string | null;
  actor_id: string | null;
  /** For identity events: the user, group or token that changed. */
  subject: string | null;
}

/** The newest event `seq` that retention dropped (one row, id 1). */
export interface EventsHorizonRow {
  id: number;
  pruned_through: number | string;
}

/** Failed logins and attempts in flight for one key (`u:<username>` or `a:<address>`). */
export interface LoginThrottleRow {
  key: string;
  failures: number;
  last_failure_ms: number | string;
  locked_until_ms: number | string;
  in_flight: number;
  in_flight_since_ms: number | string;
}

/** Which replica runs a background job, until when, and the job's progress (JSON). */
export interface JobLeaseRow {
  name: string;
  owner: string | null;
  expires_ms: number | string;
  started_at: string | null;
  updated_at: string | null;
  progress: string | null;
}

/**
 * A reminder mail claimed (and, once `sent_at` is set, sent) about one secret, for one reason
 * (`expiring`, `expired`, `rotation`) and one period (the due date it is about); see 0008-reminders.
 */
export interface ReminderSentRow {
  secret_id: string;
  reason: string;
  period_key: string;
  claimed_at: string;
  /** The engine instance that claimed it (a random id per process). */
  claimed_by: string;
  sent_at: string | null;
}
