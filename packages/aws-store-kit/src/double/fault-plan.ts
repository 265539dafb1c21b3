import { type FaultAction as AnyFaultAction, FaultPlan as AnyFaultPlan } from '@coffer/core/doubles';

/** What an injected fault does to a request; an error answers with this AWS error (e.g. 500 InternalServerError, 400 ThrottlingException). */
export type FaultAction = AnyFaultAction<{ status: number; code: string; retryAfterSeconds?: number }>;

/**
 * Fault injection and request counts of a running double.
 *
 * @example
 * faults.inject({ kind: 'error', status: 500, code: 'InternalServerError' }, { count: 3, operation: 'PutParameter' });
 */
export class FaultPlan extends AnyFaultPlan<FaultAction> {}
