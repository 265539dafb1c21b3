/** What an injected fault does to an authenticated request. */
export type FaultAction =
  /** Answer with this status and Key Vault error code (e.g. 429 `Throttled`, 500 `InternalServerError`). */
  | { kind: 'error'; status: number; code: string; innerCode?: string; retryAfterSeconds?: number }
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
 * Fault injection and counts of authenticated requests per operation (`SetSecret`, `UnwrapKey`).
 *
 * @example
 * faults.inject({ kind: 'error', status: 429, code: 'Throttled', retryAfterSeconds: 1 }, { count: 2 });
 */
export class FaultPlan<Operation extends string = string> {
  readonly #pending: PendingFault[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` authenticated requests (of `operation`, or of any) meet `action`. */
  inject(action: FaultAction, options: { count?: number; operation?: Operation } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, operation: options.operation });
  }

  /** Drops every fault not yet used. */
  clear(): void {
    this.#pending.length = 0;
  }

  /** Authenticated requests seen (refused ones too), of `operation` or in all. */
  requestCount(operation?: Operation): number {
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
