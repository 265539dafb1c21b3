import type { BackendDefinition } from '@coffer/core';
import {
  assertNoOrphans,
  type CofferFixture,
  createCofferFixture,
  refsIn,
  secretsPerBackend,
} from '@coffer/core/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultAction } from '../double/fault-plan.js';
import { everythingIn, rejectionOf, useAwsEnv } from './aws-testing.js';

/** What the engine suites need of a store's double. */
export interface FaultableDouble {
  env: Record<string, string>;
  settings: Record<string, unknown>;
  faults: {
    inject(action: FaultAction, options?: { count?: number; operation?: string }): void;
    clear(): void;
    requestCount(operation?: string): number;
    resetCounts(): void;
  };
  close(): Promise<void>;
}

/** The store under test, as the engine suites are told about it. */
export interface EngineStore<Double extends FaultableDouble> {
  /** The backend type (`aws-ssm`). */
  type: string;
  definition: BackendDefinition;
  /** Starts the store's double (request quotas off: these suites inject their faults). */
  start(): Promise<Double>;
  /** The names the store holds, pending deletion included. */
  storedNames(double: Double): string[];
  /** Whether a deleted value's name stays in the store for a while (a recovery window). */
  keepsDeletedNames: boolean;
}

/**
 * A Coffer on SQLite whose active backend `store` is an instance on `double`, retrying three
 * times with no write limit.
 */
export function storeFixture<Double extends FaultableDouble>(
  store: EngineStore<Double>,
  double: Double,
  settings: Record<string, unknown> = {},
  more: { clusterPrefix?: string } = {},
): Promise<CofferFixture> {
  return createCofferFixture(
    'sqlite',
    {
      ...more,
      backends: {
        store: {
          type: store.type,
          ...double.settings,
          writesPerSecond: 0,
          maxAttempts: 3,
          requestTimeoutMs: 5_000,
          ...settings,
        },
      },
      backend: 'store',
    },
    { backendDefinitions: [store.definition] },
  );
}

/**
 * The error a Coffer start fails with when its only backend `store` has these settings (the
 * config tests read the setting the message names); fails when the start succeeds.
 *
 * @example
 * const err = await startFailure(awsSsm, 'aws-ssm', { region: 'Mars-1' }); // err.message names backends.store.region
 */
export async function startFailure(
  definition: BackendDefinition,
  type: string,
  settings: Record<string, unknown>,
  more: Record<string, unknown> = {},
): Promise<{ code: string; message: string }> {
  try {
    const fx = await createCofferFixture(
      'sqlite',
      { backends: { store: { type, ...settings } }, backend: 'store', ...more },
      { backendDefinitions: [definition] },
    );
    await fx.close();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected the start to fail');
}

/** What a store's own engine tests get inside {@link describeEngineFaults}. */
export interface EngineFaultContext<Double extends FaultableDouble> {
  double(): Double;
  fixture(): CofferFixture;
  /** Part of every value written; the last test checks it reached no error, log or audit record. */
  planted: string;
  /** Errors the store's own tests provoked, for that check. */
  errors: unknown[];
}

/**
 * Declares the engine-level fault tests every AWS store passes: a burst of throttling retried,
 * throttling and 500s past the attempts, a failed update keeping the current version, a timeout,
 * a dropped connection retried, each failure leaving nothing half-written; and every secret moved
 * to `sql` and back, verified. `storeTests` declares the store's own (values deleted behind its
 * back) before the last test checks that the planted value reached no error, log line or audit
 * record.
 *
 * @example
 * describeEngineFaults({ type: 'aws-ssm', definition, start, writeOperation: 'PutParameter', serverErrorCode: 'InternalServerError' }, (ctx) => { it(...) });
 */
export function describeEngineFaults<Double extends FaultableDouble>(
  store: EngineStore<Double> & {
    /** The call a new secret's value is written with (`PutParameter`, `PutSecretValue`). */
    writeOperation: string;
    /** The service's 500 (`InternalServerError`, `InternalServiceError`). */
    serverErrorCode: string;
  },
  storeTests: (ctx: EngineFaultContext<Double>) => void = () => {},
): void {
  const planted = `PLANTED-${store.type}-${Math.random().toString(36).slice(2)}`;
  const write = { operation: store.writeOperation };

  describe(`${store.type} under faults, through the engine`, () => {
    let double: Double;
    let fx: CofferFixture;
    let restoreEnv: () => void;
    const errors: unknown[] = [];

    beforeAll(async () => {
      double = await store.start();
      restoreEnv = useAwsEnv(double.env);
      fx = await storeFixture(store, double);
    });
    afterEach(() => double.faults.clear());
    afterAll(async () => {
      await fx?.close();
      await double?.close();
      restoreEnv?.();
    });

    const create = (coffer: CofferFixture, name: string, token: string) =>
      coffer.coffer.secrets.create(coffer.admin.actor, { name, kind: 'generic', values: { token } });

    it('retries a burst of throttling and succeeds', async () => {
      double.faults.resetCounts();
      double.faults.inject(
        { kind: 'error', status: 400, code: 'ThrottlingException' },
        { count: 2, ...write },
      );
      const made = await create(fx, 'throttled', `${planted}-throttled`);
      expect(double.faults.requestCount(store.writeOperation)).toBe(3);
      const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
      expect(read.values).toEqual({ token: `${planted}-throttled` });
    });

    it('gives backend_unavailable (throttled) when throttling outlasts the attempts', async () => {
      double.faults.inject(
        { kind: 'error', status: 400, code: 'ThrottlingException', retryAfterSeconds: 0 },
        { count: 50, ...write },
      );
      const err = await rejectionOf(create(fx, 'always-throttled', `${planted}-throttled-out`));
      errors.push(err);
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({
        reason: 'throttled',
        vendorCode: 'ThrottlingException',
        attempts: 3,
      });
      double.faults.clear();
      await assertNoOrphans(fx.coffer, ['store']);
    });

    it('gives backend_unavailable (server_error) on persistent 500s and writes nothing half', async () => {
      const before = await fx.coffer.secrets.list(fx.admin.actor);
      double.faults.inject(
        { kind: 'error', status: 500, code: store.serverErrorCode },
        { count: 50, ...write },
      );
      const err = await rejectionOf(create(fx, 'fails', `${planted}-500`));
      errors.push(err);
      expect(err.code).toBe('backend_unavailable');
      expect(err.details).toMatchObject({
        reason: 'server_error',
        vendorCode: store.serverErrorCode,
        attempts: 3,
      });
      double.faults.clear();
      const after = await fx.coffer.secrets.list(fx.admin.actor);
      expect(after.items.map((s) => s.id)).toEqual(before.items.map((s) => s.id));
      await assertNoOrphans(fx.coffer, ['store']);
    });

    it('fails an update on 500s and keeps the current version and its value', async () => {
      const made = await create(fx, 'kept', `${planted}-v1`);
      double.faults.inject(
        { kind: 'error', status: 503, code: 'ServiceUnavailable' },
        { count: 50, ...write },
      );
      const err = await rejectionOf(
        fx.coffer.secrets.update(fx.admin.actor, made.id, { values: { token: `${planted}-v2` } }),
      );
      errors.push(err);
      expect(err.code).toBe('backend_unavailable');
      expect(err.details.reason).toBe('server_error');
      double.faults.clear();
      expect((await fx.coffer.secrets.get(fx.admin.actor, made.id)).currentVersion).toBe(1);
      const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
      expect(read.values).toEqual({ token: `${planted}-v1` });
      await assertNoOrphans(fx.coffer, ['store']);
    });

    it('gives backend_unavailable (timeout) when the store does not answer in time', async () => {
      // an instance of its own with a short request timeout, under a prefix of its own
      const slow = await storeFixture(store, double, { requestTimeoutMs: 400 }, { clusterPrefix: 'slow' });
      try {
        double.faults.inject({ kind: 'delay', ms: 1_000 }, { count: 3, ...write });
        const err = await rejectionOf(create(slow, 'slow', `${planted}-slow`));
        errors.push(err);
        expect(err.code).toBe('backend_unavailable');
        expect(err.details.reason).toBe('timeout');
        double.faults.clear();
        // the delayed requests are answered late; let them land before checking nothing is left over
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await assertNoOrphans(slow.coffer, ['store']);
        expect(slow.logText()).not.toContain(planted);
      } finally {
        await slow.close();
      }
    });

    it('retries a dropped connection and succeeds', async () => {
      double.faults.inject({ kind: 'drop' }, { count: 1, ...write });
      const made = await create(fx, 'dropped', `${planted}-dropped`);
      const read = await fx.coffer.secrets.readValues(fx.admin.actor, made.id, { reveal: true });
      expect(read.values).toEqual({ token: `${planted}-dropped` });
    });

    it('moves secrets from sql to the store and back, verified', async () => {
      const back = await fx.reopen({ backendDefinitions: [store.definition] }, { backend: 'sql' });
      await back.migration.start(fx.admin.actor, { target: 'sql' });
      await back.migration.wait();
      const status = await back.migration.status(fx.admin.actor);
      expect(status.failures ?? [], JSON.stringify(status.failures ?? [])).toEqual([]);
      const count = (await back.secrets.list(fx.admin.actor)).items.length;
      expect(count).toBeGreaterThan(2);
      expect(await secretsPerBackend(back)).toEqual({ sql: count });
      expect(await refsIn(back, 'store')).toEqual([]);
      // a store with a recovery window still shows the names; one that deletes at once, none
      if (store.keepsDeletedNames) expect(store.storedNames(double).length).toBeGreaterThan(0);
      else expect(store.storedNames(double)).toEqual([]);
      await back.migration.start(fx.admin.actor, { target: 'store' });
      await back.migration.wait();
      expect((await back.migration.status(fx.admin.actor)).failed).toBe(0);
      expect(await secretsPerBackend(back)).toEqual({ store: count });
      await assertNoOrphans(back, ['store', 'sql']);
      for (const secret of (await back.secrets.list(fx.admin.actor)).items) {
        const read = await back.secrets.readValues(fx.admin.actor, secret.id, { reveal: true });
        expect(String(read.values.token)).toContain(planted);
      }
    });

    storeTests({ double: () => double, fixture: () => fx, planted, errors });

    it('never lets a planted value into errors, the log or the audit records', async () => {
      expect(errors.length).toBeGreaterThan(4);
      for (const err of errors) expect(everythingIn(err)).not.toContain(planted);
      expect(fx.logText()).not.toContain(planted);
      let exported = '';
      for await (const line of fx.coffer.audit.export(fx.admin.actor, {})) exported += line;
      expect(exported.length).toBeGreaterThan(0);
      expect(exported).not.toContain(planted);
    });
  });
}
