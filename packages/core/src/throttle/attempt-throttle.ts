import { sql } from 'kysely';
import type { CofferDatabase } from '../storage/database.js';
import type { LoginThrottleRow } from '../storage/schema.js';
import { inTransaction, type Tx } from '../storage/transaction.js';

/** How failed attempts (logins, share-link guesses) slow further attempts down. */
export interface AttemptThrottleSettings {
  /** Failed attempts for one subject (a username, a link) before it is locked out for a while. */
  maxFailures: number;
  /** Failed attempts from one address before it is locked out (higher: NAT puts many people behind one). */
  maxFailuresPerAddress: number;
  /** The first lockout; each further failure doubles it. */
  lockoutSeconds: number;
  /** The longest lockout. */
  maxLockoutSeconds: number;
  /** Failures older than this are forgotten. */
  windowSeconds: number;
}

export const defaultAttemptThrottle: AttemptThrottleSettings = Object.freeze({
  maxFailures: 5,
  maxFailuresPerAddress: 20,
  lockoutSeconds: 30,
  maxLockoutSeconds: 900,
  windowSeconds: 900,
});

/** An attempt begun by a process that died is no longer counted as in flight after this. */
const staleAttemptMs = 60_000;

/** One key's state (a subject or an address). */
export interface AttemptState {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
  inFlight: number;
  inFlightSinceMs: number;
}

const fresh: AttemptState = {
  failures: 0,
  lastFailureMs: 0,
  lockedUntilMs: 0,
  inFlight: 0,
  inFlightSinceMs: 0,
};

/** The state as it stands at `now`: old failures forgotten, attempts of a dead process dropped. */
export function liveState(state: AttemptState, now: number, settings: AttemptThrottleSettings): AttemptState {
  const forget = now - state.lastFailureMs > settings.windowSeconds * 1000 && now >= state.lockedUntilMs;
  const stale = now - state.inFlightSinceMs > staleAttemptMs;
  return {
    failures: forget ? 0 : state.failures,
    lastFailureMs: state.lastFailureMs,
    lockedUntilMs: state.lockedUntilMs,
    inFlight: stale ? 0 : state.inFlight,
    inFlightSinceMs: state.inFlightSinceMs,
  };
}

/**
 * Whether one more attempt may start: attempts in flight count against the failures still
 * allowed, so parallel guesses cannot outrun the lockout; after a lockout ran out, one at a time.
 */
export function mayBegin(state: AttemptState, now: number, max: number): boolean {
  return now >= state.lockedUntilMs && state.inFlight < Math.max(1, max - state.failures);
}

/** A failure: counted, and past `max` a lockout that doubles with each further failure. */
export function afterFailure(
  state: AttemptState,
  now: number,
  max: number,
  settings: AttemptThrottleSettings,
): AttemptState {
  const failures = state.failures + 1;
  const lockedUntilMs =
    failures >= max
      ? now +
        Math.min(settings.maxLockoutSeconds, settings.lockoutSeconds * 2 ** Math.min(failures - max, 20)) *
          1000
      : state.lockedUntilMs;
  return { ...state, failures, lastFailureMs: now, lockedUntilMs };
}

/**
 * Limits failed attempts per subject and per client address with a growing lockout, in the
 * database, so every server sharing it counts the same attempts: guesses spread over replicas
 * meet one limit. Unknown subjects are treated exactly like real ones.
 *
 * @example
 * const throttle = createAttemptThrottle(database, { scope: 'login' });
 * const wait = await throttle.begin(username, ip); // seconds to wait, or 0: go ahead
 * ...; await throttle.end(username, ip, ok ? 'success' : 'failure');
 */
export interface AttemptThrottle {
  /**
   * Checks and reserves one attempt: the seconds to wait (nothing reserved), or 0, and then the
   * attempt must be ended with {@link end}.
   */
  begin(subject: string, address: string): Promise<number>;
  /** Ends a reserved attempt: a failure counts against both keys, a success clears the subject. */
  end(subject: string, address: string, outcome: 'success' | 'failure' | 'error'): Promise<void>;
}

export interface AttemptThrottleOptions {
  /** Keeps the counts of different kinds of attempts apart (`login`, `share-link`). */
  scope: string;
  settings?: Partial<AttemptThrottleSettings>;
  /** Milliseconds since the epoch; the system clock by default (servers must agree on it). */
  now?: () => number;
}

export function createAttemptThrottle(
  database: CofferDatabase,
  options: AttemptThrottleOptions,
): AttemptThrottle {
  const settings = { ...defaultAttemptThrottle, ...options.settings };
  const now = options.now ?? Date.now;
  const keysOf = (subject: string, address: string) =>
    [
      { key: keyOf(options.scope, 's', subject), max: settings.maxFailures },
      { key: keyOf(options.scope, 'a', address), max: settings.maxFailuresPerAddress },
    ].sort((a, b) => (a.key < b.key ? -1 : 1));

  /** Locks (creating if needed) and reads a key's row inside `tx`. */
  async function lock(tx: Tx, key: string): Promise<AttemptState> {
    const row: LoginThrottleRow = { key, ...rowOf(fresh) };
    const insert = tx.insertInto('login_throttle').values(row);
    // The upsert takes the row lock (PostgreSQL, MariaDB) or the write lock (SQLite) first, so
    // two servers never both read a count and both write it back.
    await (database.features.duplicateKeyUpsert
      ? insert.onDuplicateKeyUpdate({ key: sql`${sql.ref('key')}` })
      : insert.onConflict((oc) => oc.column('key').doUpdateSet({ key: sql`excluded.${sql.ref('key')}` }))
    ).execute();
    const read = await tx
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', '=', key)
      .$if(database.features.forUpdate, (q) => q.forUpdate())
      .executeTakeFirstOrThrow();
    return stateOf(read);
  }

  async function write(tx: Tx, key: string, state: AttemptState): Promise<void> {
    await tx.updateTable('login_throttle').set(rowOf(state)).where('key', '=', key).execute();
  }

  return {
    async begin(subject, address) {
      return inTransaction(database, async (tx) => {
        const at = now();
        const keys = keysOf(subject, address);
        const states: AttemptState[] = [];
        for (const { key } of keys) states.push(liveState(await lock(tx, key), at, settings));
        const waits = states.map((s) => Math.max(0, s.lockedUntilMs - at));
        if (waits.some((w) => w > 0)) return Math.ceil(Math.max(...waits) / 1000);
        if (keys.some(({ max }, i) => !mayBegin(states[i]!, at, max))) return 1;
        for (const [i, { key }] of keys.entries()) {
          await write(tx, key, { ...states[i]!, inFlight: states[i]!.inFlight + 1, inFlightSinceMs: at });
        }
        return 0;
      });
    },
    async end(subject, address, outcome) {
      await inTransaction(database, async (tx) => {
        const at = now();
        for (const { key, max } of keysOf(subject, address)) {
          let state = liveState(await lock(tx, key), at, settings);
          state = { ...state, inFlight: Math.max(0, state.inFlight - 1) };
          if (outcome === 'failure') state = afterFailure(state, at, max, settings);
          const clears = outcome === 'success' && key.startsWith(keyOf(options.scope, 's', ''));
          if (clears || (state.failures === 0 && state.inFlight === 0 && state.lockedUntilMs <= at)) {
            await tx.deleteFrom('login_throttle').where('key', '=', key).execute();
          } else {
            await write(tx, key, state);
          }
        }
      });
    },
  };
}

/** Forgets old rows: nothing in flight, no lockout running, failures past the window. */
export async function pruneAttempts(
  database: CofferDatabase,
  settings: Partial<AttemptThrottleSettings> = {},
  now = Date.now(),
): Promise<number> {
  const { windowSeconds } = { ...defaultAttemptThrottle, ...settings };
  const result = await database.db
    .deleteFrom('login_throttle')
    .where('locked_until_ms', '<', now)
    .where('last_failure_ms', '<', now - windowSeconds * 1000)
    .where('in_flight_since_ms', '<', now - staleAttemptMs)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function keyOf(scope: string, type: 's' | 'a', value: string): string {
  return `${scope}:${type}:${value.trim().toLowerCase().slice(0, 100)}`;
}

function stateOf(row: LoginThrottleRow): AttemptState {
  return {
    failures: row.failures,
    lastFailureMs: Number(row.last_failure_ms),
    lockedUntilMs: Number(row.locked_until_ms),
    inFlight: row.in_flight,
    inFlightSinceMs: Number(row.in_flight_since_ms),
  };
}

function rowOf(state: AttemptState): Omit<LoginThrottleRow, 'key'> {
  return {
    failures: state.failures,
    last_failure_ms: state.lastFailureMs,
    locked_until_ms: state.lockedUntilMs,
    in_flight: state.inFlight,
    in_flight_since_ms: state.inFlightSinceMs,
  };
}
