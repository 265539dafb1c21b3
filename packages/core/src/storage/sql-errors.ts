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
