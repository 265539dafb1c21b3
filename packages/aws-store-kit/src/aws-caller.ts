import {
  CofferError,
  type Logger,
  type RateLimiter,
  RetriesExhausted,
  remoteFailure,
  type ValueRef,
  valueNotFound,
  withRetries,
} from '@coffer/core';
import { type AwsFailure, type AwsServiceErrors, awsRetryVerdict, classifyAwsError } from './aws-errors.js';

/** The part of an AWS SDK v3 client a backend uses (`SSMClient`, `SecretsManagerClient`, or a stand-in). */
export interface AwsClientLike {
  send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/** A failed call, classified, with the attempts it took. Never leaves a backend. */
export class StoreFailure<Special extends string = never> extends Error {
  override readonly name = 'StoreFailure';
  constructor(
    readonly failure: AwsFailure<Special>,
    readonly attempts: number,
  ) {
    super(`store call failed: ${failure.kind}`);
  }
}

/** The kind of a {@link StoreFailure}, or undefined for anything else. */
export function failureKind(err: unknown): string | undefined {
  return err instanceof StoreFailure ? err.failure.kind : undefined;
}

export interface AwsCallerOptions<Special extends string> {
  client: AwsClientLike;
  service: AwsServiceErrors<Special>;
  /** Writes wait for it before each attempt. */
  writes: RateLimiter;
  maxAttempts: number;
  requestTimeoutMs: number;
  logger: Logger;
  /** For the log line of a retry: the backend instance and the store's name. */
  backendName: string;
  storeName: string;
}

/**
 * Calls an AWS SDK client with Coffer's retry layer (the SDK's own retries are off) and, for
 * writes, the write rate limit; a fresh command per attempt so each attempt is signed anew.
 * Failures come out as {@link StoreFailure}s, already classified.
 *
 * @example
 * const call = awsCaller({ client, service: ssmErrors, writes, maxAttempts: 5, requestTimeoutMs: 10_000, ... });
 * await call(true, () => new PutParameterCommand(input));
 */
export function awsCaller<Special extends string>(
  options: AwsCallerOptions<Special>,
): (write: boolean, command: () => object) => Promise<unknown> {
  return async (write, command) => {
    try {
      return await withRetries(
        async () => {
          if (write) await options.writes.take();
          return options.client.send(command(), {
            abortSignal: AbortSignal.timeout(options.requestTimeoutMs),
          });
        },
        {
          policy: { maxAttempts: options.maxAttempts },
          classify: (err) => awsRetryVerdict(err, options.service),
          onRetry: (err, attempt, delayMs) => {
            const failure = classifyAwsError(err, options.service);
            options.logger.debug(
              {
                backend: options.backendName,
                reason: failure.kind,
                vendorCode: failure.vendorCode,
                attempt,
                delayMs,
              },
              `retrying a ${options.storeName} call`,
            );
          },
        },
      );
    } catch (err) {
      if (err instanceof RetriesExhausted) {
        throw new StoreFailure(classifyAwsError(err.last, options.service), err.attempts);
      }
      if (err instanceof CofferError) throw err;
      throw new StoreFailure(classifyAwsError(err, options.service), 1);
    }
  };
}

/**
 * Runs `work`, turning {@link StoreFailure}s into Coffer errors that carry no vendor message: a
 * missing value on `get` is `value_not_found`; everything else `backend_unavailable` with the
 * reason and the vendor's code. Special kinds map through `specialReason` (default `rejected`).
 */
export async function translateStoreFailures<T>(
  target: { backend: string; type: string },
  operation: string,
  ref: ValueRef | undefined,
  work: () => Promise<T>,
  options: { missingOnGet?: ReadonlySet<string> } = {},
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof StoreFailure)) throw err;
    const { failure, attempts } = err as StoreFailure<string>;
    const missing = options.missingOnGet ?? new Set(['not_found']);
    if (operation === 'get' && ref !== undefined && missing.has(failure.kind)) {
      throw valueNotFound(target.backend, ref);
    }
    const known = new Set<string>([
      'permission_denied',
      'unauthenticated',
      'unreachable',
      'throttled',
      'timeout',
      'server_error',
      'rejected',
      'limit_exceeded',
    ]);
    throw remoteFailure({
      backend: target.backend,
      type: target.type,
      operation,
      ref,
      reason: known.has(failure.kind)
        ? (failure.kind as Parameters<typeof remoteFailure>[0]['reason'])
        : 'rejected',
      vendorCode: failure.vendorCode,
      attempts,
    });
  }
}
