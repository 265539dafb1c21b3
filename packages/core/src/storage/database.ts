import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Dialect, Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import { RecencyMap } from '../shared/recency-map.js';
import { type DialectFeatures, type DialectName, dialectFeatures } from './dialect.js';
import { keepStatementsPrepared } from './pg-statements.js';
import type { CofferTables } from './schema.js';
import { type CheckpointerStats, SqliteCheckpointer } from './sqlite-checkpointer.js';

/** Coffer's database handle: the Kysely instance plus what it needs to know about the dialect. */
export interface CofferDatabase {
  readonly db: Kysely<CofferTables>;
  readonly dialect: DialectName;
  readonly features: DialectFeatures;
  /** The URL with any password removed, safe to log and show. */
  readonly displayUrl: string;
  /**
   * Gives back memory the database connection holds but does not need now: SQLite's page
   * cache (`PRAGMA shrink_memory`; it fills again as pages are read). Nothing on PostgreSQL
   * and MySQL, whose pools close idle connections themselves.
   */
  releaseMemory(): void;
  /**
   * What SQLite's checkpoint worker did so far (`database.sqliteCheckpoints: background`);
   * absent on PostgreSQL and MySQL, and with `inline` checkpoints.
   */
  readonly checkpointStats?: () => CheckpointerStats;
  close(): Promise<void>;
}

/** How an SQLite commit reaches the disk (docs/identity-and-audit.md, "Durability"). */
export type SqliteSync = 'normal' | 'full';

/** Where SQLite's checkpoints run: in a worker thread, or in the commit that fills the log. */
export type SqliteCheckpoints = 'background' | 'inline';

export interface OpenDatabaseOptions {
  /**
   * `normal` (default): a commit is in the write-ahead log when it returns, and the log is
   * flushed to disk at checkpoints, so a process crash loses nothing, a power loss the changes
   * since the last checkpoint. `full`: every commit is flushed to disk before it returns.
   */
  sqliteSync?: SqliteSync;
  /**
   * SQLite only: `background` (default) checkpoints the write-ahead log in a worker thread at
   * most ~0.2 s after a write, so no commit waits for one; `inline` leaves them to the commit
   * that brings the log to 4,000 pages, as SQLite does (docs/performance.md, "Checkpoints in a
   * worker thread").
   */
  sqliteCheckpoints?: SqliteCheckpoints;
  /**
   * SQLite only: told once when the checkpoint worker cannot run; the commits then checkpoint
   * every 4,000 pages themselves, so nothing is lost, but an operator should hear of it.
   */
  onSqliteCheckpointFailure?: (error: Error) => void;
  /**
   * SQLite only: the most memory the page cache may hold, in MiB (default 16, better-sqlite3's
   * own default). A cache smaller than the pages a workload touches costs a read from the
   * operating system's cache per missed page (docs/performance.md, "Idle RSS").
   */
  sqliteCacheMiB?: number;
  /**
   * PostgreSQL only: keep the hot statements prepared on each connection (default true). Off
   * behind a pooler that cannot carry named statements between transactions.
   */
  postgresPreparedStatements?: boolean;
}

/** SQLite's page cache when none is configured, in MiB (better-sqlite3's compiled default). */
export const defaultSqliteCacheMiB = 16;

/**
 * Pages the SQLite write-ahead log may hold before a commit copies them into the database
 * (SQLite's default is 1,000). A checkpoint flushes the database file to disk and stalls the
 * commit that runs it, and pages that change again and again (the audit log's newest page, its
 * head) are copied once per checkpoint, so fewer, larger checkpoints cost less per write:
 * 4,000 pages (16 MiB of 4 KiB pages) halved the commit time of concurrent reveals here.
 */
export const sqliteCheckpointPages = 4000;

/**
 * With checkpoints in a worker thread, the writing connection still checkpoints by itself once
 * the log holds this many pages (64 MiB): the bound should the worker fall behind, or never find
 * the moment without a write that the log needs to start over.
 */
export const sqliteBackgroundCheckpointLimitPages = 4 * sqliteCheckpointPages;

/**
 * Opens a database by URL:
 * - `sqlite:/abs/path/coffer.db`, `sqlite:relative.db` or `sqlite::memory:` (better-sqlite3, WAL)
 * - `postgres://user@host:5432/db` (or `postgresql://`) through `pg`
 * - `mysql://user@host:3306/db` (or `mariadb://`) through `mysql2`
 *
 * The PostgreSQL and MySQL drivers are optional dependencies, loaded only when asked for.
 *
 * @example
 * const database = await openDatabase('sqlite:./data/coffer.db');
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<CofferDatabase> {
  const dialect = dialectOf(url);
  const {
    dialect: kyselyDialect,
    releaseMemory,
    beforeClose,
    checkpointStats,
  } = await createDialect(dialect, url, options);
  const db = new Kysely<CofferTables>({ dialect: kyselyDialect });
  return {
    db,
    dialect,
    features: dialectFeatures[dialect],
    displayUrl: redactUrl(url),
    releaseMemory,
    ...(checkpointStats === undefined ? {} : { checkpointStats }),
    close: async () => {
      await beforeClose?.();
      await db.destroy();
    },
  };
}

/** The dialect a database URL names. */
export function dialectOf(url: string): DialectName {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'sqlite' || scheme === 'file') return 'sqlite';
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  throw new CofferError('invalid_config', 'database URL must start with sqlite:, postgres:// or mysql://', {
    details: {
      issues: [{ path: 'database.url', message: 'use sqlite:PATH, postgres://... or mysql://...' }],
    },
  });
}

/** The URL without its password. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

interface OpenedDialect {
  dialect: Dialect;
  releaseMemory(): void;
  /** What must end before the connection closes (SQLite's checkpoint worker). */
  beforeClose?: () => Promise<void>;
  checkpointStats?: () => CheckpointerStats;
}

const nothingToRelease = () => {};

async function createDialect(
  dialect: DialectName,
  url: string,
  options: OpenDatabaseOptions,
): Promise<OpenedDialect> {
  switch (dialect) {
    case 'sqlite':
      return createSqliteDialect(url, options);
    case 'postgres':
      return {
        dialect: await createPostgresDialect(url, options.postgresPreparedStatements ?? true),
        releaseMemory: nothingToRelease,
      };
    case 'mysql':
      return { dialect: await createMysqlDialect(url), releaseMemory: nothingToRelease };
  }
}

async function createSqliteDialect(url: string, options: OpenDatabaseOptions): Promise<OpenedDialect> {
  const sync = options.sqliteSync ?? 'normal';
  const cacheMiB = options.sqliteCacheMiB ?? defaultSqliteCacheMiB;
  const { default: Database } = await import('better-sqlite3');
  const path = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  const file = path === ':memory:' ? path : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Kysely opens the connection on the first query; until then there is nothing to release.
  let opened: import('better-sqlite3').Database | undefined;
  // An in-memory database has no log to checkpoint.
  const checkpointer =
    (options.sqliteCheckpoints ?? 'background') === 'background' && file !== ':memory:'
      ? new SqliteCheckpointer({
          file,
          sync,
          // The worker could not run here: the commits checkpoint as SQLite does by itself.
          onFailure: (error) => {
            if (opened?.open === true) opened.pragma(`wal_autocheckpoint = ${sqliteCheckpointPages}`);
            options.onSqliteCheckpointFailure?.(error);
          },
        })
      : undefined;
  const dialect = new SqliteDialect({
    database: async () => {
      const database = new Database(file);
      opened = database;
      database.pragma('journal_mode = WAL');
      checkpointer?.attach(database);
      database.pragma(sync === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
      database.pragma(
        `wal_autocheckpoint = ${checkpointer === undefined ? sqliteCheckpointPages : sqliteBackgroundCheckpointLimitPages}`,
      );
      // After a checkpoint the log is cut back to this size (it only grows past the interval
      // while a long read keeps a checkpoint from finishing).
      database.pragma(`journal_size_limit = ${2 * sqliteCheckpointPages * 4096}`);
      database.pragma('foreign_keys = ON');
      database.pragma('busy_timeout = 5000');
      // Savepoint journals in memory. A group commit in which a write failed runs each write in
      // a savepoint (write-groups.ts), and SQLite keeps the page images it would need to roll one
      // back in a journal that spills to a temporary file past 64 KiB: a new secret touches ~25
      // pages, so every create wrote ~100 KiB to a temporary file, and half of SQLite's time in a
      // create was the kernel's (docs/performance.md, "Savepoint journals in memory"). Every list
      // query is keyset-paged with a limit and an index, so no sort or temporary table here
      // grows with the data; they too now stay in memory.
      database.pragma('temp_store = MEMORY');
      // Negative: a size in KiB rather than in pages.
      database.pragma(`cache_size = ${-Math.round(cacheMiB * 1024)}`);
      return withStatementCache(database, checkpointer);
    },
  });
  return {
    dialect,
    releaseMemory: () => {
      if (opened?.open === true) opened.pragma('shrink_memory');
    },
    ...(checkpointer === undefined
      ? {}
      : { beforeClose: () => checkpointer.close(), checkpointStats: () => checkpointer.stats }),
  };
}

/** The part of better-sqlite3's Database that Kysely's SQLite dialect uses. */
type KyselySqliteDatabase = Pick<import('better-sqlite3').Database, 'close' | 'prepare'>;

/**
 * Kysely prepares every query anew; preparing costs more than running most of Coffer's
 * queries. Statements are reused per SQL text (least recently used dropped past `size`).
 * Safe because Kysely's SQLite driver runs one query at a time on its single connection,
 * and SQLite re-prepares a cached statement by itself after a schema change.
 */
function withStatementCache(
  database: import('better-sqlite3').Database,
  checkpointer: SqliteCheckpointer | undefined,
  size = 512,
): KyselySqliteDatabase {
  const cache = new RecencyMap<string, ReturnType<typeof database.prepare>>();
  return {
    close: () => {
      // Normally ended already (CofferDatabase.close); if not, it ends on its own after this.
      void checkpointer?.close();
      database.close();
    },
    prepare(source: string) {
      let statement = cache.get(source);
      if (statement !== undefined) {
        cache.touch(source);
        return statement;
      }
      statement = database.prepare(source);
      if (statement.reader && !source.includes('*')) statement = rowsAsArrays(statement);
      else if (!statement.reader && checkpointer !== undefined)
        statement = noteWrites(statement, checkpointer);
      cache.set(source, statement);
      if (cache.size > size) cache.delete(cache.oldest()!);
      return statement;
    },
  } as KyselySqliteDatabase;
}

type SqliteStatement = ReturnType<import('better-sqlite3').Database['prepare']>;

/**
 * A reading statement that returns its rows as arrays, made into objects here. better-sqlite3
 * builds each row object in native code one property at a time; in JavaScript objects of one
 * shape are made faster: a list page of 101 secrets 335 -> 240 µs, one row 6.5 -> 5.4 µs
 * (docs/performance.md, "Rows as arrays"). The column names are read once, when the statement
 * is prepared, so this is only for statements that name their columns (no `*`): SQLite
 * prepares a cached `select *` again after a schema change, possibly with other columns, while
 * a named column can only vanish, and then the statement fails.
 */
function rowsAsArrays(statement: SqliteStatement): SqliteStatement {
  const names = statement.columns().map((c) => c.name);
  statement.raw(true);
  const toObject = (values: unknown[]) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row;
  };
  return {
    reader: true,
    // Kysely's driver passes the parameters as one array, which better-sqlite3 binds in order.
    all(parameters: readonly unknown[]) {
      const rows = statement.all(parameters) as unknown[];
      for (let i = 0; i < rows.length; i++) rows[i] = toObject(rows[i] as unknown[]);
      return rows;
    },
    *iterate(parameters: readonly unknown[]) {
      for (const values of statement.iterate(parameters)) yield toObject(values as unknown[]);
    },
  } as unknown as SqliteStatement;
}

/**
 * A writing statement that tells the checkpointer it ran (a commit, or a write outside a
 * transaction). Writes that return rows run as readers and are not seen here; a transaction
 * holding one still ends in a commit, and the connection's own checkpoint bounds the rest.
 */
function noteWrites(statement: SqliteStatement, checkpointer: SqliteCheckpointer): SqliteStatement {
  return {
    reader: false,
    run(parameters: readonly unknown[]) {
      const result = statement.run(parameters);
      checkpointer.noteWrite();
      return result;
    },
  } as unknown as SqliteStatement;
}

async function createPostgresDialect(url: string, preparedStatements: boolean): Promise<Dialect> {
  const pg = await importOptional<typeof import('pg')>('pg');
  const pool = new pg.default.Pool({ connectionString: url, max: 10 });
  // A database that goes away must not crash the process through an unhandled 'error' event:
  // the pool listens on idle clients only, so every client gets a listener of its own too (a
  // query on a dropped connection still rejects, and the pool replaces the client).
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    if (preparedStatements) keepStatementsPrepared(client);
  });
  return new PostgresDialect({ pool });
}

async function createMysqlDialect(url: string): Promise<Dialect> {
  const mysql = await importOptional<typeof import('mysql2')>('mysql2');
  const normalized = url.replace(/^mariadb:/i, 'mysql:');
  const pool = mysql.createPool({ uri: normalized, connectionLimit: 10, charset: 'utf8mb4_bin' });
  return new MysqlDialect({ pool });
}

async function importOptional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    throw new CofferError(
      'invalid_config',
      `the database driver "${name}" is not installed: npm install ${name}`,
      {
        cause,
      },
    );
  }
}
