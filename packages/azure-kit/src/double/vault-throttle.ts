/**
 * Key Vault's service limits per vault and region, in 10-second windows: CREATE transactions
 * (a secret set, a key created or rotated) and all other transactions.
 */
export interface ThrottleLimits {
  createPer10Seconds: number;
  otherPer10Seconds: number;
}

/** Which limit a transaction counts against. */
export type ThrottleLimit = 'create' | 'other';

/**
 * Key Vault's throttling: a token bucket per limit holding ten seconds' worth, refilled
 * continuously.
 *
 * @example
 * const throttle = new VaultThrottle({ createPer10Seconds: 20, otherPer10Seconds: 2_000 });
 * throttle.admit('create'); // 0 while the window's 20 creates last, then seconds to wait
 */
export class VaultThrottle {
  readonly #buckets = new Map<ThrottleLimit, { tokens: number; at: number }>();
  constructor(readonly limits: ThrottleLimits) {}

  /** 0 when the request fits (and is counted), else whole seconds until it would. */
  admit(limit: ThrottleLimit): number {
    const per10 = limit === 'create' ? this.limits.createPer10Seconds : this.limits.otherPer10Seconds;
    const t = performance.now();
    const bucket = this.#buckets.get(limit) ?? { tokens: per10, at: t };
    bucket.tokens = Math.min(per10, bucket.tokens + ((t - bucket.at) / 10_000) * per10);
    bucket.at = t;
    this.#buckets.set(limit, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 10) / per10));
  }
}
