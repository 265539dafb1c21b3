/**
 * What an injected fault does to a request: answer with the service's error (`Failure`: the
 * status and code the vendor uses), hold the request, or close the connection.
 */
export type FaultAction<Failure extends object> =
  /** Answer with this error (e.g. 500 `InternalServerError`, `UNAVAILABLE`). */
  | ({ kind: 'error' } & Failure)
  /** Hold the request this long, then serve it (longer than the client's timeout: a timeout). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer (a reset). */
  | { kind: 'drop' };

interface PendingFault<Action> {
  action: Action;
  remaining: number;
  operation: string | undefined;
  name: string | undefined;
}

/**
 * Fault injection and request counts of a running double, by operation (`PutParameter`,
 * `UnwrapKey`, `Decrypt`) and, where the double tells them apart, by the name a request is about.
 *
 * @example
 * faults.inject({ kind: 'error', status: 500, code: 'InternalServerError' }, { count: 3, operation: 'PutParameter' });
 */
export class FaultPlan<Action, Operation extends string = string> {
  readonly #pending: PendingFault<Action>[] = [];
  readonly #counts = new Map<string, number>();

  /** The next `count` requests (of `operation`, about `name`, or any) meet `action`. */
  inject(action: Action, options: { count?: number; operation?: Operation; name?: string } = {}): void {
    this.#pending.push({
      action,
      remaining: options.count ?? 1,
      operation: options.operation,
      name: options.name,
    });
  }

  /** Drops every fault not yet used. */
  clear(): void {
    this.#pending.length = 0;
  }

  /** Requests seen (every one that reached the double, refused ones too), of `operation` or in all. */
  requestCount(operation?: Operation): number {
    if (operation !== undefined) return this.#counts.get(operation) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  /** Counts a request (of `operation`, about `name`) and takes the fault it meets, if any. */
  take(operation: string, name?: string): Action | undefined {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const at = this.#pending.findIndex(
      (f) =>
        (f.operation === undefined || f.operation === operation) && (f.name === undefined || f.name === name),
    );
    if (at === -1) return undefined;
    const fault = this.#pending[at]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.#pending.splice(at, 1);
    return fault.action;
  }
}
