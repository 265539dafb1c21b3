/** What {@link RetryOptions.onRetry} is told before each wait. */
export interface RetryEvent {
  /** The attempt that failed (1 for the first). */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  method: string;
  /** Relative to the API, e.g. `/secrets/mail`. */
  path: string;
  /** The status that caused the retry (429, 503), or undefined after a network error. */
  status: number | undefined;
}

/** How requests are retried. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  attempts?: number;
  /** The first backoff; it doubles with each retry, with jitter (default 200 ms). */
  baseDelayMs?: number;
  /**
   * The longest wait between attempts (default 30 s). A `Retry-After` longer than this is not
   * waited for: the 429/503 is thrown at once, with the wait in `details.retryAfterSeconds`.
   */
  maxDelayMs?: number;
  /** Called before each wait (to show "retrying..." in a CLI, or to log). */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
}

export function retryPolicyOf(options: RetryOptions | undefined): RetryPolicy {
  const attempts = Math.max(1, Math.floor(options?.attempts ?? 3));
  const baseDelayMs = Math.max(0, options?.baseDelayMs ?? 200);
  const maxDelayMs = Math.max(baseDelayMs, options?.maxDelayMs ?? 30_000);
  return Object.freeze({ attempts, baseDelayMs, maxDelayMs, onRetry: options?.onRetry });
}

const idempotentMethods = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * Whether a request may be sent again after `reason`.
 *
 * - GET, HEAD, PUT, DELETE, OPTIONS: after a network error, 429 or 503.
 * - A write made conditional by `If-Match` (a specific version): after 429 or 503 only. The
 *   server refused it before changing anything, so repeating it cannot apply it twice. After a
 *   network error the first attempt may have been applied; a repeat would then fail with 412
 *   and a check-and-set loop would apply its change a second time, so it is not repeated.
 * - Other POST and PATCH requests: never.
 */
export function mayRetry(method: string, conditional: boolean, reason: 'network' | 'status'): boolean {
  if (idempotentMethods.has(method)) return true;
  return conditional && reason === 'status';
}

/** The statuses worth another attempt: too many requests, and unavailable for now. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/**
 * The wait before retry number `retry` (1 for the first): exponential from `baseDelayMs`,
 * capped at `maxDelayMs`, with "equal jitter" (half fixed, half random), so clients that failed
 * together do not come back together, and none comes back at once.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date. Undefined when absent or
 * unreadable.
 */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
