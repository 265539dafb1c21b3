import { setTimeout as sleep } from 'node:timers/promises';

/** How a remote backend retries a failed call (the AWS/Google "full jitter" scheme). */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 5). */
  maxAttempts: number;
  /** The first backoff's ceiling in milliseconds (default 100). */
  baseDelayMs: number;
  /** No backoff is longer than this (default 5000). */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
});

/** What a failed attempt means for the next one. */
export type RetryVerdict =
  | { retry: false }
  /** Retry after the backoff, or after `afterMs` when the store said how long (Retry-After). */
  | { retry: true; afterMs?: number };

/**
 * What a vendor's classifier makes of a failed call: which reason (`Kind`), the vendor's code,
 * whether to retry.
 */
export interface ClassifiedFailure<Kind extends string> {
  kind: Kind;
  /** The vendor's error code (`ThrottlingException`, `RESOURCE_EXHAUSTED`) or a Node code (`ECONNREFUSED`). */
  vendorCode: string | undefined;
  retry: boolean;
  /** Milliseconds the service asked us to wait (Retry-After, RetryInfo), when it did. */
  afterMs?: number | undefined;
}

/** Connection failures worth another attempt (the service may be back in a moment). */
export const transientNetworkCodes: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EAI_AGAIN',
]);

/**
 * The first Node error code (`ECONNRESET`) on an error or its causes (SDKs and fetch wrap socket
 * errors), five causes deep at the most; `also` takes other codes too (TLS ones).
 *
 * @example
 * nodeErrorCode(err, (code) => code.startsWith('CERT_'));
 */
export function nodeErrorCode(
  err: unknown,
  also: (code: string) => boolean = () => false,
): string | undefined {
  let at = err;
  for (let depth = 0; depth <= 5 && typeof at === 'object' && at !== null; depth++) {
    const { code, cause } = at as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && code !== '' && (/^E[A-Z_]+$/.test(code) || also(code))) return code;
    at = cause;
  }
  return undefined;
}

/**
 * The wait a Retry-After header asks for, in milliseconds: delay-seconds or an HTTP date
 * (a date past is no wait). `undefined` when there is no header, an empty one, or one unread.
 *
 * @example
 * retryAfterHeaderMs('2'); // 2000
 */
export function retryAfterHeaderMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * A classifier's retry verdict: the function `withRetries` wants, from one that reads a failure
 * (its arguments, a service's special cases too, pass through): retry (after `afterMs` when the
 * service said how long) or not.
 *
 * @example
 * export const awsRetryVerdict = retryVerdictFrom(classifyAwsError);
 */
export function retryVerdictFrom<Args extends unknown[]>(
  classify: (...args: Args) => Pick<ClassifiedFailure<string>, 'retry' | 'afterMs'>,
): (...args: Args) => RetryVerdict {
  return (...args) => {
    const failure = classify(...args);
    return failure.retry
      ? { retry: true, ...(failure.afterMs === undefined ? {} : { afterMs: failure.afterMs }) }
      : { retry: false };
  };
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Whether an error is worth another attempt (throttling, 5xx, timeouts, resets). */
  classify: (err: unknown, attempt: number) => RetryVerdict;
  /** Randomness for the jitter; tests pass a fixed one. */
  random?: () => number;
  /** Called before each wait, e.g. to count retries in metrics. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/** The attempt count of the last failure, for the error a backend throws afterwards. */
export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(
    readonly last: unknown,
    readonly attempts: number,
  ) {
    super(`gave up after ${attempts} attempts`);
  }
}

/**
 * The backoff before attempt `attempt + 1`: a random delay up to `base * 2^(attempt-1)`, capped.
 *
 * @example
 * backoffDelay(3, defaultRetryPolicy, Math.random); // somewhere in [0, 400) ms
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `call` until it succeeds, `classify` says not to retry, or the attempts run out. The
 * error of the last attempt is rethrown as is when it is not retryable, and wrapped in
 * {@link RetriesExhausted} (which carries it and the count) when retries ran out.
 *
 * @example
 * const out = await withRetries(() => client.send(command), { classify: awsRetryVerdict });
 */
export async function withRetries<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const policy = { ...defaultRetryPolicy, ...options.policy };
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      const verdict = options.classify(err, attempt);
      if (!verdict.retry) throw err;
      if (attempt >= policy.maxAttempts) throw new RetriesExhausted(err, attempt);
      const backoff = backoffDelay(attempt, policy, random);
      const delay = Math.min(policy.maxDelayMs, Math.max(backoff, verdict.afterMs ?? 0));
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, undefined, options.signal === undefined ? undefined : { signal: options.signal });
    }
  }
}
