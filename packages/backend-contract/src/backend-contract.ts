import type { Backend, ValueRef } from '@coffer/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type CaseContext,
  type ContractCaseName,
  contractCaseNames,
  contractCases,
} from './contract-cases.js';

/** A backend made for the contract, with what the suite needs to clean up and to damage a value. */
export interface BackendUnderTest {
  backend: Backend;
  /** Removes what the backend stored (a database, a directory, a namespace); runs after the last case. */
  cleanup?: () => Promise<void> | void;
  /**
   * Changes the stored bytes of one value in place, so the tamper case can check that the
   * backend fails closed with `integrity`. Give it for backends that can detect tampering
   * (the `envelope` ones); without it that case is skipped, saying so.
   */
  tamper?: (ref: ValueRef) => Promise<void> | void;
}

/** Cases left out for a backend, and why (the reason shows in the test report). */
export interface ContractSkip {
  reason: string;
  tests: readonly ContractCaseName[];
}

export interface BackendContractOptions {
  /** Shown in the suite's title: `backend contract: <name>`. */
  name: string;
  /** Makes a fresh, empty backend; called once, before the first case. */
  create: () => Promise<BackendUnderTest | Backend> | BackendUnderTest | Backend;
  /** Cases this backend does not run, each group with its reason. */
  skip?: readonly ContractSkip[];
  /** How many refs the listing case stores (at least 1000; default 2000). */
  listEntries?: number;
  /** Time limit of one case in milliseconds (default 120 000: remote stores are slow). */
  timeoutMs?: number;
}

/**
 * Declares the backend contract suite (in the spirit of Vault's storage conformance tests) as
 * vitest tests: put/get/delete/list by secret id and version, idempotent deletes, typed
 * not-found errors, 64 KiB values, unicode, many versions, concurrency, complete listings of
 * thousands of refs, tamper detection and no value in any error. Cases a backend's
 * capabilities rule out are skipped with the reason; `skip` leaves out more, each with its own.
 *
 * @example
 * import { runBackendContract } from '@coffer/backend-contract';
 * runBackendContract({
 *   name: 'acme-vault',
 *   create: async () => ({ backend: await acmeBackend.create(config, context), cleanup: () => wipe() }),
 *   skip: [{ reason: 'the sandbox store allows 10 requests per second', tests: ['serves concurrent puts to different secrets'] }],
 * });
 */
export function runBackendContract(options: BackendContractOptions): void {
  const skipped = new Map<string, string>();
  for (const group of options.skip ?? []) {
    if (typeof group.reason !== 'string' || group.reason.trim() === '') {
      throw new Error(`backend contract "${options.name}": every skip needs a reason`);
    }
    for (const name of group.tests) {
      if (!(name in contractCases)) {
        throw new Error(
          `backend contract "${options.name}": no case named "${name}" to skip; cases: ${contractCaseNames.join(', ')}`,
        );
      }
      skipped.set(name, group.reason);
    }
  }
  const listEntries = Math.max(1000, options.listEntries ?? 2000);
  const timeout = options.timeoutMs ?? 120_000;

  describe(`backend contract: ${options.name}`, () => {
    let subject: BackendUnderTest | undefined;
    beforeAll(async () => {
      const made = await options.create();
      subject = isBackendUnderTest(made) ? made : { backend: made };
    }, timeout);
    afterAll(async () => {
      await subject?.backend.close?.();
      await subject?.cleanup?.();
    }, timeout);

    for (const name of contractCaseNames) {
      const reason = skipped.get(name);
      if (reason !== undefined) {
        it.skip(`${name} (skipped: ${reason})`, () => {});
        continue;
      }
      const contractCase = contractCases[name] as (typeof contractCases)[ContractCaseName] & {
        needs?: (ctx: CaseContext) => string | undefined;
      };
      it(
        name,
        async (test) => {
          if (subject === undefined) throw new Error('create() did not make a backend');
          const ctx: CaseContext = { backend: subject.backend, tamper: subject.tamper, listEntries };
          const why = contractCase.needs?.(ctx);
          if (why !== undefined) test.skip(`skipped: ${why}`);
          await contractCase.run(ctx);
        },
        timeout,
      );
    }
  });
}

function isBackendUnderTest(value: BackendUnderTest | Backend): value is BackendUnderTest {
  return 'backend' in value && typeof (value as BackendUnderTest).backend === 'object';
}
