import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createShareService, type ShareService } from './access/share-service.js';
import { createAuditLog } from './audit/audit-log.js';
import { type AuditService, createAuditService } from './audit/audit-service.js';
import type { BackendDefinition } from './backends/backend.js';
import { type BackendCatalog, createBackendCatalog } from './backends/backend-catalog.js';
import { loadBackendModules, resolveStorePackage } from './backends/backend-module-loader.js';
import {
  type BackendInstanceConfig,
  type BackendSet,
  createBackendRegistry,
  createBackendSet,
} from './backends/backend-registry.js';
import { ensureDeploymentId } from './backends/deployment-id.js';
import { fileBackendDefinition } from './backends/file/file-backend.js';
import { memoryBackendDefinition } from './backends/memory/memory-backend.js';
import { sqlBackendDefinition } from './backends/sql/sql-backend.js';
import { assertKeepFits, storePackages, storePackagesFor } from './backends/store-packages.js';
import {
  type CofferConfig,
  type CofferConfigInput,
  databaseUrlOf,
  parseCofferConfig,
} from './config/coffer-config.js';
import { CofferError } from './errors/coffer-error.js';
import { createEventFeed, type EventBus, type EventFeed, eventWriterFor } from './events/event-feed.js';
import { createEventOutbox, type EventWriter, pruneEvents } from './events/event-outbox.js';
import type { SecretEvent } from './events/event-types.js';
import { eventVisibility, type VisibleEvent } from './events/event-visibility.js';
import { listenForEvents } from './events/pg-event-listener.js';
import type { Actor } from './identity/actor.js';
import type { SessionPolicy } from './identity/identity-context.js';
import { createIdentityService, type IdentityService } from './identity/identity-service.js';
import type { BootstrapResult } from './identity/identity-types.js';
import type { PasswordHasher } from './identity/password-hasher.js';
import type { PasswordLoginPolicy } from './identity/sso-types.js';
import { createJobLeases } from './jobs/job-leases.js';
import type { KeySourceDefinition } from './keyring/external-key-source.js';
import { openKeySource } from './keyring/key-source-config.js';
import { openKeyring } from './keyring/keyring.js';
import { createKeyringService, type KeyringService } from './keyring/keyring-service.js';
import type { Keyring } from './keyring/keyring-types.js';
import { builtinKinds } from './kinds/builtin/builtin-kinds.js';
import type { KindLoadProblem } from './kinds/kind-loader.js';
import { loadKinds } from './kinds/kind-loader.js';
import { createKindRegistry, type KindRegistry } from './kinds/kind-registry.js';
import type { Kind } from './kinds/kind-types.js';
import { type Logger, silentLogger } from './logging/logger.js';
import {
  createMigrationService,
  type MigrationService,
  migrationConcurrencyFor,
} from './migration/migration-service.js';
import type { MigrationStep } from './migration/migration-types.js';
import { createReminderService, type ReminderService } from './reminders/reminder-service.js';
import type { Mailer, ReminderRunResult } from './reminders/reminder-types.js';
import { createSecretService, type SecretService } from './secrets/secret-service.js';
import { type ReconcileResult, reconcileValueJournal } from './secrets/value-reconciler.js';
import type { WriteStep } from './secrets/value-writer.js';
import { createShareLinkService, type ShareLinkService } from './share-links/share-link-service.js';
import { type Clock, systemClock } from './shared/clock.js';
import { type CofferDatabase, openDatabase } from './storage/database.js';
import { migrateToLatest } from './storage/migrator.js';
import { pruneAttempts } from './throttle/attempt-throttle.js';

/** What `createCoffer` takes besides configuration: things that live in code, not in files. */
export interface CreateCofferOptions {
  /** Defaults to a silent logger. Values, passwords and tokens are never logged. */
  logger?: Logger;
  clock?: Clock;
  /** Kinds defined in the embedding application, added to the built-in ones. */
  kinds?: readonly Kind[];
  /** Backend definitions from code, besides the built-in ones and those in `backendModules`. */
  backendDefinitions?: readonly BackendDefinition[];
  /**
   * KMS key source definitions from code, used for `keyring.source` before any key source
   * package (`@coffer/keysource-aws-kms`, ...) is loaded.
   */
  keySourceDefinitions?: readonly KeySourceDefinition[];
  /** The environment for env-sourced keys; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Background upkeep: finishing crashed writes, purging secrets past their recovery window,
   * dropping expired sessions. On by default; tests switch it off and call `maintenance` directly.
   */
  maintenance?: boolean;
  passwordHasher?: PasswordHasher;
  sessions?: Partial<SessionPolicy>;
  /** Who may log in with a password: `all` (default), `admins` or `none` (single sign-on, docs/sso.md). */
  passwordLogin?: PasswordLoginPolicy;
  /**
   * scrypt's cost for share-link passphrases (default N=2^15, r=8, p=1); tests lower it. Each
   * link keeps the cost it was made with.
   */
  shareLinkPassphraseCost?: { N: number; r: number; p: number };
  /**
   * Sends the expiry and rotation reminders (docs/reminders.md); without one nothing is
   * mailed. `@coffer/server` passes `smtpMailer()`; an embedding application may too.
   */
  mailer?: Mailer;
  /** Crash tests only: called at each step of a value write. */
  onWriteStep?: (step: WriteStep, ref: { secretId: string; version: number }) => void;
  /** Crash tests only: called at each step of moving a secret to another backend. */
  onMigrationStep?: (step: MigrationStep, secretId: string) => void;
}

/** A running Coffer engine. */
export interface Coffer {
  readonly config: CofferConfig;
  readonly database: CofferDatabase;
  readonly kinds: KindRegistry & { readonly problems: readonly KindLoadProblem[] };
  readonly secrets: SecretService;
  readonly shares: ShareService;
  /** One-time share links to a secret's values for people without an account (docs/share-links.md). */
  readonly shareLinks: ShareLinkService;
  /** What expires or is due for rotation, and the job that mails owners about it (docs/reminders.md). */
  readonly reminders: ReminderService;
  readonly identity: IdentityService;
  readonly audit: AuditService;
  readonly keyring: KeyringService;
  /** The configured backend instances, and `describe` for admins. */
  readonly backends: BackendSet & BackendCatalog;
  /** Moving secrets' values between backends: status, start, progress. */
  readonly migration: MigrationService;
  readonly events: CofferEvents;
  /** What opening did to an empty database: the first admin's credentials, shown once. */
  readonly bootstrap: BootstrapResult;
  readonly maintenance: {
    reconcile(options?: { olderThanMs?: number }): Promise<ReconcileResult>;
    purgeExpired(): Promise<{ purged: number }>;
    /** Destroys the copies of expired share links and revokes the links of deleted secrets. */
    sweepShareLinks(): Promise<{ expired: number; revoked: number }>;
    /** Drops change events older than `events.retentionHours`. */
    pruneEvents(): Promise<{ pruned: number }>;
    /** Mails owners about what expires or is due for rotation (the reminder job, once). */
    sendReminders(): Promise<ReminderRunResult>;
  };
  close(): Promise<void>;
}

/** Change events of every server on the database, and what one caller may see of each. */
export interface CofferEvents extends EventBus {
  /**
   * What `actor` may see of `event` now: all of it with `read`, only that the secret changed
   * with `use`, nothing (null) otherwise. The server's event stream filters with this.
   *
   * @example
   * coffer.events.subscribe(async (e) => { const v = await coffer.events.visible(actor, e); if (v) send(v.event); });
   */
  visible(actor: Actor, event: SecretEvent): Promise<VisibleEvent | null>;
}

const purgeEveryMs = 10 * 60_000;

/**
 * Opens (and on first use creates) a Coffer: database and schema, keyring, kinds, backends,
 * identity, audit and the secrets engine. Every operation takes the acting principal first.
 *
 * @example
 * const coffer = await createCoffer({ dataDir: './data' });
 * const admin = asUser((await coffer.identity.login('admin', password)).user.id);
 * await coffer.secrets.create(admin, { name: 'smtp', kind: 'smtp', values: { host: 'mail.example.com' } });
 * await coffer.close();
 */
export async function createCoffer(
  input: CofferConfigInput = {},
  options: CreateCofferOptions = {},
): Promise<Coffer> {
  const config = parseCofferConfig(input);
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const database = await openDatabase(databaseUrlOf(config), {
    sqliteSync: config.database.sqliteSync,
    sqliteCheckpoints: config.database.sqliteCheckpoints,
    onSqliteCheckpointFailure: (err) =>
      logger.warn(
        { err },
        'the SQLite checkpoint worker stopped; commits checkpoint the log themselves again',
      ),
    sqliteCacheMiB: config.database.sqliteCacheMiB,
    postgresPreparedStatements: config.database.postgresPreparedStatements,
  });
  const closers: (() => Promise<void>)[] = [() => database.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    await migrateToLatest(database);
    const deploymentId = await ensureDeploymentId(database, clock);

    let backends: BackendSet | undefined;
    const opened = await openKeySource(config.keyring, {
      dataDir,
      logger,
      clock,
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.keySourceDefinitions === undefined ? {} : { definitions: options.keySourceDefinitions }),
    });
    const keyring: Keyring = await openKeyring({
      source: opened.source,
      ...(opened.cache === undefined ? {} : { cache: opened.cache }),
      ...(opened.previous === undefined ? {} : { previous: opened.previous }),
      deploymentId,
      database,
      logger,
      clock,
      referencedKeyIds: async () => {
        const ids = new Set<string>();
        for (const backend of backends?.all() ?? []) {
          for (const id of (await backend.referencedKeyIds?.()) ?? []) ids.add(id);
        }
        return ids;
      },
    });
    // Closed last (closers run in reverse): the re-wrap and the migration may still use it.
    closers.splice(1, 0, async () => {
      await keyring.close?.();
    });

    const kinds = await loadAllKinds(config, options, logger);

    const builtinDefinitions = [sqlBackendDefinition, fileBackendDefinition, memoryBackendDefinition].map(
      (definition) => ({ definition: definition as BackendDefinition, source: 'builtin' }),
    );
    const codeDefinitions = (options.backendDefinitions ?? []).map((definition) => ({
      definition,
      source: 'code',
    }));
    const moduleDefinitions = await loadBackendModules(config.backendModules);
    const registry = createBackendRegistry([
      ...builtinDefinitions,
      ...codeDefinitions,
      ...moduleDefinitions,
      ...(await loadStorePackages(
        config.backends,
        new Set(
          [...builtinDefinitions, ...codeDefinitions, ...moduleDefinitions].map((d) => d.definition.id),
        ),
      )),
    ]);
    backends = await createBackendSet(
      registry,
      { sql: { type: 'sql' }, ...config.backends },
      config.backend,
      {
        keyring,
        database,
        dataDir,
        clusterPrefix: config.clusterPrefix,
        deploymentId,
        logger,
        clock,
      },
      { backup: config.backup, logger },
    );
    const backendSet = backends;
    closers.push(() => backendSet.close());
    assertKeepFits(config.versions.keep, backendSet.all());

    const auditLog = createAuditLog({ database, clock });
    // Change events: recorded in each change's transaction, tailed by every server.
    const feed: EventFeed = createEventFeed({
      database,
      logger,
      pollIntervalMs: config.events.pollIntervalMs,
    });
    closers.push(() => feed.close());
    const outbox = createEventOutbox(database);
    const events: EventWriter = eventWriterFor(outbox, feed);
    const identity = createIdentityService({
      database,
      audit: auditLog,
      events,
      cacheSeconds: config.identityCacheSeconds,
      clock,
      logger,
      ...(options.passwordHasher === undefined ? {} : { passwordHasher: options.passwordHasher }),
      ...(options.sessions === undefined ? {} : { sessions: options.sessions }),
      ...(options.passwordLogin === undefined ? {} : { passwordLogin: options.passwordLogin }),
    });
    const bootstrap = await identity.bootstrap(
      config.adminPassword === undefined ? {} : { adminPassword: config.adminPassword },
    );
    const resolveActor = identity.resolveActor.bind(identity);
    // Another server changed who someone is: forget what this one remembers of anyone.
    feed.subscribeAll((event) => {
      if (event.type.startsWith('identity.')) identity.dropCaches();
    });
    await feed.start();
    if (database.dialect === 'postgres') {
      const stopListening = await listenForEvents(databaseUrlOf(config), (seq) => feed.wake(seq), logger);
      closers.push(stopListening);
    }
    const secrets = createSecretService({
      database,
      kinds,
      backends: backendSet,
      resolveActor,
      audit: auditLog,
      events,
      clock,
      logger,
      settings: {
        keepVersions: config.versions.keep,
        recoveryWindowSeconds: config.recoveryWindowDays * 86_400,
        writeLeaseMs: config.jobs.writeLeaseSeconds * 1000,
      },
      ...(options.onWriteStep === undefined ? {} : { onWriteStep: options.onWriteStep }),
    });
    const shares = createShareService({ database, resolveActor, audit: auditLog, events, clock });
    const shareLinks = createShareLinkService({
      database,
      resolveActor,
      audit: auditLog,
      reveal: (actor, secretId) => secrets.readValues(actor, secretId, { reveal: true }),
      clock,
      logger,
      ...(options.shareLinkPassphraseCost === undefined
        ? {}
        : { passphraseCost: options.shareLinkPassphraseCost }),
    });
    // A secret's links die with it: revoked as soon as it goes to the trash or is purged (on
    // any server: the feed carries every server's changes); the sweep below and every open
    // catch what a crash left behind.
    const unsubscribeLinks = feed.subscribe((event) => {
      if (event.type !== 'secret.deleted' && event.type !== 'secret.purged') return;
      shareLinks.revokeForSecret(event.secretId).catch((err: unknown) => {
        logger.warn({ err }, 'revoking the share links of a deleted secret failed; the sweep retries');
      });
    });
    closers.push(async () => unsubscribeLinks());
    const reminders = createReminderService({
      database,
      resolveActor,
      audit: auditLog,
      kinds,
      use: (actor, ref, o) => secrets.use(actor, ref, o),
      systemGroupId: () => identity.systemGroupId(),
      mailer: options.mailer,
      clock,
      logger,
      settings: config.reminders,
    });
    const audit = createAuditService({ database, audit: auditLog, identity });
    const leases = createJobLeases({ database, logger });
    const keyringService = createKeyringService({
      keyring,
      backends: backendSet,
      leases,
      leaseMs: config.jobs.leaseSeconds * 1000,
      resolveActor,
      audit: auditLog,
      logger,
    });
    closers.push(() => keyringService.settled());

    const migration = createMigrationService({
      database,
      backends: backendSet,
      activeName: config.backend,
      resolveActor,
      audit: auditLog,
      clock,
      logger,
      settings: {
        keepSource: config.migration.keepSource,
        concurrency: config.migration.concurrency ?? migrationConcurrencyFor(database.dialect),
        leaseMs: config.migration.leaseSeconds * 1000,
      },
      ...(options.onMigrationStep === undefined ? {} : { onStep: options.onMigrationStep }),
    });
    closers.push(() => migration.close());
    const catalog = createBackendCatalog({
      registry,
      backends: backendSet,
      activeName: config.backend,
      backupName: config.backup,
      database,
      resolveActor,
      audit: auditLog,
      installedStores: () => loadInstalledStores(new Set(registry.list().map((d) => d.id))),
    });

    const maintenance = {
      reconcile: (o: { olderThanMs?: number } = {}) =>
        reconcileValueJournal(
          { database, backends: backendSet, clock, logger },
          { olderThanMs: o.olderThanMs ?? config.jobs.writeLeaseSeconds * 1000 },
        ),
      purgeExpired: () => secrets.purgeExpired(),
      sweepShareLinks: () => shareLinks.sweep(),
      pruneEvents: async () => ({
        pruned: await pruneEvents(
          database,
          new Date(clock().getTime() - config.events.retentionHours * 3_600_000).toISOString(),
        ),
      }),
      sendReminders: () => reminders.run(),
    };

    if (options.maintenance !== false) {
      const run = (what: string, job: () => Promise<unknown>) => () => {
        job().catch((err) => logger.warn({ err }, `${what} failed; it runs again later`));
      };
      // On one server at a time (a lease in the database); another takes over when it dies.
      const exclusive = (name: string, job: () => Promise<unknown>) => async () => {
        await leases.runExclusive(name, job, { ttlMs: config.jobs.leaseSeconds * 1000 });
      };
      const reconcile = run(
        'finishing interrupted writes',
        exclusive('maintenance.reconcile', () => maintenance.reconcile()),
      );
      const purge = run(
        'purging expired secrets, sessions and events',
        exclusive('maintenance.purge', async () => {
          await maintenance.purgeExpired();
          await identity.purgeExpiredSessions();
          await maintenance.sweepShareLinks();
          await maintenance.pruneEvents();
          await pruneAttempts(database);
        }),
      );
      // The start-up migration waits for this first pass, so the two never handle the same
      // leftovers of a crashed run at once.
      const firstPass = maintenance.reconcile().catch((err) => {
        logger.warn({ err }, 'finishing interrupted writes failed; it runs again later');
      });
      if (config.migration.onStart) void firstPass.then(() => migration.startOnOpen());
      purge();
      void keyringService.rewrapPending();
      const resumeRewrap = run('re-wrapping data keys', () => keyringService.resumeFailed());
      const timers = [
        setInterval(reconcile, config.jobs.intervalSeconds * 1000),
        setInterval(purge, purgeEveryMs),
        setInterval(resumeRewrap, config.jobs.intervalSeconds * 1000),
      ];
      if (config.reminders.enabled) {
        // Claims make each mail go out once anyway; the lease spares the other servers the scan.
        const remind = run(
          'sending expiry and rotation reminders',
          exclusive('maintenance.reminders', () => maintenance.sendReminders()),
        );
        // Not at once: a server that restarts in a loop should not hammer the mail server.
        timers.push(
          setTimeout(remind, 60_000),
          setInterval(remind, config.reminders.intervalMinutes * 60_000),
        );
      }
      for (const t of timers) t.unref();
      closers.push(async () => {
        for (const t of timers) clearInterval(t);
      });
    } else if (config.migration.onStart) {
      migration.startOnOpen();
    }

    let closed = false;
    return {
      config,
      database,
      kinds,
      secrets,
      shares,
      shareLinks,
      reminders,
      identity,
      audit,
      keyring: keyringService,
      backends: Object.assign(Object.create(null), backendSet, catalog) as BackendSet & BackendCatalog,
      migration: {
        status: migration.status,
        start: migration.start,
        onProgress: migration.onProgress,
        wait: migration.wait,
        dropKeptSources: migration.dropKeptSources,
      },
      events: {
        subscribe: feed.subscribe,
        sync: feed.sync,
        cursor: feed.cursor,
        visible: eventVisibility({ database, resolveActor }).of,
      } satisfies CofferEvents,
      bootstrap,
      maintenance,
      async close() {
        if (closed) return;
        closed = true;
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function loadAllKinds(
  config: CofferConfig,
  options: CreateCofferOptions,
  logger: Logger,
): Promise<KindRegistry & { problems: readonly KindLoadProblem[] }> {
  const fromCode = [...builtinKinds, ...(options.kinds ?? [])];
  let problems: KindLoadProblem[] = [];
  let fromDir: Kind[] = [];
  if (config.kindsDir !== undefined) {
    const loaded = await loadKinds(resolve(config.kindsDir), { existing: fromCode });
    fromDir = loaded.kinds;
    problems = loaded.problems;
    for (const problem of problems) {
      logger.warn({ file: problem.file, path: problem.path }, `kind not loaded: ${problem.message}`);
    }
  }
  const registry = createKindRegistry([...fromCode, ...fromDir]);
  return {
    get: (id) => registry.get(id),
    require: (id) => registry.require(id),
    has: (id) => registry.has(id),
    list: () => registry.list(),
    problems,
  };
}

/**
 * Loads the store packages (`@coffer/backend-aws-secrets-manager`, ...) whose backend types the
 * configuration names; a type whose package is not installed is an `invalid_config` naming the
 * instance and the package to install.
 */
async function loadStorePackages(
  configs: Readonly<Record<string, BackendInstanceConfig>>,
  defined: ReadonlySet<string>,
) {
  const wanted = storePackagesFor(configs, defined);
  if (wanted.length === 0) return [];
  const issues = [];
  const paths = [];
  for (const pkg of wanted) {
    const path = resolveStorePackage(pkg);
    if (path !== null) {
      paths.push(path);
      continue;
    }
    for (const [name, config] of Object.entries(configs)) {
      if ((storePackages as Record<string, string>)[config.type] === pkg) {
        issues.push({
          path: `backends.${name}.type`,
          message: `backend type "${config.type}" comes with the package ${pkg}, which is not installed (npm install ${pkg})`,
        });
      }
    }
  }
  if (issues.length > 0) {
    throw new CofferError(
      'invalid_config',
      `invalid backend configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  return loadBackendModules(paths);
}

/**
 * Definitions of the store packages that are installed but not configured, so admins can see
 * which stores they could configure (`coffer backend types`). Loaded on first ask, not at start:
 * vendor SDKs are heavy, and an unconfigured one should cost a running server nothing.
 */
async function loadInstalledStores(defined: ReadonlySet<string>) {
  const paths = Object.entries(storePackages)
    .filter(([type]) => !defined.has(type))
    .map(([, pkg]) => resolveStorePackage(pkg))
    .filter((path): path is string => path !== null);
  const loaded = [];
  for (const path of paths) {
    // one broken or half-installed package must not hide the others
    loaded.push(...(await loadBackendModules([path]).catch(() => [])));
  }
  return loaded;
}
