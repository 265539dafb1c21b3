/**
 * Driver errors differ per dialect; these helpers recognise the few that Coffer reacts to.
 */
interface DriverError {
  code?: unknown;
  errno?: unknown;
}

/** A unique or primary-key constraint was violated. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as DriverError | null;
  if (e === null || typeof e !== 'object') return false;
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === '23505' ||
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062
  );
}

/** A transaction lost a race (deadlock, serialization failure, busy) and may be retried. */
export function isRetryableTransactionError(err: unknown): boolean {
  const e = err as DriverError | null;
  if (e === null || typeof e !== 'object') return false;
  return (
    (typeof e.code === 'string' && e.code.startsWith('SQLITE_BUSY')) ||
    e.code === 'SQLITE_LOCKED' ||
    e.code === '40001' ||
    e.code === '40P01' ||
    e.code === 'ER_LOCK_DEADLOCK' ||
    e.code === 'ER_LOCK_WAIT_TIMEOUT' ||
    e.errno === 1213 ||
    e.errno === 1205
  );
}

/**
 * The database refused a text it cannot store or compare, such as NUL in PostgreSQL (which
 * Coffer's validation keeps out of metadata, but an id or a filter can still carry one).
 */
export function isUnstorableText(err: unknown): boolean {
  const e = err as DriverError | null;
  if (e === null || typeof e !== 'object') return false;
  return e.code === '22021' || e.code === '22P05';
}

/** Connection-level codes: the server is gone, restarting, refusing, or cut the connection. */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now,
  // too_many_connections, and the connection_exception class.
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // MySQL / MariaDB client and server
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'SQLITE_CANTOPEN',
]);

/**
 * The database could not be reached or dropped the connection (a restart, a failover,
 * `pg_terminate_backend`): a passing condition the request may be retried after, not a bug.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  const e = err as (DriverError & { message?: unknown; cause?: unknown }) | null;
  if (e === null || typeof e !== 'object' || depth > 4) return false;
  if (typeof e.code === 'string' && unavailableCodes.has(e.code)) return true;
  if (e.errno === 2013 || e.errno === 2006) return true; // lost connection / server has gone away
  const message = typeof e.message === 'string' ? e.message : '';
  // node-postgres says so in words when the socket closes under a query
  if (
    /^Connection terminated|^Client has encountered a connection error|connection is closed|Cannot enqueue .* after fatal error|closed state|Connection lost/i.test(
      message,
    )
  ) {
    return true;
  }
  return e.cause !== undefined && isDatabaseUnavailable(e.cause, depth + 1);
}

/** An error's `code` (a driver's `ECONNRESET`, `57P01`), never its message, for a log line. */
export function errorCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
