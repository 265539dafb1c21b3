/** How failed logins slow down further attempts. */
export interface LoginThrottleSettings {
  /** Failed logins for one username before it is locked out for a while. */
  maxFailures: number;
  /** Failed logins from one address before it is locked out (higher: NAT puts many people behind one). */
  maxFailuresPerAddress: number;
  /** The first lockout; each further failure doubles it. */
  lockoutSeconds: number;
  /** The longest lockout. */
  maxLockoutSeconds: number;
  /** Failures older than this are forgotten. */
  windowSeconds: number;
}

export const defaultLoginThrottle: LoginThrottleSettings = Object.freeze({
  maxFailures: 5,
  maxFailuresPerAddress: 20,
  lockoutSeconds: 30,
  maxLockoutSeconds: 900,
  windowSeconds: 900,
});

interface Entry {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

/** Entries kept at most; the oldest go first, so a flood of names cannot exhaust memory. */
const maxEntries = 100_000;

/**
 * Login rate limiting with lockout backoff, per username and per client address. It applies
 * to unknown usernames exactly as to real ones, so a lockout tells nothing about whether an
 * account exists. State is in this process's memory: each replica counts on its own, and a
 * restart forgets (documented in docs/server.md).
 *
 * @example
 * const wait = throttle.check(username, ip);
 * if (wait > 0) reply 429 with Retry-After: wait
 */
export class LoginThrottle {
  readonly #settings: LoginThrottleSettings;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Attempts begun and not yet ended, per key: a burst of parallel guesses counts at once. */
  readonly #inFlight = new Map<string, number>();

  constructor(settings: Partial<LoginThrottleSettings> = {}, now: () => number = Date.now) {
    this.#settings = { ...defaultLoginThrottle, ...settings };
    this.#now = now;
  }

  /** Seconds until the username and the address may try again; 0 when they may now. */
  check(username: string, address: string): number {
    const now = this.#now();
    const waits = [this.#keyOf('u', username), this.#keyOf('a', address)].map((key) => {
      const entry = this.#live(key, now);
      return entry === undefined ? 0 : Math.max(0, entry.lockedUntilMs - now);
    });
    return Math.ceil(Math.max(...waits) / 1000);
  }

  /**
   * Checks and reserves one attempt. Returns the seconds to wait (nothing reserved), or 0: the
   * attempt is reserved and must be ended with {@link end}. Attempts in flight count against
   * the failures still allowed, so parallel guesses cannot outrun the lockout.
   */
  begin(username: string, address: string): number {
    const wait = this.check(username, address);
    if (wait > 0) return wait;
    const now = this.#now();
    const limits: [string, number][] = [
      [this.#keyOf('u', username), this.#settings.maxFailures],
      [this.#keyOf('a', address), this.#settings.maxFailuresPerAddress],
    ];
    for (const [key, max] of limits) {
      const failures = this.#live(key, now)?.failures ?? 0;
      // After a lockout ran out, one attempt at a time.
      if ((this.#inFlight.get(key) ?? 0) >= Math.max(1, max - failures)) return 1;
    }
    for (const [key] of limits) this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    return 0;
  }

  /** Ends an attempt reserved by {@link begin}: a failure counts, a success clears the username. */
  end(username: string, address: string, outcome: 'success' | 'failure' | 'error'): void {
    for (const key of [this.#keyOf('u', username), this.#keyOf('a', address)]) {
      const left = (this.#inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(key, left);
      else this.#inFlight.delete(key);
    }
    if (outcome === 'failure') this.failure(username, address);
    if (outcome === 'success') this.success(username);
  }

  failure(username: string, address: string): void {
    const now = this.#now();
    this.#fail(this.#keyOf('u', username), this.#settings.maxFailures, now);
    this.#fail(this.#keyOf('a', address), this.#settings.maxFailuresPerAddress, now);
  }

  /** A successful login clears the username's failures (not the address's: see the class doc). */
  success(username: string): void {
    this.#entries.delete(this.#keyOf('u', username));
  }

  #keyOf(type: 'u' | 'a', value: string): string {
    return `${type}:${value.trim().toLowerCase().slice(0, 128)}`;
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const forgotten =
      now - entry.lastFailureMs > this.#settings.windowSeconds * 1000 && now >= entry.lockedUntilMs;
    if (forgotten) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #fail(key: string, max: number, now: number): void {
    const entry = this.#live(key, now) ?? { failures: 0, lastFailureMs: now, lockedUntilMs: 0 };
    entry.failures++;
    entry.lastFailureMs = now;
    if (entry.failures >= max) {
      const { lockoutSeconds, maxLockoutSeconds } = this.#settings;
      const seconds = Math.min(maxLockoutSeconds, lockoutSeconds * 2 ** Math.min(entry.failures - max, 20));
      entry.lockedUntilMs = now + seconds * 1000;
    }
    // Re-insert so the map's order is least recently failed first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
