import type { SecretValues } from '@coffer/core';

/** What a tester reports; the runner adds the kind and the duration. */
export interface ConnectionTestOutcome {
  ok: boolean;
  /** Why it failed, in words an operator can act on. Scrubbed of secret values before it leaves. */
  reason?: string;
  details?: Record<string, string | number | boolean>;
}

/** What a tester is given besides the values. */
export interface ConnectionTestContext {
  /** The whole test must end within this many milliseconds. */
  timeoutMs: number;
  /** Aborted when the deadline passes; testers pass it on to what they call. */
  signal: AbortSignal;
}

/**
 * Checks that one kind's credentials work by using them: connecting, logging in, making a
 * request. Testers live in the server (they speak protocols), one file per protocol, and are
 * looked up by kind id.
 *
 * @example
 * export const smtpTester: ConnectionTester = { kind: 'smtp', test: async (values, { timeoutMs }) => ({ ok: true }) };
 */
export interface ConnectionTester {
  readonly kind: string;
  test(values: SecretValues, context: ConnectionTestContext): Promise<ConnectionTestOutcome>;
}

/** Testers by kind id. */
export type ConnectionTesterRegistry = Readonly<Record<string, ConnectionTester>>;

/** A string field of the values, or undefined when absent or empty. */
export function stringField(values: SecretValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined || value === '') return undefined;
  return String(value);
}

/** A number field of the values, or undefined. */
export function numberField(values: SecretValues, name: string): number | undefined {
  const value = values[name];
  return typeof value === 'number' ? value : undefined;
}

/** A short description of a thrown error: its code and message, for a failure reason. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; cause?: unknown };
  const cause = e.cause instanceof Error ? e.cause : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const rawCauseCode = (cause as { code?: unknown } | undefined)?.code;
  const causeCode = typeof rawCauseCode === 'string' ? rawCauseCode : undefined;
  const message = cause !== undefined && e.message === 'fetch failed' ? cause.message : e.message;
  const label = causeCode ?? code;
  return label === undefined || message.includes(label) ? message : `${label}: ${message}`;
}
