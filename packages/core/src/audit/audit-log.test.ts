import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityFixture, type IdentityFixture } from '../identity/test-support/identity-fixture.js';
import { type CofferDatabase, openDatabase } from '../storage/database.js';
import { inTransaction } from '../storage/transaction.js';
import { describeEachDialect } from '../test-support/databases.js';
import { auditRecordHash, genesisHash } from './audit-chain.js';
import { createAuditLog } from './audit-log.js';
import type { AuditEntry } from './audit-types.js';

const entry = (n: number): AuditEntry => ({
  action: 'secret.read',
  outcome: 'success',
  actor: { type: 'user', id: 'u-1', name: 'ada' },
  source: 'api',
  address: '127.0.0.1',
  target: { type: 'secret', id: `s-${n}`, name: `secret ${n}` },
  details: { n, fields: ['host', 'port'] },
});

/**
 * Counts the statements matching `pattern` that `database` sends to a PostgreSQL or MySQL server
 * until `stop()` (at the drivers' query calls, so the prepared statements are counted too).
 */
async function countingStatements(database: CofferDatabase, pattern: RegExp) {
  let count = 0;
  const restore: (() => void)[] = [];
  const wrap = (prototype: { query: (...args: unknown[]) => unknown }) => {
    const original = prototype.query;
    prototype.query = function (this: unknown, ...args: unknown[]) {
      const first = args[0] as string | { text?: string; sql?: string } | undefined;
      const text = typeof first === 'string' ? first : (first?.text ?? first?.sql ?? '');
      if (pattern.test(text)) count++;
      return original.apply(this, args);
    };
    restore.push(() => {
      prototype.query = original;
    });
  };
  if (database.dialect === 'postgres') wrap((await import('pg')).default.Client.prototype);
  if (database.dialect === 'mysql') {
    // `query` is BaseConnection's, under the Connection the pool's connections extend.
    const { default: mysql } = await import('mysql2');
    wrap(Object.getPrototypeOf(mysql.Connection.prototype));
  }
  return {
    count: () => count,
    stop: () => {
      for (const undo of restore) undo();
    },
  };
}

await describeEachDialect('audit log', (dialect) => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
  });
  afterAll(async () => {
    await fx?.close();
  });

  const rows = () => fx.database.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();

  it('numbers records from 1 and links each to its predecessor', async () => {
    for (let i = 0; i < 5; i++) await fx.auditLog.appendStandalone(entry(i));
    const all = await rows();
    expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
    expect(all[0]!.prev_hash).toBe(genesisHash);
    for (let i = 1; i < all.length; i++) expect(all[i]!.prev_hash).toBe(all[i - 1]!.hash);
    for (const r of all) expect(auditRecordHash({ ...r, seq: Number(r.seq) })).toBe(r.hash);
    const head = await fx.database.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    expect(Number(head.seq)).toBe(all.length);
    expect(head.hash).toBe(all.at(-1)!.hash);
    expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: true, checked: all.length });
  });

  it('stores details as canonical JSON and returns the stored record', async () => {
    const record = await fx.auditLog.appendStandalone({ ...entry(9), details: { b: 1, a: 'x' } });
    const row = await fx.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', record.seq)
      .executeTakeFirstOrThrow();
    expect(row.details).toBe('{"a":"x","b":1}');
    expect(record).toMatchObject({ action: 'secret.read', details: { a: 'x', b: 1 }, hash: row.hash });
  });

  it('cuts names longer than their column at a code point, and the stored record still verifies', async () => {
    const emoji = '\u{1F511}'; // two UTF-16 units, one code point
    const fits = emoji.repeat(200); // 200 code points: the width of a name, in 400 units
    const tooLong = `${'a'.repeat(199)}${emoji}${emoji}`; // 201 code points
    const record = await fx.auditLog.appendStandalone({
      ...entry(10),
      actor: { type: 'user', id: 'u-1', name: fits },
      target: { type: 'secret', id: 's-10', name: tooLong },
    });
    const row = await fx.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', record.seq)
      .executeTakeFirstOrThrow();
    expect(row.actor_name).toBe(fits);
    expect(row.target_name).toBe(`${'a'.repeat(199)}${emoji}`);
    expect(auditRecordHash({ ...row, seq: Number(row.seq) })).toBe(row.hash);
    expect(record.hash).toBe(row.hash);
  });

  it('commits a record with the change it describes and rolls it back with it', async () => {
    const before = (await rows()).length;
    await expect(
      inTransaction(fx.database, async (tx) => {
        await fx.auditLog.append(tx, entry(100));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect((await rows()).length).toBe(before);
    expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
  });

  it('fails the caller’s transaction when the record cannot be written', async () => {
    const head = await fx.database.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    await fx.database.db.deleteFrom('audit_head').execute();
    try {
      await expect(fx.identity.createGroup(fx.admin.actor, { name: 'unaudited' })).rejects.toMatchObject({
        code: 'integrity',
      });
      const group = await fx.database.db
        .selectFrom('groups')
        .select('id')
        .where('name', '=', 'unaudited')
        .executeTakeFirst();
      expect(group).toBeUndefined();
    } finally {
      await fx.database.db.insertInto('audit_head').values(head).execute();
    }
    expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
  });

  describe('verify', () => {
    it('reports the seq of a record whose column was changed', async () => {
      const target = (await rows())[3]!;
      const seq = Number(target.seq);
      await fx.database.db
        .updateTable('audit_log')
        .set({ actor_name: 'mallory' })
        .where('seq', '=', seq)
        .execute();
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({
        ok: false,
        firstBrokenSeq: seq,
        problem: 'hash_mismatch',
        checked: seq - 1,
      });
      await fx.database.db
        .updateTable('audit_log')
        .set({ actor_name: target.actor_name })
        .where('seq', '=', seq)
        .execute();
      expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
    });

    it('reports a record whose hash was recomputed after a change as a broken link', async () => {
      const target = (await rows())[2]!;
      const seq = Number(target.seq);
      const forged = { ...target, seq, outcome: 'denied' };
      await fx.database.db
        .updateTable('audit_log')
        .set({ outcome: 'denied', hash: auditRecordHash(forged) })
        .where('seq', '=', seq)
        .execute();
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({
        ok: false,
        firstBrokenSeq: seq + 1,
        problem: 'prev_hash_mismatch',
      });
      await fx.database.db
        .updateTable('audit_log')
        .set({ outcome: target.outcome, hash: target.hash })
        .where('seq', '=', seq)
        .execute();
    });

    it('reports the gap where a middle record was deleted', async () => {
      const target = (await rows())[4]!;
      const seq = Number(target.seq);
      await fx.database.db.deleteFrom('audit_log').where('seq', '=', seq).execute();
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({
        ok: false,
        firstBrokenSeq: seq,
        problem: 'missing_records',
      });
      await fx.database.db.insertInto('audit_log').values(target).execute();
      expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
    });

    it('reports the first record missing when the chain was cut off at the end', async () => {
      const all = await rows();
      const cut = all.slice(-3);
      const firstCut = Number(cut[0]!.seq);
      await fx.database.db.deleteFrom('audit_log').where('seq', '>=', firstCut).execute();
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({
        ok: false,
        checked: firstCut - 1,
        firstBrokenSeq: firstCut,
        problem: 'truncated',
      });
      await fx.database.db.insertInto('audit_log').values(cut).execute();
      expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
    });

    it('reports a missing head instead of failing on its own record', async () => {
      const head = await fx.database.db.selectFrom('audit_head').selectAll().execute();
      await fx.database.db.deleteFrom('audit_head').execute();
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: false, problem: 'head_missing' });
      await fx.database.db.insertInto('audit_head').values(head).execute();
      expect((await fx.audit.verify(fx.admin.actor)).ok).toBe(true);
    });

    it('verifies in batches without missing a link', async () => {
      const batched = (await import('./audit-service.js')).createAuditService({
        database: fx.database,
        audit: fx.auditLog,
        identity: fx.identity,
        batchSize: 3,
      });
      const count = (await rows()).length;
      const head = await fx.database.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
      expect(await batched.verify(fx.admin.actor)).toEqual({
        ok: true,
        checked: count,
        head: { seq: Number(head.seq), hash: head.hash },
      });
      const target = (await rows())[7]!;
      await fx.database.db.deleteFrom('audit_log').where('seq', '=', Number(target.seq)).execute();
      expect(await batched.verify(fx.admin.actor)).toMatchObject({
        ok: false,
        firstBrokenSeq: Number(target.seq),
      });
      await fx.database.db.insertInto('audit_log').values(target).execute();
    });
  });

  it('keeps one contiguous chain under many concurrent appends from several connections', async () => {
    // Separate handles stand for separate server processes sharing the database. SQLite's
    // driver is synchronous, so a second handle in this process would block the first one's
    // transaction; there the writers share one handle, which serializes them.
    const handles: CofferDatabase[] = fx.database.features.forUpdate
      ? await Promise.all([1, 2, 3].map(() => openDatabase(fx.testDb.url)))
      : [];
    try {
      const logs = [fx.database, ...handles].map((database) => ({
        database,
        log: createAuditLog({ database, clock: fx.time.clock }),
      }));
      const before = (await rows()).length;
      const writers = 60;
      await Promise.all(
        Array.from({ length: writers }, (_, i) => {
          const { database, log } = logs[i % logs.length]!;
          return inTransaction(database, async (tx) => {
            await tx.selectFrom('users').select('id').limit(1).execute();
            await log.append(tx, entry(1000 + i));
          });
        }),
      );
      const all = await rows();
      expect(all.length).toBe(before + writers);
      expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
      const targets = new Set(all.map((r) => r.target_id));
      for (let i = 0; i < writers; i++) expect(targets.has(`s-${1000 + i}`)).toBe(true);
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: true, checked: all.length });
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('chains the concurrent transactions of one process without reading the head, and survives their rollbacks', async () => {
    // Each transaction guesses the head the one before it left, before that one commits; on
    // PostgreSQL and MySQL its conditional move waits for that commit and succeeds. Before, all
    // but one guessed the same head, and each of those read the head again under its lock.
    const before = (await rows()).length;
    const headStatements = await countingStatements(fx.database, /audit_head/);
    const writers = 24;
    const failing = new Set([3, 10, 17]);
    let settled: PromiseSettledResult<void>[];
    try {
      settled = await Promise.allSettled(
        Array.from({ length: writers }, (_, i) =>
          inTransaction(fx.database, async (tx) => {
            await tx.selectFrom('users').select('id').limit(1).execute();
            await fx.auditLog.append(tx, entry(2000 + i));
            if (failing.has(i)) throw new Error('rolled back after its append');
          }),
        ),
      );
    } finally {
      headStatements.stop();
    }
    expect(settled.filter((r) => r.status === 'rejected')).toHaveLength(failing.size);
    if (fx.database.features.forUpdate) {
      // One statement that moves the head per transaction, and one more read of it (or retry)
      // for each that chained after a rolled-back one: not three per transaction.
      expect(headStatements.count()).toBeLessThanOrEqual(writers + 2 * failing.size);
    }
    // And a transaction that appends twice at the same time does not wait for itself.
    await Promise.all([
      inTransaction(fx.database, (tx) =>
        Promise.all([fx.auditLog.append(tx, entry(2100)), fx.auditLog.append(tx, entry(2101))]),
      ),
      inTransaction(fx.database, (tx) => fx.auditLog.append(tx, entry(2102))),
    ]);
    const all = await rows();
    expect(all.length).toBe(before + writers - failing.size + 3);
    expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
    const targets = new Set(all.map((r) => r.target_id));
    for (let i = 0; i < writers; i++) expect(targets.has(`s-${2000 + i}`)).toBe(!failing.has(i));
    expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: true, checked: all.length });
  });

  it('lets a transaction append several records at once while others wait their turn, without a deadlock', async () => {
    // A group commit appends the records of all its writes into one transaction at once. Another
    // transaction may take its turn first: the group's later appends must then wait for its
    // first, not send a move of the head that takes the lock the other transaction waits for
    // while the first waits for that transaction's turn.
    const before = (await rows()).length;
    for (let round = 0; round < 20; round++) {
      const others = Array.from({ length: 3 }, (_, i) =>
        inTransaction(fx.database, (tx) => fx.auditLog.append(tx, entry(3000 + round * 10 + i))),
      );
      const group = inTransaction(fx.database, (tx) =>
        Promise.all([0, 1, 2].map((i) => fx.auditLog.append(tx, entry(3005 + round * 10 + i)))),
      );
      await Promise.all([...others, group]);
    }
    const all = await rows();
    expect(all.length).toBe(before + 20 * 6);
    expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
    expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: true, checked: all.length });
  }, 20_000);

  it('keeps both of two identical records that two servers append at the same instant', async () => {
    // Same entry, same clock, same predecessor: the same seq and hash. The second must chain
    // after the first, not take it for its own (the clock here is fixed).
    const handles = fx.database.features.forUpdate ? [await openDatabase(fx.testDb.url)] : [];
    try {
      const logs = [fx.database, ...handles].map((database) => ({
        database,
        log: createAuditLog({ database, clock: fx.time.clock }),
      }));
      await logs[0]!.log.appendStandalone(entry(3000));
      await logs.at(-1)!.log.appendStandalone(entry(3000));
      const before = (await rows()).length;
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          logs.flatMap(({ database, log }) => [
            log.appendStandalone(entry(3001)),
            inTransaction(database, (tx) => log.append(tx, entry(3002))),
          ]),
        );
      }
      const all = await rows();
      expect(all.length).toBe(before + 5 * 2 * logs.length);
      expect(all.map((r) => Number(r.seq))).toEqual(all.map((_, i) => i + 1));
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: true, checked: all.length });
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('creates the head on a database where nothing was audited yet, once, under concurrency', async () => {
    await fx.database.db.deleteFrom('audit_log').execute();
    await fx.database.db.deleteFrom('audit_head').execute();
    const handles = fx.database.features.forUpdate ? [await openDatabase(fx.testDb.url)] : [];
    try {
      const logs = [fx.database, ...handles].map((database) =>
        createAuditLog({ database, clock: fx.time.clock }),
      );
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => logs[i % logs.length]!.appendStandalone(entry(i))),
      );
      const all = await rows();
      expect(all.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await fx.audit.verify(fx.admin.actor)).toMatchObject({ ok: true, checked: 10 });
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });
});
