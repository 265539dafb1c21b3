import { type Actor, type Coffer, CofferError, isCofferError } from '@coffer/core';
import type { ConnectionTester, ConnectionTesterRegistry } from './connection-tester.js';
import { databaseTester } from './database-tester.js';
import { apiTokenTester, basicAuthTester, jiraTester, oauthClientTester } from './http-tester.js';
import { scrubSecrets } from './scrub.js';
import { smtpTester } from './smtp-tester.js';

/**
 * The built-in testers by kind id. An embedding application passes its own registry
 * (e.g. `{ ...builtinConnectionTesters, 'my-kind': myTester }`) to the plugin.
 */
export const builtinConnectionTesters = {
  smtp: smtpTester,
  database: databaseTester,
  'api-token': apiTokenTester,
  'basic-auth': basicAuthTester,
  jira: jiraTester,
  'oauth-client': oauthClientTester,
} as const satisfies Record<string, ConnectionTester>;

/** The result of `POST /secrets/{ref}/test`. */
export interface ConnectionTestResult {
  ok: boolean;
  kind: string;
  /** Why it failed; never contains a secret value. */
  reason?: string;
  durationMs: number;
  details?: Record<string, string | number | boolean>;
}

/**
 * Tests a secret's credentials on the caller's behalf. The values come from `use`, so a
 * group member holding only `use` can test what they may not see; the use is audited with
 * the purpose `connection-test`. The reason of a failure is scrubbed of the secret's values.
 *
 * @example
 * const result = await runConnectionTest(coffer, actor, 'smtp', { testers: builtinConnectionTesters, timeoutMs: 10_000 });
 */
export async function runConnectionTest(
  coffer: Coffer,
  actor: Actor,
  ref: string,
  options: { testers: ConnectionTesterRegistry; timeoutMs: number },
): Promise<ConnectionTestResult> {
  const used = await coffer.secrets.use(actor, ref, { purpose: 'connection-test' });
  const kindId = used.secret.kind;
  const tester = Object.hasOwn(options.testers, kindId) ? options.testers[kindId] : undefined;
  if (tester === undefined) {
    throw new CofferError('unsupported', `secrets of kind "${kindId}" have no connection test`, {
      details: { kind: kindId, testable: Object.keys(options.testers) },
    });
  }
  const kind = coffer.kinds.get(kindId) ?? { isSecretField: () => true };
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<{ ok: false; reason: string }>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ ok: false, reason: `the test did not finish within ${options.timeoutMs} ms` });
    }, options.timeoutMs + 250);
  });
  try {
    const outcome = await Promise.race([
      tester
        .test(used.values, { timeoutMs: options.timeoutMs, signal: controller.signal })
        .catch((err: unknown) => {
          // "Cannot test this" is not "the credentials do not work".
          if (isCofferError(err, 'unsupported')) throw err;
          return {
            ok: false as const,
            reason: `the test failed: ${err instanceof Error ? err.message : String(err)}`,
          };
        }),
      deadline,
    ]);
    const result: ConnectionTestResult = {
      ok: outcome.ok,
      kind: kindId,
      durationMs: Math.round(performance.now() - started),
    };
    if (!outcome.ok) {
      result.reason = scrubSecrets(outcome.reason ?? 'the test failed', used.values, kind);
    }
    if ('details' in outcome && outcome.details !== undefined) {
      result.details = Object.fromEntries(
        Object.entries(outcome.details).map(([k, v]) => [
          k,
          typeof v === 'string' ? scrubSecrets(v, used.values, kind) : v,
        ]),
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}
