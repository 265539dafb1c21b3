/** A request quota: operations in one group share one bucket of `perSecond` requests. */
export interface RateQuota {
  group: string;
  perSecond: number;
}

/**
 * Token buckets, one per quota group, each holding one second's worth of requests, the way
 * AWS enforces per-account, per-region transaction quotas.
 */
export class QuotaThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly quotas: Readonly<Record<string, RateQuota>>,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether one more request of `operation` fits its quota now (and counts it when it does). */
  admit(operation: string): boolean {
    const quota = this.quotas[operation];
    if (quota === undefined) return true;
    const t = this.now();
    const bucket = this.#buckets.get(quota.group) ?? { tokens: quota.perSecond, at: t };
    bucket.tokens = Math.min(quota.perSecond, bucket.tokens + ((t - bucket.at) / 1000) * quota.perSecond);
    bucket.at = t;
    this.#buckets.set(quota.group, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
