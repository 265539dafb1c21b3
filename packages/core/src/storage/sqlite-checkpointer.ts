import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * What one checkpoint did: SQLite's `wal_checkpoint` answer (frames in the log, frames copied
 * into the database) and how long it took in the checkpoint's thread.
 */
export interface CheckpointResult {
  readonly log: number;
  readonly checkpointed: number;
  readonly ms: number;
}

/** The writing connection, as far as the checkpointer uses it (a better-sqlite3 Database). */
export interface CheckpointedConnection {
  readonly open: boolean;
  readonly inTransaction: boolean;
  pragma(source: string): unknown;
}

/** What a checkpointer did so far (`SqliteCheckpointer.stats`). */
export interface CheckpointerStats {
  /** Checkpoints the worker ran. */
  readonly checkpoints: number;
  /** The worker's last answer. */
  readonly last?: CheckpointResult;
  /** Checkpoints the writing connection finished so that the log started over. */
  readonly restarts: number;
  /** Times the worker started (it ends when writes stop). */
  readonly starts: number;
  readonly running: boolean;
  /** Why the worker stopped working; the writing connection then checkpoints itself. */
  readonly failed?: Error;
}

export interface SqliteCheckpointerOptions {
  /** The database file (not `:memory:`). */
  readonly file: string;
  /** The `synchronous` setting of the connection that writes: the checkpoint flushes as it does. */
  readonly sync: 'normal' | 'full';
  /** At most this long after a write its pages are checkpointed (plus the checkpoint's own time). */
  readonly delayMs?: number;
  /**
   * Once the log holds this many frames, the writing connection finishes a checkpoint itself
   * right after the worker's, so that the log starts over (default 4,000).
   */
  readonly restartFrames?: number;
  /** A worker's checkpoint longer than this is followed at once by another, shorter one (twice at most). */
  readonly catchUpMs?: number;
  /** The worker ends after this long without a write, and starts again with the next one. */
  readonly idleMs?: number;
  /** Called when the worker cannot run; the writing connection then checkpoints itself again. */
  readonly onFailure?: (error: Error) => void;
}

/**
 * The worker's code, run as a CommonJS script (`eval`): no file of its own, so it runs the same
 * from `dist` and from the TypeScript sources the tests load. It opens its own connection to the
 * database and copies the write-ahead log into it when asked.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = ' + workerData.sync);
db.pragma('wal_autocheckpoint = 0');
db.pragma('cache_size = -64');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  const started = performance.now();
  try {
    const [result] = checkpoint.all();
    parentPort.postMessage({ log: result.log, checkpointed: result.checkpointed, ms: performance.now() - started });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

/**
 * Checkpoints an SQLite database's write-ahead log in a worker thread, so that no commit on the
 * main thread stops to copy the log into the database and wait for the disk (docs/performance.md,
 * "Checkpoints in a worker thread"). The writing connection calls `noteWrite` after each write;
 * at most `delayMs` later the worker runs a passive checkpoint, which never blocks a writer or a
 * reader: it flushes the log, copies what it can and flushes the database file. The log starts
 * over at the next write after a checkpoint that copied everything; under a steady stream of
 * writes a checkpoint that left frames behind is followed by another soon, to find such a gap.
 *
 * The worker starts with the first write and ends after `idleMs` without one, so an idle server
 * holds no thread. The writing connection keeps an automatic checkpoint of its own at a larger
 * size, which bounds the log should the worker fall behind.
 *
 * @example
 * const checkpointer = new SqliteCheckpointer({ file: '/data/coffer.db', sync: 'normal' });
 * // after every write statement on the main connection:
 * checkpointer.noteWrite();
 * // before the main connection closes:
 * await checkpointer.close();
 */
export class SqliteCheckpointer {
  readonly #options: SqliteCheckpointerOptions;
  readonly #delayMs: number;
  readonly #restartFrames: number;
  readonly #catchUpMs: number;
  #connection: CheckpointedConnection | undefined;
  /** The writing connection is to finish a checkpoint once its transaction ends. */
  #restartPending = false;
  #restarts = 0;
  /** Checkpoints asked for at once after a long one, since the last restart. */
  #catchUps = 0;
  readonly #idleMs: number;
  #worker: { thread: Worker; exited: Promise<void> } | undefined;
  /** A write came after the last checkpoint was asked for. */
  #dirty = false;
  /** A checkpoint is asked for and not answered, or a timer will ask for one. */
  #busy = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #failed: Error | undefined;
  #checkpoints = 0;
  #last: CheckpointResult | undefined;
  #starts = 0;

  constructor(options: SqliteCheckpointerOptions) {
    this.#options = options;
    this.#delayMs = options.delayMs ?? 200;
    this.#restartFrames = options.restartFrames ?? 4000;
    this.#catchUpMs = options.catchUpMs ?? 5;
    this.#idleMs = options.idleMs ?? 2000;
  }

  /**
   * How many checkpoints the worker ran, its last answer, how many times the writing connection
   * finished one to restart the log, how many times the worker started, and why it stopped working.
   */
  get stats(): CheckpointerStats {
    return {
      checkpoints: this.#checkpoints,
      restarts: this.#restarts,
      ...(this.#last === undefined ? {} : { last: this.#last }),
      starts: this.#starts,
      running: this.#worker !== undefined,
      ...(this.#failed === undefined ? {} : { failed: this.#failed }),
    };
  }

  /** The writing connection, once it is open: it finishes the checkpoints that restart the log. */
  attach(connection: CheckpointedConnection): void {
    this.#connection = connection;
  }

  /** Called after each write on the main connection: cheap when a checkpoint is already coming. */
  noteWrite(): void {
    this.#dirty = true;
    if (this.#restartPending) this.#restart();
    if (this.#busy || this.#closed || this.#failed !== undefined) return;
    this.#schedule(this.#delayMs);
  }

  /**
   * Ends the worker after a last checkpoint of what it was asked for; the caller closes its own
   * connection after this, so that it is the last one and SQLite removes the log.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    await this.#stopWorker();
  }

  #schedule(ms: number): void {
    this.#busy = true;
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    setTimeout(() => this.#ask(), ms).unref();
  }

  #ask(): void {
    if (this.#closed || this.#failed !== undefined) {
      this.#busy = false;
      return;
    }
    this.#dirty = false;
    const worker = this.#worker ?? this.#startWorker();
    worker.thread.postMessage('checkpoint');
  }

  #startWorker(): { thread: Worker; exited: Promise<void> } {
    this.#starts++;
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: this.#options.file,
        sync: this.#options.sync === 'full' ? 'FULL' : 'NORMAL',
      },
      // Not the parent's flags (a CPU profile of the server would start one for the worker too).
      execArgv: [],
      // It holds one statement and a small page cache.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on('message', (message: CheckpointResult | { error: string }) => {
      if ('error' in message) this.#fail(new Error(`checkpoint failed: ${message.error}`));
      else this.#answered(message);
    });
    worker.on('error', (error) => this.#fail(error));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const started = { thread: worker, exited };
    void exited.then(() => {
      // Stopped on purpose, it is no longer the current worker.
      if (this.#worker === started) this.#fail(new Error('the checkpoint worker exited'));
    });
    this.#worker = started;
    return started;
  }

  #answered(result: CheckpointResult): void {
    this.#checkpoints++;
    this.#last = result;
    if (this.#closed) return;
    if (result.log >= this.#restartFrames) {
      // The log starts over at the first write after a checkpoint that left nothing behind, and
      // under a steady stream of writes the worker never finds that moment: frames come in while
      // it copies. So the writing connection copies the few frames that came in during the
      // worker's checkpoint, between two of its own transactions. After a long checkpoint the
      // worker first catches up once more, to leave it less.
      // At most twice in a row: on a disk whose flush alone takes longer, it would never end.
      if (this.#dirty && result.ms > this.#catchUpMs && this.#catchUps < 2) {
        this.#catchUps++;
        this.#schedule(0);
        return;
      }
      this.#catchUps = 0;
      this.#restartPending = true;
      this.#restart();
    }
    if (this.#dirty) {
      this.#schedule(this.#delayMs);
      return;
    }
    this.#busy = false;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (!this.#busy) void this.#stopWorker();
    }, this.#idleMs).unref();
  }

  /** Finishes a checkpoint on the writing connection, unless a transaction of its is open. */
  #restart(): void {
    const connection = this.#connection;
    if (connection === undefined || !connection.open) {
      this.#restartPending = false;
      return;
    }
    if (connection.inTransaction) return;
    this.#restartPending = false;
    this.#restarts++;
    try {
      connection.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // The log keeps growing until the connection's own automatic checkpoint: nothing is lost.
    }
  }

  #fail(error: Error): void {
    if (this.#failed !== undefined) return;
    this.#failed = error;
    this.#busy = false;
    void this.#stopWorker();
    this.#options.onFailure?.(error);
  }

  async #stopWorker(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    // The next write starts a new worker rather than ask this one.
    this.#worker = undefined;
    // A checkpoint asked for before 'close' is answered first: messages are handled in order.
    worker.thread.postMessage('close');
    const deadline = setTimeout(() => void worker.thread.terminate(), 5000);
    await worker.exited;
    clearTimeout(deadline);
  }
}
