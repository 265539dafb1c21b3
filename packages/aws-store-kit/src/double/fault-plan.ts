/** What an injected fault does to a request. */
export type FaultAction =
  /** Answer with this AWS error (e.g. 500 InternalServerError, 400 ThrottlingException). */
  | { kind: 'error'; status: number; code: string; retryAfterSeconds?: number }
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' };

interface PendingFault {
  action: FaultAction;
  remaining: number;
  operation: string | undefined;
}

/**
 * Fault injection and request counts of a running double.
 *
 * @example
 * faults.inject({ kind: 'error', status: 500, code: 'InternalServerError' }, { count: 3, operation: 'PutParameter' });
 */
export class FaultPlan {
  readonly #pending: PendingFault[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` requests (of `operation`, or of any) meet `action`. */
  inject(action: FaultAction, options: { count?: number; operation?: string } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, operation: options.operation });
  }

  /** Drops every fault not yet used. */
  clear(): void {
    this.#pending.length = 0;
  }

  /** Requests seen (every one that reached the double, refused ones too), of `operation` or in all. */
  requestCount(operation?: string): number {
    if (operation !== undefined) return this.#counts.get(operation) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  /** Counts a request and takes the fault it meets, if any. */
  take(operation: string): FaultAction | undefined {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const at = this.#pending.findIndex((f) => f.operation === undefined || f.operation === operation);
    if (at === -1) return undefined;
    const fault = this.#pending[at]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.#pending.splice(at, 1);
    return fault.action;
  }
}
