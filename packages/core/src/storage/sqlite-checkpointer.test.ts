import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteCheckpointer, type SqliteCheckpointerOptions } from './sqlite-checkpointer.js';

// Checkpoints in a worker thread (docs/performance.md, "Checkpoints in a worker thread"): what
// a commit leaves in the write-ahead log reaches the database file soon after without the
// writing connection doing it, the log still starts over under a steady stream of writes, and
// an idle database holds no thread.

const dir = mkdtempSync(join(tmpdir(), 'coffer-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A connection set up as Coffer's: WAL, no automatic checkpoint of its own below `limit`. */
function writer(name: string, limit = 100_000) {
  const file = join(dir, `${name}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${limit}`);
  db.exec('create table t (id integer primary key, v text not null)');
  return { file, db };
}

/** A writer and its checkpointer, attached, with an insert into its table. */
function checkpointed(name: string, options: Omit<SqliteCheckpointerOptions, 'file' | 'sync'>) {
  const { file, db } = writer(name);
  const checkpointer = new SqliteCheckpointer({ file, sync: 'normal', ...options });
  checkpointer.attach(db);
  return { file, db, checkpointer, insert: db.prepare('insert into t (v) values (?)') };
}

const until = async (what: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('SqliteCheckpointer', () => {
  it('copies committed writes into the database file soon after, without the log', async () => {
    const { file, db, checkpointer, insert } = checkpointed('copied', { delayMs: 20 });
    for (let i = 0; i < 50; i++) {
      insert.run(`planted-row-${i}`);
      checkpointer.noteWrite();
    }
    await until(() => checkpointer.stats.checkpoints >= 1);
    expect(checkpointer.stats.last).toMatchObject({ log: expect.any(Number) });
    expect(checkpointer.stats.last!.checkpointed).toBe(checkpointer.stats.last!.log);
    // What a power loss leaves when the log had not reached the disk: the database file alone.
    const copy = join(dir, 'copied-file-only.db');
    copyFileSync(file, copy);
    expect(existsSync(`${copy}-wal`)).toBe(false);
    const alone = new Database(copy, { readonly: true });
    expect((alone.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(50);
    alone.close();
    await checkpointer.close();
    db.close();
    // The writing connection closed last, so SQLite removed the log.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('writes nothing and starts no thread for a database that is not written', async () => {
    const { db, checkpointer } = checkpointed('unwritten', { delayMs: 5 });
    await new Promise((r) => setTimeout(r, 50));
    expect(checkpointer.stats).toMatchObject({ checkpoints: 0, starts: 0, running: false });
    await checkpointer.close();
    db.close();
  });

  it('keeps the log from growing under a steady stream of writes', async () => {
    const { file, db, checkpointer, insert } = checkpointed('steady', { delayMs: 5, restartFrames: 200 });
    const many = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run('x'.repeat(300));
    });
    // A write every turn of the event loop, as a busy server makes them: never a quiet moment
    // in which the worker's checkpoint could have copied everything.
    many(20);
    // The log's header counts the times it started over (its checkpoint sequence number).
    const startsOfLog = () => readFileSync(`${file}-wal`).readUInt32BE(12);
    const startsBefore = startsOfLog();
    const started = Date.now();
    let commits = 0;
    while (Date.now() - started < 1500) {
      many(20);
      commits++;
      checkpointer.noteWrite();
      await new Promise((r) => setImmediate(r));
    }
    expect(checkpointer.stats.restarts).toBeGreaterThan(0);
    expect(startsOfLog() - startsBefore).toBeGreaterThan(1);
    // The log file's size is the most it ever held (4,096-byte pages plus a 24-byte header per
    // frame). Without the restarts it would hold every commit's frames: 20 rows of 300 bytes
    // fill more than one page, so at least two each.
    const frames = Math.floor(statSync(`${file}-wal`).size / 4120);
    expect(frames).toBeLessThan(2 * commits);
    const written = db.prepare('select count(*) as n from t').get() as { n: number };
    expect(written.n).toBeGreaterThan(1000);
    await checkpointer.close();
    db.close();
  });

  it('restarts the log even where every checkpoint is slow', async () => {
    // Every checkpoint counts as long (catchUpMs 0): after two quick passes the writing
    // connection finishes one anyway, rather than leave the worker asking forever.
    const { db, checkpointer, insert } = checkpointed('slow-disk', {
      delayMs: 5,
      restartFrames: 1,
      catchUpMs: 0,
    });
    const started = Date.now();
    while (checkpointer.stats.restarts === 0 && Date.now() - started < 5000) {
      insert.run('x');
      checkpointer.noteWrite();
      await new Promise((r) => setImmediate(r));
    }
    expect(checkpointer.stats.restarts).toBeGreaterThan(0);
    expect(checkpointer.stats.checkpoints).toBeGreaterThanOrEqual(3);
    await checkpointer.close();
    db.close();
  });

  it('waits for a transaction to end before the writing connection finishes a checkpoint', async () => {
    const { db, checkpointer, insert } = checkpointed('in-transaction', {
      delayMs: 5,
      restartFrames: 1,
    });
    db.exec('begin');
    insert.run('inside');
    checkpointer.noteWrite();
    await until(() => checkpointer.stats.checkpoints >= 1);
    // The worker answered while the transaction was open: nothing ran on the connection.
    expect(checkpointer.stats.restarts).toBe(0);
    db.exec('commit');
    checkpointer.noteWrite();
    expect(checkpointer.stats.restarts).toBe(1);
    await checkpointer.close();
    db.close();
  });

  it('ends its thread when writes stop and starts it again with the next write', async () => {
    const { db, checkpointer, insert } = checkpointed('idle', { delayMs: 5, idleMs: 30 });
    insert.run('first');
    checkpointer.noteWrite();
    await until(() => checkpointer.stats.checkpoints >= 1);
    await until(() => !checkpointer.stats.running);
    insert.run('second');
    checkpointer.noteWrite();
    await until(() => checkpointer.stats.checkpoints >= 2);
    expect(checkpointer.stats.starts).toBe(2);
    await checkpointer.close();
    expect(checkpointer.stats.running).toBe(false);
    db.close();
  });

  it('gives up, and says so, when its thread cannot open the database', async () => {
    const failures: Error[] = [];
    const checkpointer = new SqliteCheckpointer({
      file: join(dir, 'missing', 'nothing-here.db'),
      sync: 'normal',
      delayMs: 5,
      onFailure: (error) => failures.push(error),
    });
    checkpointer.noteWrite();
    await until(() => failures.length === 1);
    expect(checkpointer.stats.failed).toBeInstanceOf(Error);
    // Later writes ask for nothing more.
    checkpointer.noteWrite();
    await new Promise((r) => setTimeout(r, 50));
    expect(checkpointer.stats.starts).toBe(1);
    await checkpointer.close();
  });
});
