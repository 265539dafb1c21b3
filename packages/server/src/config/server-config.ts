import { type CofferConfigInput, cofferConfigSchema } from '@coffer/core';
import { z } from 'zod';
import { ssoSettingsSchema } from '../auth/oidc-settings.js';

const whole = (min: number, max: number, what = 'a whole number') =>
  z
    .number({ error: `must be ${what} from ${min} to ${max}` })
    .int(`must be ${what} from ${min} to ${max}`)
    .min(min, `must be ${what} from ${min} to ${max}`)
    .max(max, `must be ${what} from ${min} to ${max}`);

const flag = z.boolean({ error: 'must be true or false' });

/** Paths Vault itself reserves under `/v1`; a KV mount cannot take them. */
const reservedVaultMounts: readonly string[] = ['sys', 'auth', 'identity', 'cubbyhole'];

/** The server's own settings: the `server` key of the config file, or `COFFER_*` variables. */
export const serverSettingsSchema = z.strictObject({
  /** The address to listen on; 127.0.0.1 keeps the server private to this machine. */
  host: z.string({ error: 'must be a host name or IP address' }).min(1).default('127.0.0.1'),
  /** 0 picks a free port (printed on start). */
  port: whole(0, 65535).default(8470),
  /** Serve HTTPS with this PEM certificate (chain) and private key. */
  tls: z
    .strictObject({
      cert: z.string({ error: 'must be the path of a PEM certificate file' }).min(1),
      key: z.string({ error: 'must be the path of a PEM private key file' }).min(1),
    })
    .optional(),
  /** Trust X-Forwarded-* from a reverse proxy (client address, https for Secure cookies). */
  trustProxy: flag.default(false),
  /** The largest request body, in bytes. */
  bodyLimit: whole(1024, 64 * 1024 * 1024, 'a number of bytes').default(2 * 1024 * 1024),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  sessions: z
    .strictObject({
      ttlSeconds: whole(60, 30 * 24 * 3600, 'a number of seconds').optional(),
      idleTimeoutSeconds: whole(60, 30 * 24 * 3600, 'a number of seconds').optional(),
    })
    .prefault({}),
  login: z
    .strictObject({
      maxFailures: whole(1, 1000).optional(),
      maxFailuresPerAddress: whole(1, 100_000).optional(),
      lockoutSeconds: whole(1, 86_400, 'a number of seconds').optional(),
      maxLockoutSeconds: whole(1, 7 * 86_400, 'a number of seconds').optional(),
    })
    .prefault({}),
  connectionTestTimeoutMs: whole(100, 120_000, 'a number of milliseconds').default(10_000),
  /** How long a graceful shutdown waits for in-flight requests before it gives up. */
  shutdownTimeoutMs: whole(0, 600_000, 'a number of milliseconds').default(10_000),
  docs: flag.default(true),
  metrics: flag.default(true),
  /**
   * Give memory back to the system once no request has arrived for ~7 s (a compacting
   * collection and SQLite's cache; docs/performance.md, "Idle RSS"). The standalone server only.
   */
  releaseIdleMemory: flag.default(true),
  /** The built web UI to serve at `/`; defaults to `packages/web/dist` when it exists. */
  webDir: z.string().min(1).optional(),
  /**
   * The Vault KV v2-compatible door under `/v1` (docs/vault-api.md). Off by default: a second
   * API with another client ecosystem is opened on purpose, not by an upgrade.
   */
  vaultApi: z
    .strictObject({
      enabled: flag.default(false),
      mount: z
        .string({ error: 'must be a mount name' })
        .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1 to 64 lowercase letters, digits, '_' or '-'")
        .refine((m) => !reservedVaultMounts.includes(m), {
          error: `must not be one of Vault's reserved paths (${reservedVaultMounts.join(', ')})`,
        })
        .default('secret'),
    })
    .prefault({}),
  /** Single sign-on with an OpenID Connect provider (docs/sso.md); absent: none. */
  sso: ssoSettingsSchema.optional(),
});

export type ServerSettings = Readonly<z.output<typeof serverSettingsSchema>>;

/** The whole configuration file: the engine's settings plus `server`. */
export const configFileSchema = cofferConfigSchema
  .extend({ server: serverSettingsSchema.prefault({}) })
  .strict();

/** A validated configuration: what the engine gets, and what the server keeps. */
export interface ServerConfig {
  core: CofferConfigInput;
  server: ServerSettings;
  /** The config file it was read from, if any. */
  file?: string;
}

/** Whether a value may be quoted back in an error message (never passwords or URLs with them). */
export type Sensitivity = 'plain' | 'secret';

/** One environment variable and the setting it fills. */
export interface EnvSetting {
  variable: string;
  path: readonly string[];
  /** `list`: comma-separated; `map`: comma-separated `key=value` pairs (a key given twice gets both values). */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'map';
  sensitivity: Sensitivity;
  description: string;
}

const env = (
  variable: string,
  path: string,
  type: EnvSetting['type'],
  description: string,
  sensitivity: Sensitivity = 'plain',
): EnvSetting => ({ variable, path: path.split('.'), type, sensitivity, description });

/**
 * Every `COFFER_*` variable and the config-file key it sets; docs/server.md lists the same
 * table (a test checks that every variable is documented).
 */
export const envSettings: readonly EnvSetting[] = [
  env('COFFER_DATA_DIR', 'dataDir', 'string', 'Data directory (SQLite database, key file)'),
  env(
    'COFFER_DATABASE_URL',
    'database.url',
    'string',
    'sqlite:PATH, postgres://... or mysql://...',
    'secret',
  ),
  env(
    'COFFER_SQLITE_SYNC',
    'database.sqliteSync',
    'string',
    'SQLite: normal (log flushed at checkpoints) or full (flushed at every commit)',
  ),
  env(
    'COFFER_SQLITE_CHECKPOINTS',
    'database.sqliteCheckpoints',
    'string',
    'SQLite: background (checkpoints in a worker thread) or inline (in the commit that fills the log)',
  ),
  env(
    'COFFER_SQLITE_CACHE_MIB',
    'database.sqliteCacheMiB',
    'integer',
    'SQLite: the most memory its page cache may hold, in MiB (default 16)',
  ),
  env(
    'COFFER_PG_PREPARED_STATEMENTS',
    'database.postgresPreparedStatements',
    'boolean',
    'PostgreSQL: keep the hot statements prepared on each connection (default true)',
  ),
  env(
    'COFFER_ADMIN_PASSWORD',
    'adminPassword',
    'string',
    'The first admin password (first start only)',
    'secret',
  ),
  env(
    'COFFER_KEYRING_SOURCE',
    'keyring.source',
    'string',
    'file, env, or a KMS key source (aws-kms, gcp-kms, azure-key-vault, vault-transit)',
  ),
  env('COFFER_KEY_FILE', 'keyring.path', 'string', 'The key file (keyring source file)'),
  env('COFFER_KEY_VARIABLE', 'keyring.variable', 'string', 'The variable holding the keys (source env)'),
  env('COFFER_BACKEND', 'backend', 'string', 'The backend instance new values go to'),
  env('COFFER_BACKUP', 'backup', 'string', 'A backend instance that mirrors the active one'),
  env(
    'COFFER_MIGRATE_ON_START',
    'migration.onStart',
    'boolean',
    'Migrate values to the active backend on start',
  ),
  env('COFFER_MIGRATION_KEEP_SOURCE', 'migration.keepSource', 'boolean', 'Keep source copies after a move'),
  env('COFFER_BACKEND_MODULES', 'backendModules', 'list', 'Comma-separated module paths of custom backends'),
  env('COFFER_CLUSTER_PREFIX', 'clusterPrefix', 'string', 'Prefix of names in external stores'),
  env('COFFER_KINDS_DIR', 'kindsDir', 'string', 'A directory of operator-defined kinds'),
  env('COFFER_VERSIONS_KEEP', 'versions.keep', 'integer', 'Versions kept per secret'),
  env('COFFER_RECOVERY_WINDOW_DAYS', 'recoveryWindowDays', 'number', 'Days a deleted secret can be restored'),
  env(
    'COFFER_REMINDERS',
    'reminders.enabled',
    'boolean',
    'Mail owners about expiring and rotation-due secrets',
  ),
  env(
    'COFFER_REMINDERS_SMTP_SECRET',
    'reminders.smtpSecret',
    'string',
    'The smtp secret reminders go through',
  ),
  env('COFFER_REMINDERS_WITHIN_DAYS', 'reminders.withinDays', 'integer', 'Days ahead a reminder goes out'),
  env(
    'COFFER_REMINDERS_INTERVAL_MINUTES',
    'reminders.intervalMinutes',
    'integer',
    'How often the reminder job runs',
  ),
  env('COFFER_REMINDERS_FROM', 'reminders.from', 'string', 'The sender address of reminders'),
  env('COFFER_REMINDERS_WEB_URL', 'reminders.webUrl', 'string', 'The web UI address linked from reminders'),
  env('COFFER_HOST', 'server.host', 'string', 'The address to listen on'),
  env('COFFER_PORT', 'server.port', 'integer', 'The port (0: any free one)'),
  env('COFFER_TLS_CERT', 'server.tls.cert', 'string', 'PEM certificate file: serve HTTPS'),
  env('COFFER_TLS_KEY', 'server.tls.key', 'string', 'PEM private key file'),
  env('COFFER_TRUST_PROXY', 'server.trustProxy', 'boolean', 'Trust X-Forwarded-* headers'),
  env('COFFER_BODY_LIMIT', 'server.bodyLimit', 'integer', 'Largest request body in bytes'),
  env('COFFER_LOG_LEVEL', 'server.logLevel', 'string', 'Log level'),
  env('COFFER_SESSION_TTL_SECONDS', 'server.sessions.ttlSeconds', 'integer', 'Session lifetime'),
  env('COFFER_SESSION_IDLE_SECONDS', 'server.sessions.idleTimeoutSeconds', 'integer', 'Idle session timeout'),
  env(
    'COFFER_LOGIN_MAX_FAILURES',
    'server.login.maxFailures',
    'integer',
    'Failed logins per username before lockout',
  ),
  env(
    'COFFER_LOGIN_MAX_FAILURES_PER_ADDRESS',
    'server.login.maxFailuresPerAddress',
    'integer',
    'Failed logins per client address before lockout',
  ),
  env(
    'COFFER_LOGIN_LOCKOUT_SECONDS',
    'server.login.lockoutSeconds',
    'integer',
    'First lockout; doubles per failure',
  ),
  env('COFFER_LOGIN_MAX_LOCKOUT_SECONDS', 'server.login.maxLockoutSeconds', 'integer', 'Longest lockout'),
  env(
    'COFFER_CONNECTION_TEST_TIMEOUT_MS',
    'server.connectionTestTimeoutMs',
    'integer',
    'Connection test timeout',
  ),
  env('COFFER_SHUTDOWN_TIMEOUT_MS', 'server.shutdownTimeoutMs', 'integer', 'Graceful shutdown limit'),
  env('COFFER_DOCS', 'server.docs', 'boolean', 'Serve the API docs page'),
  env('COFFER_METRICS', 'server.metrics', 'boolean', 'Serve /metrics'),
  env(
    'COFFER_RELEASE_IDLE_MEMORY',
    'server.releaseIdleMemory',
    'boolean',
    'Give memory back to the system when no request arrived for ~7 s',
  ),
  env('COFFER_WEB_DIR', 'server.webDir', 'string', 'The built web UI to serve at /'),
  env(
    'COFFER_VAULT_API',
    'server.vaultApi.enabled',
    'boolean',
    'Serve the Vault KV v2-compatible API at /v1',
  ),
  env('COFFER_VAULT_API_MOUNT', 'server.vaultApi.mount', 'string', 'The KV v2 mount name under /v1'),
  env('COFFER_SSO_ISSUER', 'server.sso.issuer', 'string', 'Single sign-on: the OpenID Connect issuer URL'),
  env('COFFER_SSO_CLIENT_ID', 'server.sso.clientId', 'string', 'Single sign-on: the client id'),
  env(
    'COFFER_SSO_CLIENT_SECRET',
    'server.sso.clientSecret',
    'string',
    'Single sign-on: the client secret',
    'secret',
  ),
  env(
    'COFFER_SSO_CLIENT_SECRET_FILE',
    'server.sso.clientSecretFile',
    'string',
    'Single sign-on: a file holding the client secret',
  ),
  env('COFFER_SSO_NAME', 'server.sso.name', 'string', 'Single sign-on: the provider name on the login page'),
  env('COFFER_SSO_SCOPES', 'server.sso.scopes', 'list', 'Single sign-on: the scopes asked for'),
  env(
    'COFFER_SSO_USERNAME_CLAIM',
    'server.sso.usernameClaim',
    'string',
    'Single sign-on: the username claim',
  ),
  env('COFFER_SSO_GROUPS_CLAIM', 'server.sso.groupsClaim', 'string', 'Single sign-on: the groups claim'),
  env(
    'COFFER_SSO_GROUP_MAPPING',
    'server.sso.groupMapping',
    'map',
    'Single sign-on: provider group=Coffer group pairs',
  ),
  env(
    'COFFER_SSO_MATCH_EXISTING_GROUPS',
    'server.sso.matchExistingGroups',
    'boolean',
    'Single sign-on: provider groups join Coffer groups of the same name',
  ),
  env(
    'COFFER_SSO_AUTO_CREATE_USERS',
    'server.sso.autoCreateUsers',
    'boolean',
    'Single sign-on: the first sign-in creates the user',
  ),
  env(
    'COFFER_SSO_LINK_EXISTING_USERS',
    'server.sso.linkExistingUsers',
    'boolean',
    'Single sign-on: link existing users with a password by username',
  ),
  env(
    'COFFER_SSO_PASSWORD_LOGIN',
    'server.sso.passwordLogin',
    'string',
    'Who may log in with a password: all, admins or none',
  ),
  env(
    'COFFER_SSO_PUBLIC_URL',
    'server.sso.publicUrl',
    'string',
    'Single sign-on: the URL browsers reach Coffer at',
  ),
  env('COFFER_SSO_REDIRECT_URI', 'server.sso.redirectUri', 'string', 'Single sign-on: the redirect URI'),
];

/** Variables that are not settings but are read elsewhere (and so are not "unknown"). */
/** COFFER_* variables that are not server settings but belong to Coffer (the CLI and SDK read ADDR and TOKEN). */
export const otherCofferVariables: readonly string[] = [
  'COFFER_CONFIG',
  'COFFER_MASTER_KEY',
  'COFFER_ADDR',
  'COFFER_TOKEN',
];
