/** Where a migration stands; what `coffer.migration.status()` returns and progress listeners get. */
export interface MigrationStatus {
  /**
   * `idle`: no migration ever ran; `running`: one is moving secrets (here or on another
   * server sharing the database); `done`: the last run moved every secret; `failed`: the last
   * run ended with failures (listed below) or stopped before finishing (a start resumes it).
   */
  state: 'idle' | 'running' | 'failed' | 'done';
  /** The backend instance values move to. */
  target: string | null;
  keepSource: boolean;
  /** Secrets the run set out to move. */
  total: number;
  /** Secrets switched to the target so far. */
  done: number;
  /** Secrets whose move failed in this run. */
  failed: number;
  /** Secrets per second over this run, while it runs. */
  ratePerSecond: number | null;
  /** Estimated seconds left, while it runs. */
  etaSeconds: number | null;
  /** The server moving the secrets while it runs (`host:pid:id`), whichever server answers. */
  runningOn: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Per failed secret: id, name and why (an error code and message, never a value). */
  failures: { secretId: string; name: string; reason: string }[];
}

export interface StartMigrationOptions {
  /** The backend instance to move values to; defaults to the configured active backend. */
  target?: string;
  /** Keep the source copies (reversible without copying back); default from `migration.keepSource`. */
  keepSource?: boolean;
  /** Only retry the secrets whose move failed before. */
  retryFailed?: boolean;
}

/**
 * Points in moving one secret where a crash leaves distinct states; crash tests kill the
 * process at each.
 * - `journaled`: copy intents on the target are journaled, nothing copied;
 * - `copied`: every kept version is in the target and read back equal; the secret still
 *   points at the source;
 * - `switched`: the secret points at the target; source deletions are journaled;
 * - `cleaned`: the source copies are deleted (or kept, with `keepSource`).
 */
export type MigrationStep = 'journaled' | 'copied' | 'switched' | 'cleaned';

export type MigrationProgressListener = (status: MigrationStatus) => void;
