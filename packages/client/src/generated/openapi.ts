// Generated from the OpenAPI document of the Coffer server by
// `npm run generate -w @coffer/client`. Do not edit: test/openapi-drift.test.ts fails when this
// file and the server disagree.

/** The API prefix every operation path below is relative to. */
export const apiPrefix = '/api/v1';

/** The schemas the document names (`components.schemas`). */
export interface Schemas {
  /** An RFC 9457 problem document. */
  Problem: {
    /** `urn:coffer:error:<code>` */
    type: string;
    title: string;
    status: number;
    /** Stable; clients branch on it */
    code:
      | 'validation'
      | 'not_found'
      | 'already_exists'
      | 'conflict'
      | 'version_conflict'
      | 'forbidden'
      | 'unauthenticated'
      | 'integrity'
      | 'key_unavailable'
      | 'key_mismatch'
      | 'backend_unavailable'
      | 'database_unavailable'
      | 'value_not_found'
      | 'payload_too_large'
      | 'rate_limited'
      | 'precondition_required'
      | 'invalid_config'
      | 'unsupported'
      | 'share_link_expired'
      | 'share_link_used'
      | 'share_link_revoked'
      | 'share_link_wrong_key'
      | 'share_link_wrong_passphrase'
      | 'internal';
    /** For humans; never contains a secret value */
    detail: string;
    /** Each offending field and why (validation errors) */
    issues?: Array<{
      path: string;
      message: string;
    }>;
    details?: Record<string, unknown>;
  };
  /** One record of the hash-chained audit log; never a value. */
  AuditRecord: {
    seq: number;
    at: string;
    action: string;
    outcome: 'success' | 'denied' | 'failure';
    source: string;
    actor: {
      type: string;
      id?: string;
      name?: string;
    };
    address: string | null;
    target?: {
      type: string;
      id?: string;
      name?: string;
    } | null;
    purpose: string | null;
    details: Record<string, unknown>;
    prevHash: string;
    hash: string;
  };
  User: {
    id: string;
    username: string;
    displayName: string;
    type: 'user' | 'service_account';
    role: 'admin' | 'member';
    disabled: boolean;
    /** Only for admins and the user themself */
    email?: string | null;
    /** Only for admins and the user themself */
    lastLoginAt?: string | null;
    hasPassword: boolean;
    createdAt: string;
    updatedAt: string;
  };
  TokenInfo: {
    id: string;
    userId: string;
    name: string;
    /** `cfr_` and the next 8 characters, to tell tokens apart */
    prefix: string;
    scope: 'read-only' | 'read-write';
    state: 'active' | 'expired' | 'revoked';
    createdAt: string;
    expiresAt: string | null;
    revokedAt: string | null;
    lastUsedAt: string | null;
  };
  Group: {
    id: string;
    name: string;
    description: string;
    builtin: boolean;
    memberCount: number;
    createdAt: string;
  };
  GroupMember: {
    userId: string;
    username: string;
    displayName: string;
    type: 'user' | 'service_account';
    disabled: boolean;
    addedAt: string;
  };
  GroupWithMembers: {
    id: string;
    name: string;
    description: string;
    builtin: boolean;
    memberCount: number;
    createdAt: string;
    members: Schemas['GroupMember'][];
  };
  BackendInstance: {
    name: string;
    type: string;
    /** What the backend can do; the engine branches on these */
    capabilities: {
      versioning: boolean;
      listing: boolean;
      labels: boolean;
      envelope: boolean;
    };
    /** New values go here */
    active: boolean;
    backup: boolean;
    /** Secrets whose values it holds */
    secrets: number;
  };
  BackendDefinition: {
    id: string;
    displayName: string;
    description: string;
    /** What the backend can do; the engine branches on these */
    capabilities: {
      versioning: boolean;
      listing: boolean;
      labels: boolean;
      envelope: boolean;
    };
    /** JSON Schema of its settings */
    configSchema: Record<string, unknown>;
    source: string;
  };
  MigrationStatus: {
    state: 'idle' | 'running' | 'failed' | 'done';
    target: string | null;
    keepSource: boolean;
    total: number;
    done: number;
    failed: number;
    ratePerSecond: number | null;
    etaSeconds: number | null;
    runningOn: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    failures: Array<{
      secretId: string;
      name: string;
      reason: string;
    }>;
  };
  KeyInfo: {
    id: string;
    createdAt: string;
    current: boolean;
    external?: {
      keyId: string;
      keyVersion?: string;
    };
  };
  /** Key ids and dates; never key material. */
  KeyringStatus: {
    source:
      | {
          type: 'file';
          path: string;
        }
      | {
          type: 'env';
          variable: string;
        }
      | {
          type: 'kms';
          provider: string;
          key: string;
        };
    currentKeyId: string;
    keys: Schemas['KeyInfo'][];
    canRotate: boolean;
    missingKeyIds: string[];
    rewrap: {
      state: 'idle' | 'running' | 'failed';
      rewrapped: number;
      startedAt: string | null;
      finishedAt: string | null;
      error: string | null;
      ratePerSecond: number | null;
      runningOn?: string | null;
    };
  };
  Kind: {
    id: string;
    displayName: string;
    description: string;
    /** A data: URI */
    logo: string;
    /** Accepts any field names; every field is secret */
    freeForm: boolean;
    /** Where the kind was defined */
    source: 'builtin' | 'app' | 'file';
    /** Whether POST /secrets/{ref}/test can check secrets of this kind */
    connectionTest: boolean;
    /** The rotation interval new secrets of this kind get by default, in days */
    rotateEveryDays: number | null;
    fields: Array<{
      name: string;
      type: 'string' | 'number' | 'integer' | 'boolean' | 'enum';
      label: string;
      help?: string;
      placeholder?: string;
      default?: string | number | boolean;
      required: boolean;
      secret: boolean;
      format?: string;
      options?: string[];
      min?: number;
      max?: number;
      minLength?: number;
      maxLength?: number;
      pattern?: string;
    }>;
    /** JSON Schema (2020-12) of the values, with form hints */
    jsonSchema: Record<string, unknown>;
  };
  /** A secret that expired, expires or is due for rotation; never its values. */
  DueSecret: {
    id: string;
    name: string;
    kind: string;
    description: string;
    ownerId: string;
    /** When its credentials expire */
    expiresAt: string | null;
    /** Its rotation interval in days */
    rotateEveryDays: number | null;
    /** The last values change plus the interval */
    rotationDueAt: string | null;
    /** The earliest date among its reasons; the list is sorted by it */
    dueAt: string;
    /** `expired`, `expiring` (within the window), `rotation` (due within the window, or overdue) */
    reasons: Array<'expired' | 'expiring' | 'rotation'>;
    access: {
      level: ('use' | 'read' | 'write' | 'manage') | null;
      basis: 'admin' | 'owner' | 'share' | 'none';
    };
  };
  /** What one run of the reminder job did. */
  ReminderRun: {
    /** Reminders due and not sent before (one per secret, reason and due date) */
    due: number;
    sent: number;
    /** Sent by another server on the database */
    claimedElsewhere: number;
    /** Owners without an email address (or disabled): not sent */
    noRecipient: number;
    /** Mails that failed; tried again on the next run */
    failed: number;
    /** Why nothing could be sent, e.g. no usable SMTP secret */
    warning?: string;
  };
  /** A secret's metadata; never its values. */
  SecretMetadata: {
    id: string;
    name: string;
    kind: string;
    description: string;
    labels: Record<string, string>;
    ownerId: string;
    currentVersion: number;
    /** Counts every change (values, description, labels, name, deletion); the ETag carries it */
    revision: number;
    /** The backend instance holding the values */
    backend: string;
    createdAt: string;
    updatedAt: string;
    createdBy: string;
    updatedBy: string;
    deletedAt: string | null;
    purgeAfter: string | null;
    /** When its credentials expire (docs/reminders.md) */
    expiresAt: string | null;
    /** How often its values should be rotated, in days */
    rotateEveryDays: number | null;
    /** The last values change plus `rotateEveryDays` */
    rotationDueAt: string | null;
    access: {
      level: ('use' | 'read' | 'write' | 'manage') | null;
      basis: 'admin' | 'owner' | 'share' | 'none';
    };
  };
  /** Values of one version, masked unless revealed. */
  SecretValues: {
    secretId: string;
    version: number;
    values: Record<string, string | number | boolean>;
    /** True when secret fields carry their real values */
    revealed: boolean;
    maskedFields: string[];
  };
  SecretVersion: {
    version: number;
    createdAt: string;
    createdBy: string;
    changedFields: string[];
    rollbackOf: number | null;
    current: boolean;
  };
  Share: {
    secretId: string;
    granteeType: 'user' | 'group';
    granteeId: string;
    granteeName: string;
    level: 'use' | 'read' | 'write' | 'manage';
    createdAt: string;
    createdBy: string;
  };
  /** One result per requested secret, in the order of the request. */
  BatchCreateResult: {
    results: Array<{
      name: string;
      created: boolean;
      /** The new secret, when `created` */
      secret?: Schemas['SecretMetadata'];
      /** Why this one was not created, as a single create would say */
      error?: Schemas['Problem'];
    }>;
  };
  ConnectionTestResult: {
    ok: boolean;
    kind: string;
    /** Why it failed; never contains a secret value */
    reason?: string;
    durationMs: number;
    details?: Record<string, string | number | boolean>;
  };
  /** A one-time share link: metadata only, never its key nor a value. */
  ShareLink: {
    id: string;
    secretId: string;
    /** The secret's name when the link was made */
    secretName: string;
    secretKind: string;
    /** The fields the link reveals */
    fields: string[];
    createdBy: string;
    createdByName: string;
    createdAt: string;
    expiresAt: string;
    maxViews: number;
    views: number;
    /** Opening it needs a passphrase too */
    passphrase: boolean;
    /** Every state but `active` is final: the copy of the values is gone */
    state: 'active' | 'used' | 'expired' | 'revoked';
    revokeReason: ('revoked' | 'secret_deleted' | 'too_many_failures') | null;
    revokedAt: string | null;
    /** A user id, or `system` */
    revokedBy: string | null;
    lastViewedAt: string | null;
    /** Wrong passphrases tried */
    failedAttempts: number;
  };
  /** A new share link; the key is shown only here. */
  CreatedShareLink: {
    link: Schemas['ShareLink'];
    /** The link key (the part after `#`): in this answer only, never stored */
    key: string;
    /** `/s/<id>#<key>` */
    path: string;
    /** The whole link: the web UI's address and `path` */
    url: string;
  };
  /** What a link holds, before opening it (no view counted). */
  ShareLinkPreview: {
    id: string;
    secretName: string;
    secretKind: string;
    fields: string[];
    /** Who made the link */
    createdByName: string;
    createdAt: string;
    expiresAt: string;
    viewsLeft: number;
    passphraseRequired: boolean;
  };
  /** The shared values; `viewsLeft` 0 means the copy is gone now. */
  OpenedShareLink: {
    id: string;
    secretName: string;
    secretKind: string;
    fields: string[];
    /** Who made the link */
    createdByName: string;
    createdAt: string;
    expiresAt: string;
    viewsLeft: number;
    passphraseRequired: boolean;
    values: Record<string, string | number | boolean>;
  };
  SsoInfo: {
    /** Whether single sign-on is configured */
    enabled: boolean;
    /** What the login page calls the provider ("Sign in with <name>") */
    name: string | null;
    /** Where a browser goes to sign in (`?next=<page>` returns there afterwards) */
    startPath: string | null;
    /** Who may still log in with a password: `all`, `admins` or `none` */
    passwordLogin: 'all' | 'admins' | 'none';
  };
  SsoCreatedToken: {
    token: string;
    info: Schemas['TokenInfo'];
    user: Schemas['User'];
  };
  CreatedToken: {
    token: string;
    info: Schemas['TokenInfo'];
  };
}

/** Every operation, keyed `METHOD /path` with `{param}` placeholders. */
export interface Operations {
  /**
   * Log in with username and password
   *
   * Sets the HttpOnly session cookie and a readable CSRF cookie; the CSRF token is also in the answer. Repeated failures lock the username and the address out for a growing time (429 with Retry-After).
   */
  'POST /auth/login': {
    path: never;
    query: never;
    headers: never;
    body: {
      username: string;
      password: string;
    };
    status: 200;
    response: {
      user: Schemas['User'];
      /** Send it as `X-CSRF-Token` on every non-GET request made with the cookie */
      csrfToken: string;
      expiresAt: string;
    };
  };
  /**
   * Log out
   *
   * Ends the cookie session at once, on every server process, and clears the cookies. Idempotent. API tokens are revoked with `DELETE /tokens/{id}` instead.
   */
  'POST /auth/logout': {
    path: never;
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 204;
    response: undefined;
  };
  /** Who the caller is */
  'GET /auth/me': {
    path: never;
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: {
      user: Schemas['User'];
      authenticatedBy: 'session' | 'token' | 'host';
      token?: {
        id: string;
        scope: 'read-only' | 'read-write';
      };
    };
  };
  /**
   * Single sign-on: whether it is on
   *
   * Public. Whether single sign-on is configured, what to call the provider, where a browser starts signing in, and who may still log in with a password.
   */
  'GET /auth/sso': {
    path: never;
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['SsoInfo'];
  };
  /**
   * Single sign-on: an API token for the CLI
   *
   * Public. `coffer login --sso` redeems the one-time code its loopback address received, with the PKCE verifier of the challenge it started the sign-in with, for a new API token of the user who signed in. A code works once and for a minute; a wrong verifier uses it up.
   */
  'POST /auth/sso/token': {
    path: never;
    query: never;
    headers: never;
    body: {
      /** The code the CLI received on its loopback address */
      code: string;
      /** The PKCE verifier whose challenge started the sign-in */
      codeVerifier: string;
      /** Default `coffer-cli (single sign-on)` */
      tokenName?: string;
      /** Default `read-write` */
      scope?: 'read-only' | 'read-write';
    };
    status: 201;
    response: Schemas['SsoCreatedToken'];
  };
  /**
   * List secrets
   *
   * Secrets the caller may read (admins: all), filtered and in pages. Secrets held only at `use` (a group share) are never listed: usable, not visible.
   */
  'GET /secrets': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
      kind?: string;
      /** `name` or `name=value`; repeat for several (all must match) */
      label?: string | string[];
      namePrefix?: string;
      /** `deleted` lists the trash */
      state?: 'live' | 'deleted' | 'all';
      view?: 'accessible' | 'mine';
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['SecretMetadata'][];
      nextCursor: string | null;
    };
  };
  /**
   * Create a secret
   *
   * Creates version 1. The response carries the ETag `"v1-r1"` and a Location.
   */
  'POST /secrets': {
    path: never;
    query: never;
    headers: never;
    body: {
      name: string;
      kind: string;
      description?: string;
      /** Label name → value, e.g. `{"env": "prod"}` */
      labels?: Record<string, string>;
      /** Field name → value; a secret field sent back as the mask keeps its stored value */
      values: Record<string, string | number | boolean>;
      /** Admins only: create it for another user */
      ownerId?: string;
      /** When its credentials expire: `2026-12-31` or `2026-12-31T18:00:00Z`; null for none */
      expiresAt?: string | null;
      /** Rotate its values every this many days; absent: the kind's default; null: never */
      rotateEveryDays?: number | null;
    };
    status: 201;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Create several secrets
   *
   * Creates up to 100 secrets, each exactly as `POST /secrets` would (its checks, audit record and event), and answers 200 with one result per secret in request order: the new secret, or the problem a single create would have answered. One failing does not stop the others. `coffer import` sends its secrets this way; the writes share commits, so it is much faster than one request per secret.
   */
  'POST /secrets/batch': {
    path: never;
    query: never;
    headers: never;
    body: {
      /** 1 to 100 secrets, each as `POST /secrets` takes it */
      secrets: Array<{
        name: string;
        kind: string;
        description?: string;
        /** Label name → value, e.g. `{"env": "prod"}` */
        labels?: Record<string, string>;
        /** Field name → value; a secret field sent back as the mask keeps its stored value */
        values: Record<string, string | number | boolean>;
        /** Admins only: create it for another user */
        ownerId?: string;
        /** When its credentials expire: `2026-12-31` or `2026-12-31T18:00:00Z`; null for none */
        expiresAt?: string | null;
        /** Rotate its values every this many days; absent: the kind's default; null: never */
        rotateEveryDays?: number | null;
      }>;
    };
    status: 200;
    response: Schemas['BatchCreateResult'];
  };
  /**
   * Delete every secret the caller manages
   *
   * Moves them to the trash (restorable until purged). Needs `{"confirm": "delete-all"}`; without it the answer is 428.
   */
  'POST /secrets/delete-all': {
    path: never;
    query: never;
    headers: never;
    body: {
      /** Must be `delete-all` */
      confirm?: string;
    };
    status: 200;
    response: {
      deleted: number;
    };
  };
  /**
   * A secret's metadata
   *
   * `ref` is the id or the name. The ETag is `"v<currentVersion>-r<revision>"`; deleted secrets are found too.
   */
  'GET /secrets/{ref}': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Change description or labels
   *
   * Values and versions are untouched. With `If-Match: "v<n>-r<m>"` (the ETag of a read), 412 if the secret changed since; `"v<n>"` checks the values version only.
   */
  'PATCH /secrets/{ref}': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: {
      description?: string;
      /** Replaces every label */
      labels?: Record<string, string>;
      /** When its credentials expire: `2026-12-31` or `2026-12-31T18:00:00Z`; null for none */
      expiresAt?: string | null;
      /** Rotate its values every this many days; null: never */
      rotateEveryDays?: number | null;
    };
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Delete a secret (to the trash)
   *
   * Restorable until its recovery window ends; its name is free at once. `If-Match` makes it conditional.
   */
  'DELETE /secrets/{ref}': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: never;
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Restore a deleted secret
   *
   * `If-Match` makes it conditional.
   */
  'POST /secrets/{ref}/restore': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: {
      /** When the old name was reused */
      newName?: string;
    };
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Delete a secret and all its versions for good
   *
   * `If-Match` makes it conditional.
   */
  'POST /secrets/{ref}/purge': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: Record<string, never>;
    status: 204;
    response: undefined;
  };
  /**
   * Rename a secret
   *
   * Its id, values and versions stay. `If-Match` makes it conditional (`"v<n>-r<m>"`: nothing changed since the read).
   */
  'POST /secrets/{ref}/rename': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: {
      newName: string;
    };
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Read values
   *
   * Secret fields are masked unless `reveal=true` (needs `read`; every reveal is audited). Without `version`, the current one; its ETag is `"v<version>"`, and `If-None-Match` with that tag answers `304` without a body while the version is current (after the same access check, and audited like any reveal).
   */
  'GET /secrets/{ref}/values': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: {
      /** Show secret fields (needs `read`; audited) */
      reveal?: '0' | '1' | 'true' | 'false';
      version?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: Schemas['SecretValues'];
  };
  /**
   * Change values (a new version)
   *
   * Fields in `values` are set (a secret field sent as the mask keeps its value), `removeKeys` are removed, the rest stay. `If-Match: "v<n>"` makes it check-and-set: 412 unless n is current.
   */
  'PATCH /secrets/{ref}/values': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: {
      /** Field name → value; a secret field sent back as the mask keeps its stored value */
      values?: Record<string, string | number | boolean>;
      removeKeys?: string[];
    };
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /** Kept versions, newest first */
  'GET /secrets/{ref}/versions': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['SecretVersion'][];
      nextCursor: string | null;
    };
  };
  /**
   * Roll back to an earlier version
   *
   * Makes a new version holding the values of `toVersion`. `If-Match` makes it conditional.
   */
  'POST /secrets/{ref}/rollback': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: {
      /** An ETag from a read (`"v<version>"` or `"v<version>-r<revision>"`): write only if it still holds */
      'if-match'?: string;
    };
    body: {
      toVersion: number;
    };
    status: 200;
    response: Schemas['SecretMetadata'];
  };
  /**
   * Test that the credentials work
   *
   * Uses the secret on the caller's behalf (`use` suffices: a group member can test what they cannot see): SMTP login, database `SELECT 1`, or an HTTP request. 200 with `ok: false` and a reason (never a secret value) when they do not work; 422 `unsupported` for kinds without a test.
   */
  'POST /secrets/{ref}/test': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 200;
    response: Schemas['ConnectionTestResult'];
  };
  /**
   * A secret's shares
   *
   * Groups first, then users, by name. Needs `read`.
   */
  'GET /secrets/{ref}/shares': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['Share'][];
      nextCursor: string | null;
    };
  };
  /**
   * Share a secret (or change a share)
   *
   * Grants a user or group one level: `use` < `read` < `write` < `manage`. Defaults: `read` for users, `use` for groups. Sharing with a group needs membership (or admin).
   */
  'POST /secrets/{ref}/shares': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: never;
    body: {
      granteeType: 'user' | 'group';
      granteeId: string;
      /** Defaults to `read` for a user and `use` for a group */
      level?: 'use' | 'read' | 'write' | 'manage';
    };
    status: 200;
    response: Schemas['Share'];
  };
  /**
   * Revoke a share
   *
   * Takes effect on the grantee’s next request.
   */
  'DELETE /secrets/{ref}/shares/{granteeType}/{granteeId}': {
    path: {
      ref: string;
      granteeType: 'user' | 'group';
      granteeId: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 204;
    response: undefined;
  };
  /**
   * Make a share link
   *
   * Needs `read`: reveals the values (audited as `secret.reveal`), seals a copy of them (or of `fields`) under a fresh link key, and records `share_link.create`. The answer holds the key and the whole link (`url`) once; Coffer keeps neither.
   */
  'POST /secrets/{ref}/share-links': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: never;
    headers: never;
    body: {
      /** The fields to share (default: every field) */
      fields?: string[];
      /** Seconds until it expires: 300 to 2592000 (30 days); default 86400 */
      ttlSeconds?: number;
      /** How many times it opens: 1 to 100; default 1 */
      maxViews?: number;
      /** Needed as well as the link; send it to the recipient another way */
      passphrase?: string;
    };
    status: 201;
    response: Schemas['CreatedShareLink'];
  };
  /**
   * A secret's share links
   *
   * Newest first, with their state; metadata only, never a key or a value. Needs `read`.
   */
  'GET /secrets/{ref}/share-links': {
    path: {
      /** The secret id or name */
      ref: string;
    };
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['ShareLink'][];
      nextCursor: string | null;
    };
  };
  /**
   * Revoke a share link
   *
   * Its copy of the values is destroyed at once and it opens no more. Its creator may, and whoever may `manage` the secret. A link that already ended is answered as it is.
   */
  'DELETE /share-links/{id}': {
    path: {
      /** The share link id */
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['ShareLink'];
  };
  /**
   * What a share link holds (public)
   *
   * For the holder of the link, no account needed: whose secret, which fields, views left, whether a passphrase is needed. Counts no view. `410` for a link that expired (`share_link_expired`), was used (`share_link_used`) or revoked (`share_link_revoked`).
   */
  'POST /share-links/{id}/preview': {
    path: {
      /** The share link id */
      id: string;
    };
    query: never;
    headers: never;
    body: {
      /** The part of the link after `#` */
      key: string;
    };
    status: 200;
    response: Schemas['ShareLinkPreview'];
  };
  /**
   * Open a share link (public)
   *
   * Counts one view and answers the values; after the last view the copy is destroyed. A wrong key (`share_link_wrong_key`) or passphrase (`share_link_wrong_passphrase`) counts no view; guesses are throttled (`429`). The key is used in memory for this request only and is never stored or logged.
   */
  'POST /share-links/{id}/open': {
    path: {
      /** The share link id */
      id: string;
    };
    query: never;
    headers: never;
    body: {
      /** The part of the link after `#` */
      key: string;
      passphrase?: string;
    };
    status: 200;
    response: Schemas['OpenedShareLink'];
  };
  /** List kinds */
  'GET /kinds': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['Kind'][];
      nextCursor: string | null;
    };
  };
  /** One kind */
  'GET /kinds/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['Kind'];
  };
  /** List users and service accounts */
  'GET /users': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
      /** A prefix of the username or display name */
      query?: string;
      includeDisabled?: '0' | '1' | 'true' | 'false';
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['User'][];
      nextCursor: string | null;
    };
  };
  /** Create a user or service account (admins) */
  'POST /users': {
    path: never;
    query: never;
    headers: never;
    body: {
      username: string;
      displayName?: string;
      email?: string | null;
      role?: 'admin' | 'member';
      /** `service_account`: a bot with tokens only */
      type?: 'user' | 'service_account';
      /** 12 to 1024 characters; never for service accounts */
      password?: string;
    };
    status: 201;
    response: Schemas['User'];
  };
  /** One user */
  'GET /users/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['User'];
  };
  /**
   * Change a user
   *
   * Admins change anything (disabling ends every session at once); users their own display name and email.
   */
  'PATCH /users/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: {
      displayName?: string;
      email?: string | null;
      role?: 'admin' | 'member';
      disabled?: boolean;
    };
    status: 200;
    response: Schemas['User'];
  };
  /**
   * Set a password
   *
   * Admins reset anyone else’s; users change their own with `currentPassword`. Every session of the user ends.
   */
  'POST /users/{id}/password': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: {
      newPassword: string;
      /** Required when changing your own */
      currentPassword?: string;
    };
    status: 204;
    response: undefined;
  };
  /**
   * Log a user out everywhere
   *
   * The user themself or an admin. Takes effect at once on every server process.
   */
  'DELETE /users/{id}/sessions': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: {
      ended: number;
    };
  };
  /** List groups */
  'GET /groups': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
      /** A prefix of the group name */
      query?: string;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['Group'][];
      nextCursor: string | null;
    };
  };
  /** Create a group (admins) */
  'POST /groups': {
    path: never;
    query: never;
    headers: never;
    body: {
      name: string;
      description?: string;
    };
    status: 201;
    response: Schemas['Group'];
  };
  /** A group with its members (admins and members) */
  'GET /groups/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['GroupWithMembers'];
  };
  /** Change a group (admins) */
  'PATCH /groups/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: {
      name?: string;
      description?: string;
    };
    status: 200;
    response: Schemas['Group'];
  };
  /**
   * Delete a group (admins)
   *
   * Builtin groups (`system`) cannot be deleted.
   */
  'DELETE /groups/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 204;
    response: undefined;
  };
  /** A group's members, by username */
  'GET /groups/{id}/members': {
    path: {
      id: string;
    };
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['GroupMember'][];
      nextCursor: string | null;
    };
  };
  /**
   * Add a member (admins)
   *
   * Idempotent: adding a member twice is fine.
   */
  'PUT /groups/{id}/members/{userId}': {
    path: {
      id: string;
      userId: string;
    };
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 204;
    response: undefined;
  };
  /** Remove a member (admins) */
  'DELETE /groups/{id}/members/{userId}': {
    path: {
      id: string;
      userId: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 204;
    response: undefined;
  };
  /** The caller's tokens (admins: anyone's) */
  'GET /tokens': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
      /** Admins: someone else's tokens */
      userId?: string;
      includeInactive?: '0' | '1' | 'true' | 'false';
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['TokenInfo'][];
      nextCursor: string | null;
    };
  };
  /**
   * Create an API token
   *
   * Users create tokens for themselves, admins for anyone (service accounts included). The token is in this answer only; send it as `Authorization: Bearer <token>`.
   */
  'POST /tokens': {
    path: never;
    query: never;
    headers: never;
    body: {
      name: string;
      scope: 'read-only' | 'read-write';
      /** Admins: a token for another user or a service account */
      userId?: string;
      /** ISO-8601; none: until revoked */
      expiresAt?: string | null;
    };
    status: 201;
    response: Schemas['CreatedToken'];
  };
  /**
   * Revoke a token
   *
   * The owner or an admin; effective on the very next request.
   */
  'DELETE /tokens/{id}': {
    path: {
      id: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['TokenInfo'];
  };
  /** Query the audit log, newest first */
  'GET /audit': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
      actorId?: string;
      targetId?: string;
      /** e.g. `secret.reveal` */
      action?: string;
      outcome?: 'success' | 'denied' | 'failure';
      /** ISO-8601, inclusive */
      from?: string;
      /** ISO-8601, exclusive */
      to?: string;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['AuditRecord'][];
      nextCursor: string | null;
    };
  };
  /**
   * Verify the hash chain
   *
   * Reports the first changed, missing or reordered record, or a cut-off end.
   */
  'POST /audit/verify': {
    path: never;
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 200;
    response: {
      ok: boolean;
      checked: number;
      firstBrokenSeq?: number;
      problem?: string;
      head?: {
        seq: number;
        hash: string;
      };
    };
  };
  /**
   * Export records as JSON lines, oldest first
   *
   * `application/x-ndjson`, streamed. The export itself is recorded.
   */
  'GET /audit/export': {
    path: never;
    query: {
      actorId?: string;
      targetId?: string;
      /** e.g. `secret.reveal` */
      action?: string;
      outcome?: 'success' | 'denied' | 'failure';
      /** ISO-8601, inclusive */
      from?: string;
      /** ISO-8601, exclusive */
      to?: string;
    };
    headers: never;
    body: never;
    status: 200;
    response: string;
  };
  /** Keyring status */
  'GET /keyring': {
    path: never;
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['KeyringStatus'];
  };
  /**
   * Rotate the key-encryption key
   *
   * Adds a key, makes it current, and re-wraps stored data keys in the background (see `rewrap` in the status). Env-sourced keys cannot rotate (422 `unsupported`).
   */
  'POST /keyring/rotate': {
    path: never;
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 200;
    response: Schemas['KeyInfo'];
  };
  /** Configured backend instances and their status */
  'GET /backends': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['BackendInstance'][];
      nextCursor: string | null;
    };
  };
  /** Backend types this server can configure */
  'GET /backends/definitions': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['BackendDefinition'][];
      nextCursor: string | null;
    };
  };
  /** One backend instance */
  'GET /backends/{name}': {
    path: {
      name: string;
    };
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['BackendInstance'];
  };
  /**
   * Migration status
   *
   * Progress of moving values to the active backend (the first 100 failures; up to 1,000 in `/migration/failures`).
   */
  'GET /migration': {
    path: never;
    query: never;
    headers: never;
    body: never;
    status: 200;
    response: Schemas['MigrationStatus'];
  };
  /**
   * Start (or resume) a migration
   *
   * Moves every secret’s values to the target, verified by read-back, resumable. Answers at once (202).
   */
  'POST /migration': {
    path: never;
    query: never;
    headers: never;
    body: {
      /** The backend to move values to; default: the configured one */
      target?: string;
      /** Keep the values in the old backend too */
      keepSource?: boolean;
      /** Try the secrets that failed last time again */
      retryFailed?: boolean;
    };
    status: 202;
    response: Schemas['MigrationStatus'];
  };
  /** Secrets the migration could not move, and why */
  'GET /migration/failures': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Array<{
        secretId: string;
        name: string;
        reason: string;
      }>;
      nextCursor: string | null;
    };
  };
  /**
   * Delete the source copies that keepSource migrations kept
   *
   * Makes those migrations one-way. Refused (409) while a migration runs.
   */
  'POST /migration/drop-kept-sources': {
    path: never;
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 200;
    response: {
      dropped: number;
    };
  };
  /**
   * Stream change events (Server-Sent Events)
   *
   * `text/event-stream`. One event per change of a secret the caller may see, from every server sharing the database, in order; never a value. With `read` or more, `data` holds `access: "read"`, `type`, `secretId`, `name`, `kind`, `version`, `actorId`, `ownerId` and `at`; with only `use`, `access: "use"` with `type`, `secretId`, `version` and `at`. The SSE `event` field is the type (`secret.updated`, ...) and `id` its position: reconnect with `Last-Event-ID` (or `?after=`) to get what was missed. Also sent: `ready` (with the current `cursor`) first, `reset` when the position asked for is older than what the server keeps (re-read what you track), and `error` (with a `code`) before the server ends a stream whose credentials stopped working.
   */
  'GET /events': {
    path: never;
    query: {
      /** Resume after this event id (a `Last-Event-ID` header takes precedence). */
      after?: number;
      /** Only events of these secrets (repeat the parameter for several). */
      secretId?: string | string[];
    };
    headers: never;
    body: never;
    status: 200;
    response: string;
  };
  /**
   * Secrets that expired, expire or are due for rotation
   *
   * Live secrets whose expiry passed or comes within `within` days, or whose values are due for rotation within it (or overdue), earliest first. Only what the caller may read (admins: all): a secret held at `use` alone is never listed.
   */
  'GET /reminders/due': {
    path: never;
    query: {
      /** `nextCursor` of the previous page */
      cursor?: string;
      /** Items per page, 1 to 1000 (default 100) */
      limit?: number;
      /** Days ahead, e.g. `30d` (default: the server's `reminders.withinDays`, 30) */
      within?: string;
      /** Only secrets due for this reason */
      reason?: 'expired' | 'expiring' | 'rotation';
      /** `mine`: only what you own or was shared with you */
      view?: 'accessible' | 'mine';
    };
    headers: never;
    body: never;
    status: 200;
    response: {
      items: Schemas['DueSecret'][];
      nextCursor: string | null;
    };
  };
  /**
   * Mail the reminders that are due now (admins)
   *
   * Runs the reminder job at once instead of waiting for its timer: each owner gets one mail per secret, reason and due date, through the SMTP secret shared with the `system` group. Audited as `reminder.run`, each mail as `reminder.sent`.
   */
  'POST /reminders/run': {
    path: never;
    query: never;
    headers: never;
    body: Record<string, never>;
    status: 200;
    response: Schemas['ReminderRun'];
  };
}
