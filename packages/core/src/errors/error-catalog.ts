/**
 * Every error Coffer reports carries one of these stable codes. Clients (the SDK, the CLI,
 * the web UI) branch on the code, never on the message. Adding a code forces a decision in
 * every exhaustive table that is keyed by {@link ErrorCode} (HTTP status, CLI exit code).
 *
 * @example
 * if (err instanceof CofferError && err.code === 'not_found') { ... }
 */
export const errorCatalog = {
  validation: 'The input is not valid; `details.issues` names each offending field and why.',
  not_found: 'The thing asked for does not exist, or the caller may not know that it exists.',
  already_exists: 'A thing with that name or identity already exists.',
  conflict: 'The operation conflicts with the current state (e.g. another write is in progress).',
  version_conflict:
    'A check-and-set write expected a version that is no longer current; `details` has both versions.',
  forbidden: 'The caller is known but lacks the access level the operation needs.',
  unauthenticated: 'The caller could not be authenticated (missing, wrong, expired or revoked credentials).',
  integrity: 'Stored data failed its integrity check (tampered ciphertext or a broken audit chain).',
  key_unavailable:
    'The key-encryption key a value was sealed with is not in the keyring, or its KMS cannot be used right now; `details.reason` says why (e.g. `unreachable`, `permission_denied`, `key_disabled`).',
  key_mismatch: 'A configured key does not match the key that data in this database was sealed with.',
  backend_unavailable: 'A value backend could not be reached or refused the request.',
  database_unavailable:
    'The server cannot reach its database right now (a restart, a failover, a dropped connection); retry shortly (`details.retryAfterSeconds`). A write cut off while committing may have taken effect: retry it with If-Match (check-and-set) to find out.',
  value_not_found: 'A backend holds no value for the requested secret version.',
  payload_too_large: 'The request or value is larger than allowed.',
  rate_limited: 'Too many attempts; retry later (`details.retryAfterSeconds`).',
  precondition_required: 'The operation needs an explicit confirmation or precondition that was not given.',
  invalid_config: 'Configuration is invalid; `details.issues` names each setting and what is allowed.',
  unsupported: 'The operation is not supported by this deployment or backend.',
  share_link_expired: 'A share link outlived its time to live; its copy of the values is gone.',
  share_link_used: 'A share link was opened as many times as it allows; its copy of the values is gone.',
  share_link_revoked:
    'A share link was revoked (by a person, because its secret was deleted, or after too many wrong passphrases); its copy of the values is gone.',
  share_link_wrong_key:
    'The key in a share link does not open it: the link was cut short or changed. Nothing was counted as a view.',
  share_link_wrong_passphrase:
    'A share link needs its passphrase, and none or a wrong one was given. Nothing was counted as a view; `details.attemptsLeft` says how many more tries it allows.',
  internal: 'An unexpected internal error. The message is generic; details are in the server log.',
} as const satisfies Record<string, string>;

/** A stable error code; see {@link errorCatalog} for what each one means. */
export type ErrorCode = keyof typeof errorCatalog;

/** All error codes, in catalog order. */
export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];
