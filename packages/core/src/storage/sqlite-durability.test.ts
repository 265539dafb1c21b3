import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { createCoffer } from '../coffer.js';
import { isCofferError } from '../errors/coffer-error.js';
import { asUser } from '../identity/actor.js';
import { openDatabase, sqliteBackgroundCheckpointLimitPages, sqliteCheckpointPages } from './database.js';

// What an SQLite commit survives is a setting (docs/identity-and-audit.md, "Durability"), and
// so is the memory its page cache may hold (docs/performance.md, "Idle RSS"). A group commit's
// savepoint journals stay in memory (docs/performance.md, "Savepoint journals in memory").

const dir = mkdtempSync(join(tmpdir(), 'coffer-durability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pragmas(options?: {
  sqliteSync?: 'normal' | 'full';
  sqliteCacheMiB?: number;
  sqliteCheckpoints?: 'background' | 'inline';
}) {
  const database = await openDatabase(`sqlite:${join(dir, `d-${Math.random()}.db`)}`, options);
  try {
    const read = async (name: string) =>
      Object.values((await sql.raw(`pragma ${name}`).execute(database.db)).rows[0] as object)[0];
    return {
      journal: await read('journal_mode'),
      synchronous: await read('synchronous'),
      checkpoint: await read('wal_autocheckpoint'),
      cacheKiB: -Number(await read('cache_size')),
    };
  } finally {
    await database.close();
  }
}

it('writes the log ahead, flushed at checkpoints, unless told to flush every commit', async () => {
  // synchronous: 1 is NORMAL, 2 is FULL. With checkpoints in a worker thread (the default) the
  // connection checkpoints by itself only past 16,000 pages, should the worker fall behind.
  expect(await pragmas()).toMatchObject({
    journal: 'wal',
    synchronous: 1,
    checkpoint: sqliteBackgroundCheckpointLimitPages,
  });
  expect(sqliteBackgroundCheckpointLimitPages).toBe(16_000);
  expect(await pragmas({ sqliteCheckpoints: 'inline' })).toMatchObject({ checkpoint: sqliteCheckpointPages });
  expect(sqliteCheckpointPages).toBe(4000);
  expect(await pragmas({ sqliteSync: 'full' })).toMatchObject({ journal: 'wal', synchronous: 2 });
});

it('has a secret in the database file itself within a second of its create, not only in the log', async () => {
  // A power loss can lose what the log holds and the disk does not: the checkpoint in the
  // worker thread flushes the log and copies it into the database file ~0.2 s after a write.
  // With `sqliteCheckpoints: 'inline'` this waits for 4,000 pages of log, and fails.
  const coffer = await createCoffer({
    dataDir: join(dir, 'flushed'),
    adminPassword: 'correct horse battery staple',
  });
  try {
    const { user } = await coffer.identity.login('admin', 'correct horse battery staple');
    const created = await coffer.secrets.create(asUser(user.id), {
      name: 'flushed-soon',
      kind: 'api-token',
      values: { token: 'planted-flushed-token' },
    });
    const fileAlone = join(dir, 'flushed-copy.db');
    const names = () => {
      copyFileSync(join(dir, 'flushed', 'coffer.db'), fileAlone);
      const copy = new Database(fileAlone, { readonly: true });
      try {
        return (
          copy.prepare('select name from secrets where id = ?').all(created.id) as { name: string }[]
        ).map((r) => r.name);
      } catch {
        return []; // before the first checkpoint even the tables are only in the log
      } finally {
        copy.close();
        rmSync(fileAlone, { force: true });
      }
    };
    const deadline = Date.now() + 3000;
    while (names().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(names()).toEqual(['flushed-soon']);
  } finally {
    await coffer.close();
  }
});

it('says so when its checkpoint worker cannot run, and checkpoints in the commits again', async () => {
  const file = join(dir, 'worker-fails.db');
  const failures: Error[] = [];
  const database = await openDatabase(`sqlite:${file}`, {
    onSqliteCheckpointFailure: (e) => failures.push(e),
  });
  try {
    await sql`create table t (v text)`.execute(database.db);
    // The worker opens the file by name ~0.2 s after this write, and finds nothing there.
    renameSync(file, `${file}.moved`);
    await sql`insert into t (v) values ('x')`.execute(database.db);
    const deadline = Date.now() + 5000;
    while (failures.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(failures).toHaveLength(1);
    expect(database.checkpointStats?.().failed).toBe(failures[0]);
    const checkpoint = await sql.raw('pragma wal_autocheckpoint').execute(database.db);
    expect(checkpoint.rows).toEqual([{ wal_autocheckpoint: sqliteCheckpointPages }]);
  } finally {
    renameSync(`${file}.moved`, file);
    await database.close();
  }
});

it('refuses an unknown place for checkpoints, naming the setting', async () => {
  const err = await createCoffer({
    dataDir: join(dir, 'bad-checkpoints'),
    adminPassword: 'correct horse battery staple',
    database: { sqliteCheckpoints: 'elsewhere' as 'inline' },
  }).catch((e: unknown) => e);
  expect(isCofferError(err, 'invalid_config')).toBe(true);
  expect(JSON.stringify((err as { details: unknown }).details)).toContain('database.sqliteCheckpoints');
});

it('refuses an unknown setting, naming it', async () => {
  const err = await createCoffer({
    dataDir: join(dir, 'bad'),
    adminPassword: 'correct horse battery staple',
    database: { sqliteSync: 'sometimes' as 'full' },
  }).catch((e: unknown) => e);
  expect(isCofferError(err, 'invalid_config')).toBe(true);
  expect(JSON.stringify((err as { details: unknown }).details)).toContain('database.sqliteSync');
});

it('holds up to 16 MiB of pages in its cache unless configured otherwise', async () => {
  expect((await pragmas()).cacheKiB).toBe(16 * 1024);
  expect((await pragmas({ sqliteCacheMiB: 2 })).cacheKiB).toBe(2 * 1024);
  const err = await createCoffer({
    dataDir: join(dir, 'bad-cache'),
    adminPassword: 'correct horse battery staple',
    database: { sqliteCacheMiB: 0 },
  }).catch((e: unknown) => e);
  expect(isCofferError(err, 'invalid_config')).toBe(true);
  expect(JSON.stringify((err as { details: unknown }).details)).toContain('database.sqliteCacheMiB');
});

it('gives its page cache back on request without losing data, before and after the first query', async () => {
  const coffer = await createCoffer({
    dataDir: join(dir, 'release'),
    adminPassword: 'correct horse battery staple',
    database: { sqliteCacheMiB: 4 },
  });
  try {
    const { user } = await coffer.identity.login('admin', 'correct horse battery staple');
    const admin = asUser(user.id);
    const secret = await coffer.secrets.create(admin, {
      name: 'released',
      kind: 'api-token',
      values: { token: 'kept-value' },
    });
    const cache = await sql.raw('pragma cache_size').execute(coffer.database.db);
    expect(cache.rows).toEqual([{ cache_size: -4 * 1024 }]);
    coffer.database.releaseMemory();
    const read = await coffer.secrets.readValues(admin, secret.id, { reveal: true });
    expect(read.values.token).toBe('kept-value');
  } finally {
    await coffer.close();
  }
  const unopened = await openDatabase(`sqlite:${join(dir, 'unopened.db')}`);
  unopened.releaseMemory();
  await unopened.close();
});

it.skipIf(process.platform !== 'linux')(
  "keeps a group commit's savepoint journals in memory: a create writes its log pages, not ~90 KiB more",
  async () => {
    const coffer = await createCoffer({
      dataDir: join(dir, 'journals'),
      adminPassword: 'correct horse battery staple',
      // No checkpoint in a worker thread of this process adds its own writes to the count.
      database: { sqliteCheckpoints: 'inline' },
    });
    try {
      const { user } = await coffer.identity.login('admin', 'correct horse battery staple');
      const admin = asUser(user.id);
      // Bytes this process handed to write(2) and pwrite(2), whatever the file.
      const written = () => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
      // The last create repeats the first one's name. Both find the name free before either
      // writes, so the repeat fails inside the group's transaction, and the group runs again with
      // each create in a savepoint of its own (write-groups.ts).
      const createTogether = (round: number) =>
        Promise.allSettled(
          [...Array.from({ length: 32 }, (_, i) => i), 0].map((i) =>
            coffer.secrets.create(admin, {
              name: `j${round}-${i}`,
              kind: 'api-token',
              values: { token: `t-${i}` },
            }),
          ),
        );
      await createTogether(0);
      const before = written();
      const outcomes = await createTogether(1);
      const perCreate = (written() - before) / 32;
      expect(outcomes.map((o) => o.status)).toEqual([...Array(32).fill('fulfilled'), 'rejected']);
      expect((outcomes[32] as PromiseRejectedResult).reason.code).toBe('already_exists');
      // Measured: 4-7 KiB with the journals in memory, 86-90 KiB when they spilled to a
      // temporary file (SQLite's default, past 64 KiB of page images).
      expect(perCreate).toBeLessThan(32 * 1024);
    } finally {
      await coffer.close();
    }
  },
);
