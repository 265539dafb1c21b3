import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Secrets counted by the backend holding their values and whether they are live or deleted. */
export interface SecretCount {
  backend: string;
  state: 'live' | 'deleted';
  count: number;
}

/** What the metrics read from the engine at scrape time. */
export interface MetricSources {
  secretCounts(): Promise<SecretCount[]>;
  /** The backend new values go to; secrets elsewhere are still to be migrated. */
  activeBackend: string;
  /** Calls back with migration progress made in this process; returns an unsubscribe function. */
  onMigrationProgress(listener: (status: MigrationProgress) => void): () => void;
  /**
   * Live secrets due by reason (`expired`, `expiring`, `rotation`) within the reminder window
   * (docs/reminders.md); absent when the engine has no reminders.
   */
  dueCounts?(): Promise<Record<string, number>>;
  /** SQLite's checkpoints in a worker thread; absent on other databases and with `inline` checkpoints. */
  sqliteCheckpoints?(): SqliteCheckpointFigures;
}

/** What the metrics show of SQLite's checkpoint worker. */
export interface SqliteCheckpointFigures {
  checkpoints: number;
  restarts: number;
  /** Pages in the write-ahead log at the last checkpoint. */
  logPages: number;
  failed: boolean;
}

/** The part of a migration's status the metrics show. */
export interface MigrationProgress {
  state: string;
  total: number;
  done: number;
  failed: number;
}

/**
 * Prometheus metrics of one server: request counts and latencies by route template, secrets
 * by state and backend, migration progress (secrets not yet on the active backend), and the
 * process's own (RSS, CPU, event loop lag). Each server has its own registry, so several in
 * one process do not collide.
 *
 * @example
 * const metrics = createHttpMetrics(sources);
 * reply.type(metrics.contentType).send(await metrics.render());
 */
export function createHttpMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'coffer_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'coffer_http_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'coffer_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status code',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // One query per scrape feeds both gauges below.
  let counting: Promise<SecretCount[]> | undefined;
  // A database that is down must not take the process and HTTP metrics with it: the secret
  // gauges are then empty and coffer_database_up says why.
  let databaseUp = 1;
  const counts = () => {
    counting ??= sources
      .secretCounts()
      .then(
        (result) => {
          databaseUp = 1;
          return result;
        },
        () => {
          databaseUp = 0;
          return [];
        },
      )
      .finally(() => {
        setImmediate(() => {
          counting = undefined;
        });
      });
    return counting;
  };
  new Gauge({
    name: 'coffer_database_up',
    help: '1 when the metadata database answered the last scrape, 0 when it did not',
    registers: [registry],
    async collect() {
      await counts();
      this.set(databaseUp);
    },
  });
  new Gauge({
    name: 'coffer_secrets',
    help: 'Secrets by state (live; deleted: in the recovery window) and the backend holding their values',
    labelNames: ['state', 'backend'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { state, backend, count } of await counts()) this.inc({ state, backend }, count);
    },
  });
  new Gauge({
    name: 'coffer_migration_pending_secrets',
    help: 'Secrets whose values are not yet on the active backend (0 when no migration is due)',
    registers: [registry],
    async collect() {
      const pending = (await counts())
        .filter((c) => c.backend !== sources.activeBackend)
        .reduce((sum, c) => sum + c.count, 0);
      this.set(pending);
    },
  });

  const dueCounts = sources.dueCounts;
  if (dueCounts !== undefined) {
    new Gauge({
      name: 'coffer_secrets_due',
      help: 'Live secrets that expired (expired), expire within the reminder window (expiring) or are due for rotation within it or overdue (rotation)',
      labelNames: ['reason'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        // A database that is down shows in coffer_database_up; this gauge is then empty.
        const counts = await dueCounts().catch(() => undefined);
        for (const [reason, count] of Object.entries(counts ?? {})) this.set({ reason }, count);
      },
    });
  }

  const checkpointFigures = sources.sqliteCheckpoints;
  if (checkpointFigures !== undefined) {
    const figure = (name: string, help: string, pick: (f: SqliteCheckpointFigures) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(pick(checkpointFigures()));
        },
      });
    // Counted by the checkpointer since the process started: counters, read at scrape time.
    const count = (name: string, help: string, pick: (f: SqliteCheckpointFigures) => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(pick(checkpointFigures()));
        },
      });
    count(
      'coffer_sqlite_checkpoints_total',
      "Checkpoints of SQLite's write-ahead log run by the checkpoint worker thread",
      (f) => f.checkpoints,
    );
    count(
      'coffer_sqlite_log_restarts_total',
      "Checkpoints the server's own connection finished after the worker's, so that the log started over",
      (f) => f.restarts,
    );
    figure(
      'coffer_sqlite_log_pages',
      "Pages in SQLite's write-ahead log at the last checkpoint",
      (f) => f.logPages,
    );
    figure(
      'coffer_sqlite_checkpoint_worker_failed',
      '1 when the checkpoint worker could not run (the commits then checkpoint every 4,000 pages themselves)',
      (f) => (f.failed ? 1 : 0),
    );
  }

  let migration: MigrationProgress | undefined;
  const unsubscribe = sources.onMigrationProgress((status) => {
    migration = status;
  });
  const progressGauge = (name: string, help: string, pick: (m: MigrationProgress) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(migration === undefined ? 0 : pick(migration));
      },
    });
  progressGauge('coffer_migration_running', '1 while this process runs a backend migration', (m) =>
    m.state === 'running' ? 1 : 0,
  );
  progressGauge(
    'coffer_migration_total',
    'Secrets the current or last migration in this process moves',
    (m) => m.total,
  );
  progressGauge('coffer_migration_done', 'Secrets that migration has moved', (m) => m.done);
  progressGauge('coffer_migration_failed', 'Secrets that migration could not move', (m) => m.failed);

  return {
    contentType: registry.contentType,
    close: unsubscribe,
    /** Records one finished request. `route` is the template (`/api/v1/secrets/:ref`), never the URL. */
    observe(method: string, route: string, status: number, seconds: number): void {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      durations.observe(labels, seconds);
    },
    render: () => registry.metrics(),
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;
