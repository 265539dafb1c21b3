import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrator.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import { createJobLeases } from './job-leases.js';

await describeEachDialect('job leases', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  let now = 1_000_000;
  const server = (owner: string) =>
    createJobLeases({ database, logger: silentLogger(), owner, now: () => now });

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
    await migrateToLatest(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('runs a job on one server at a time, and shows its progress to every server', async () => {
    const a = server('server-a');
    const b = server('server-b');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const onA = a.runExclusive('job-1', async (lease) => {
      lease.progress({ done: 3 });
      started();
      await held;
      lease.progress({ done: 7 });
      return 'a finished';
    });
    await running;
    expect(await b.runExclusive('job-1', async () => 'b ran')).toEqual({ ran: false, holder: 'server-a' });
    expect(await b.status('job-1')).toMatchObject({ owner: 'server-a', running: true });
    release();
    expect(await onA).toEqual({ ran: true, result: 'a finished' });
    // released: the last progress stays for everyone to see, and b may run it now
    expect(await b.status('job-1')).toMatchObject({ owner: null, running: false, progress: { done: 7 } });
    expect(await b.runExclusive('job-1', async () => 'b ran')).toEqual({ ran: true, result: 'b ran' });
  });

  it('lets another server take over a job whose holder went silent, and tells the old holder', async () => {
    const a = server('server-a');
    const b = server('server-b');
    let lostSeen: boolean | undefined;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let taken!: () => void;
    const takenOver = new Promise<void>((r) => (taken = r));
    const onA = a.runExclusive(
      'job-2',
      async (lease) => {
        // a hangs past its lease (its renewals are a second apart; the clock jumps ahead)
        now += 10_000;
        started();
        await takenOver;
        await new Promise((r) => setTimeout(r, 1300)); // a renewal runs and finds the lease gone
        lostSeen = lease.lost();
      },
      { ttlMs: 3000 },
    );
    await running;
    expect(await b.runExclusive('job-2', async () => 'b took over', { ttlMs: 60_000 })).toEqual({
      ran: true,
      result: 'b took over',
    });
    taken();
    await onA;
    expect(lostSeen).toBe(true);
  });
});
