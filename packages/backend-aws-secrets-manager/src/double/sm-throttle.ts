/**
 * The request quotas of Secrets Manager (per account and region, per second), after the
 * service's quota page; each group shares one bucket.
 */
export const secretsManagerRateQuotas: Readonly<Record<string, { group: string; perSecond: number }>> =
  Object.freeze({
    GetSecretValue: { group: 'read', perSecond: 10_000 },
    DescribeSecret: { group: 'read', perSecond: 10_000 },
    PutSecretValue: { group: 'write', perSecond: 50 },
    UpdateSecret: { group: 'write', perSecond: 50 },
    UpdateSecretVersionStage: { group: 'write', perSecond: 50 },
    CreateSecret: { group: 'create', perSecond: 50 },
    DeleteSecret: { group: 'delete', perSecond: 50 },
    RestoreSecret: { group: 'restore', perSecond: 50 },
    ListSecrets: { group: 'list', perSecond: 50 },
    ListSecretVersionIds: { group: 'list', perSecond: 50 },
    TagResource: { group: 'tag', perSecond: 50 },
    UntagResource: { group: 'tag', perSecond: 50 },
  });

/** Token buckets, one per quota group, holding one second's worth of requests. */
export class QuotaThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly now: () => number = () => performance.now()) {}

  /** Whether one more request of `operation` fits its quota now (and counts it when it does). */
  admit(operation: string): boolean {
    const quota = secretsManagerRateQuotas[operation];
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
