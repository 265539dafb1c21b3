/**
 * Per-minute request quotas of a Google API: a token bucket per quota, each holding a minute's
 * worth and refilled continuously, as Google's per-project, per-minute quotas behave.
 *
 * @example
 * const quotas = new MinuteQuotas({ read: 300, write: 60 });
 * quotas.admit('write'); // 0 while the minute's 60 writes last, then seconds to wait
 */
export class MinuteQuotas<Quota extends string> {
  readonly #buckets = new Map<Quota, { tokens: number; at: number }>();
  constructor(readonly perMinute: Readonly<Record<Quota, number>>) {}

  /** 0 when the request fits (and is counted), else whole seconds until it would. */
  admit(quota: Quota): number {
    const perMinute = this.perMinute[quota];
    const t = performance.now();
    const bucket = this.#buckets.get(quota) ?? { tokens: perMinute, at: t };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((t - bucket.at) / 60_000) * perMinute);
    bucket.at = t;
    this.#buckets.set(quota, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / perMinute));
  }
}
