/** What an injected fault does to a request. */
export type FaultAction =
  /** Answer with this canonical error (e.g. `UNAVAILABLE`, `RESOURCE_EXHAUSTED`). */
  | { kind: 'error'; status: string; retryDelaySeconds?: number }
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' };

interface PendingFault {
  action: FaultAction;
  remaining: number;
  rpc: string | undefined;
}

/**
 * Fault injection and request counts of a running double, by RPC name (`AddSecretVersion`,
 * `Decrypt`).
 *
 * @example
 * faults.inject({ kind: 'error', status: 'UNAVAILABLE' }, { count: 2, rpc: 'Decrypt' });
 */
export class FaultPlan {
  readonly #pending: PendingFault[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` requests (of `rpc`, or of any) meet `action`. */
  inject(action: FaultAction, options: { count?: number; rpc?: string } = {}): void {
    this.#pending.push({ action, remaining: options.count ?? 1, rpc: options.rpc });
  }

  /** Drops every fault not yet used. */
  clear(): void {
    this.#pending.length = 0;
  }

  /** Requests seen (refused ones too), of `rpc` or in all. */
  requestCount(rpc?: string): number {
    if (rpc !== undefined) return this.#counts.get(rpc) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  /** Counts a request and takes the fault it meets, if any. */
  take(rpc: string): FaultAction | undefined {
    this.#counts.set(rpc, (this.#counts.get(rpc) ?? 0) + 1);
    const at = this.#pending.findIndex((f) => f.rpc === undefined || f.rpc === rpc);
    if (at === -1) return undefined;
    const fault = this.#pending[at]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.#pending.splice(at, 1);
    return fault.action;
  }
}
