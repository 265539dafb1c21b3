import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrator.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import { createAttemptThrottle, pruneAttempts } from './attempt-throttle.js';

await describeEachDialect('attempt throttle in the database', (dialect) => {
  let testDb: TestDatabase;
  let a: CofferDatabase;
  let b: CofferDatabase;
  let now = 1_000_000;
  let scope = 0;
  /** A throttle over its own scope; `on` picks the connection (two stand for two servers). */
  const throttle = (settings = {}, on?: CofferDatabase) =>
    createAttemptThrottle(on ?? a, { scope: `t${++scope}`, settings, now: () => now });

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    a = await openDatabase(testDb.url);
    b = await openDatabase(testDb.url);
    await migrateToLatest(a);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await testDb?.drop();
  });

  it('locks a subject out after repeated failures, for a doubling time, case and spaces aside', async () => {
    const t = throttle({ maxFailures: 3, lockoutSeconds: 10, maxLockoutSeconds: 35 });
    const fail = async (who: string, from: string) => {
      expect(await t.begin(who, from)).toBe(0);
      await t.end(who, from, 'failure');
    };
    await fail('Ada', '10.0.0.1');
    await fail('ada', '10.0.0.1');
    await fail('ada ', '10.0.0.1');
    expect(await t.begin('ADA', '10.0.0.2')).toBe(10);
    now += 10_000;
    await fail('ada', '10.0.0.2');
    expect(await t.begin('ada', '10.0.0.3')).toBe(20);
    now += 20_000;
    await fail('ada', '10.0.0.4');
    expect(await t.begin('ada', '10.0.0.5')).toBe(35); // capped
  });

  it('treats unknown subjects like real ones, and counts per address too', async () => {
    const t = throttle({ maxFailures: 100, maxFailuresPerAddress: 3, lockoutSeconds: 5 });
    for (const name of ['a', 'b', 'c']) {
      expect(await t.begin(name, '10.0.0.9')).toBe(0);
      await t.end(name, '10.0.0.9', 'failure');
    }
    expect(await t.begin('someone-else', '10.0.0.9')).toBe(5);
    expect(await t.begin('someone-else', '10.0.0.8')).toBe(0);
  });

  it('forgets failures after the window, and clears the subject on success', async () => {
    const t = throttle({ maxFailures: 2, lockoutSeconds: 1, windowSeconds: 60 });
    await t.begin('ada', 'x');
    await t.end('ada', 'x', 'failure');
    now += 61_000;
    await t.begin('ada', 'x');
    await t.end('ada', 'x', 'failure');
    expect(await t.begin('ada', 'y')).toBe(0);
    await t.end('ada', 'y', 'failure');
    expect(await t.begin('ada', 'z')).toBe(1);
    now += 1_000;
    expect(await t.begin('ada', 'z')).toBe(0);
    await t.end('ada', 'z', 'success');
    expect(await t.begin('ada', 'z')).toBe(0);
    await t.end('ada', 'z', 'error');
  });

  it('counts attempts in flight on every server: parallel guesses through two cannot outrun the limit', async () => {
    const settings = { maxFailures: 3, maxFailuresPerAddress: 100, lockoutSeconds: 30 };
    const scopeName = `shared-${++scope}`;
    const viaA = createAttemptThrottle(a, { scope: scopeName, settings, now: () => now });
    // Two better-sqlite3 connections in one process would block each other's event loop while
    // one waits for the other's lock; SQLite servers are separate processes, so share one here.
    const viaB = createAttemptThrottle(dialect === 'sqlite' ? a : b, {
      scope: scopeName,
      settings,
      now: () => now,
    });
    const begun = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? viaA : viaB).begin('ada', `10.1.0.${i}`)),
    );
    expect(begun.filter((wait) => wait === 0)).toHaveLength(3);
    for (let i = 0; i < 3; i++) await (i % 2 === 0 ? viaA : viaB).end('ada', `10.1.0.${i}`, 'failure');
    expect(await viaB.begin('ada', '10.1.0.99')).toBe(30);
    expect(await viaA.begin('ada', '10.1.0.98')).toBe(30);
  });

  it('drops an attempt a dead server never ended, and prunes what is over', async () => {
    const t = throttle({ maxFailures: 1, maxFailuresPerAddress: 100 });
    expect(await t.begin('bob', '10.2.0.1')).toBe(0);
    // the server died here: nothing ends the attempt
    expect(await t.begin('bob', '10.2.0.2')).toBe(1);
    now += 61_000;
    expect(await t.begin('bob', '10.2.0.2')).toBe(0);
    now += 3_600_000;
    expect(await pruneAttempts(a, {}, now)).toBeGreaterThan(0);
  });
});
