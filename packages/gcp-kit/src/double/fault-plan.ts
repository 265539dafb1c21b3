import { type FaultAction as AnyFaultAction, FaultPlan as AnyFaultPlan } from '@coffer/core/doubles';

/** What an injected fault does to a request; an error answers with this canonical error (e.g. `UNAVAILABLE`, `RESOURCE_EXHAUSTED`). */
export type FaultAction = AnyFaultAction<{ status: string; retryDelaySeconds?: number }>;

/**
 * Fault injection and request counts of a running double, by RPC name (`AddSecretVersion`,
 * `Decrypt`).
 *
 * @example
 * faults.inject({ kind: 'error', status: 'UNAVAILABLE' }, { count: 2, rpc: 'Decrypt' });
 */
export class FaultPlan extends AnyFaultPlan<FaultAction> {
  /** The next `count` requests (of `rpc`, or of any) meet `action`; `operation` is another name for `rpc`. */
  override inject(
    action: FaultAction,
    options: { count?: number; rpc?: string; operation?: string; name?: string } = {},
  ): void {
    super.inject(action, { ...options, operation: options.rpc ?? options.operation });
  }
}
