import { type FaultAction as AnyFaultAction, FaultPlan as AnyFaultPlan } from '@coffer/core/doubles';

/**
 * What an injected fault does to an authenticated request; an error answers with this status and
 * Key Vault error code (e.g. 429 `Throttled`, 500 `InternalServerError`).
 */
export type FaultAction = AnyFaultAction<{
  status: number;
  code: string;
  innerCode?: string;
  retryAfterSeconds?: number;
}>;

/**
 * Fault injection and counts of authenticated requests per operation (`SetSecret`, `UnwrapKey`).
 *
 * @example
 * faults.inject({ kind: 'error', status: 429, code: 'Throttled', retryAfterSeconds: 1 }, { count: 2 });
 */
export class FaultPlan<Operation extends string = string> extends AnyFaultPlan<FaultAction, Operation> {}
