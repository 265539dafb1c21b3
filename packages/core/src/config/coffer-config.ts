import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CofferError } from '../errors/coffer-error.js';
import { fieldIssuesFromZod } from '../errors/zod-issues.js';
import { keySourceConfigSchema } from '../keyring/key-source-config.js';
import { defaultSqliteCacheMiB } from '../storage/database.js';

const instanceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    'backend names are lowercase letters, digits and "-", starting with a letter',
  );

/**
 * Everything `createCoffer` can be configured with that can live in a file or environment.
 * Parsed once at start; every problem is reported at once, naming the setting.
 */
export const cofferConfigSchema = z
  .object({
    /** Where the SQLite database, key file and file-backend blobs live by default. */
    dataDir: z.string().min(1).default('.coffer-data'),
    database: z
      .object({
        /** `sqlite:PATH`, `postgres://...` or `mysql://...`; defaults to SQLite in the data directory. */
        url: z.string().min(1).optional(),
        /**
         * SQLite only: `normal` flushes the write-ahead log to disk at checkpoints (a power loss
         * can lose the changes since the last one), `full` at every commit (slower writes).
         */
        sqliteSync: z.enum(['normal', 'full']).default('normal'),
        /**
         * SQLite only: `background` checkpoints the write-ahead log in a worker thread, so no
         * commit waits for one; `inline` leaves them to the commits, as SQLite does by itself.
         */
        sqliteCheckpoints: z.enum(['background', 'inline']).default('background'),
        /**
         * SQLite only: the most memory its page cache may hold, in MiB. Smaller saves memory
         * and costs reads once the pages in use no longer fit (docs/performance.md, "Idle RSS").
         */
        sqliteCacheMiB: z
          .number({ error: 'must be a whole number of MiB from 1 to 4096' })
          .int('must be a whole number of MiB from 1 to 4096')
          .min(1, 'must be a whole number of MiB from 1 to 4096')
          .max(4096, 'must be a whole number of MiB from 1 to 4096')
          .default(defaultSqliteCacheMiB),
        /**
         * PostgreSQL only: keep the statements of the hot paths prepared on each connection, so
         * the server plans them once (docs/performance.md). Turn off behind a pooler that cannot
         * keep named statements, such as PgBouncer before 1.21 in transaction mode.
         */
        postgresPreparedStatements: z.boolean().default(true),
      })
      .strict()
      .default({
        sqliteSync: 'normal',
        sqliteCheckpoints: 'background',
        sqliteCacheMiB: defaultSqliteCacheMiB,
        postgresPreparedStatements: true,
      }),
    /**
     * Where the key-encryption keys come from: `{ source: 'file', path? }` (default),
     * `{ source: 'env', variable? }`, or a KMS key source such as
     * `{ source: 'aws-kms', keyId, region?, ..., cache? }` (settings checked by its package).
     */
    keyring: keySourceConfigSchema,
    /** Backend instances by name; `sql` (type sql) always exists. */
    backends: z.record(instanceName, z.looseObject({ type: z.string().min(1) })).default({}),
    /** The backend new values go to. Secrets held elsewhere are migrated to it. */
    backend: instanceName.default('sql'),
    /**
     * A backend instance that mirrors every value written to the active backend; reads fall
     * back to it when the active backend fails (ZenML's backup secrets store).
     */
    backup: instanceName.optional(),
    /** Module paths (or package names) of custom backend definitions to load. */
    backendModules: z.array(z.string().min(1)).default([]),
    /** Moving secrets whose values live in another backend than the active one. */
    migration: z
      .object({
        /** Migrate on start (OpenMetadata's behaviour); otherwise only on command. */
        onStart: z.boolean().default(true),
        /** Keep the source copies after a secret moved, instead of deleting them. */
        keepSource: z.boolean().default(false),
        /**
         * Secrets moved at the same time. Unset: 16 on SQLite, 4 on PostgreSQL and MySQL
         * (migrationConcurrencyFor).
         */
        concurrency: z.number().int().min(1).max(64).optional(),
        /** How long a run's owner may go silent before another process takes the run over. */
        leaseSeconds: z.number().min(1).max(3600).default(30),
      })
      .strict()
      .default({ onStart: true, keepSource: false, leaseSeconds: 30 }),
    /** Prefix of names in external stores, so several deployments can share one. */
    clusterPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and "-", at most 32')
      .default('coffer'),
    /** A directory of operator-defined kinds (JSON files and TypeScript/JavaScript modules). */
    kindsDir: z.string().min(1).optional(),
    versions: z
      .object({ keep: z.number().int().min(1).max(1000).default(10) })
      .strict()
      .default({ keep: 10 }),
    /** Days a deleted secret can be restored before it is purged. */
    recoveryWindowDays: z.number().min(0).max(365).default(30),
    /** Change events, shared by every server on the database (see docs/embedding.md#events). */
    events: z
      .object({
        /**
         * How often a server looks for events other servers committed. PostgreSQL servers are
         * also woken by NOTIFY; this bounds how stale a replica's caches can be elsewhere.
         */
        pollIntervalMs: z.number().int().min(20).max(60_000).default(250),
        /** Hours events are kept for subscribers that resume from a cursor. */
        retentionHours: z
          .number()
          .min(1)
          .max(24 * 365)
          .default(168),
      })
      .strict()
      .default({ pollIntervalMs: 250, retentionHours: 168 }),
    /** Background work (finishing interrupted writes, purges, the key re-wrap), on one server at a time. */
    jobs: z
      .object({
        /** How often a server looks for work to finish: interrupted writes, an unfinished re-wrap. */
        intervalSeconds: z.number().min(1).max(3600).default(30),
        /** How long the server running a job may go silent before another takes it over. */
        leaseSeconds: z.number().min(1).max(3600).default(60),
        /**
         * How long one value write may take before a write left by a server that died is undone
         * (and stops blocking writes and migrations of that secret). Above the slowest store's put.
         */
        writeLeaseSeconds: z.number().min(1).max(3600).default(60),
      })
      .strict()
      .default({ intervalSeconds: 30, leaseSeconds: 60, writeLeaseSeconds: 60 }),
    /**
     * Who a token or user is (role, groups, whether enabled) is cached for at most this long;
     * changes made on any server drop the cache through the change events long before that.
     * 0 turns the cache off.
     */
    identityCacheSeconds: z.number().min(0).max(300).default(10),
    /** Expiry and rotation reminders mailed to owners (docs/reminders.md). */
    reminders: z
      .object({
        /** Mail owners about what expires or is due; listing what is due works either way. */
        enabled: z.boolean().default(true),
        /** The `smtp` secret the mails go through; it must be shared with the `system` group at `use`. */
        smtpSecret: z.string().min(1).max(256).default('system-smtp'),
        /** Days ahead a reminder goes out, and the default window of the due lists and the metric. */
        withinDays: z.number().int().min(0).max(3650).default(30),
        /** How often the mail job looks for what is due. */
        intervalMinutes: z.number().int().min(1).max(1440).default(60),
        /** The sender address; default: the SMTP secret's `from`, else its username. */
        from: z.email().max(320).optional(),
        /** The web UI's address, for a link to the secret in each mail (e.g. `https://coffer.example.com`). */
        webUrl: z
          .url({ protocol: /^https?$/ })
          .max(2048)
          .optional(),
      })
      .strict()
      .default({ enabled: true, smtpSecret: 'system-smtp', withinDays: 30, intervalMinutes: 60 }),
    /** The first admin's password on an empty database; generated and shown once when absent. */
    adminPassword: z.string().min(12).max(1024).optional(),
  })
  .strict();

export type CofferConfigInput = z.input<typeof cofferConfigSchema>;
export type CofferConfig = Readonly<z.output<typeof cofferConfigSchema>>;

/**
 * Validates configuration, reporting every problem at once as `invalid_config` with issues
 * naming each setting, and freezes the result.
 *
 * @example
 * const config = parseCofferConfig({ dataDir: '/var/lib/coffer' });
 */
export function parseCofferConfig(input: unknown): CofferConfig {
  const result = cofferConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const issues = fieldIssuesFromZod(result.error);
    throw new CofferError(
      'invalid_config',
      `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  return deepFreeze(result.data);
}

/** The database URL a configuration means (SQLite in the data directory by default). */
export function databaseUrlOf(config: CofferConfig): string {
  return config.database.url ?? `sqlite:${join(resolve(config.dataDir), 'coffer.db')}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
