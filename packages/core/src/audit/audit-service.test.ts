import { afterAll, beforeAll, expect, it } from 'vitest';
import { asGroup, asToken } from '../identity/actor.js';
import { createIdentityFixture, type IdentityFixture } from '../identity/test-support/identity-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import type { AuditEntry, AuditRecord } from './audit-types.js';

const reveal = (n: number, actorId: string, outcome: AuditEntry['outcome'] = 'success'): AuditEntry => ({
  action: 'secret.reveal',
  outcome,
  actor: { type: 'user', id: actorId, name: actorId },
  source: 'api',
  target: { type: 'secret', id: `secret-${n % 3}`, name: `s${n % 3}` },
  details: { n },
});

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

await describeEachDialect('audit service', (dialect) => {
  let fx: IdentityFixture;
  let member: Awaited<ReturnType<IdentityFixture['member']>>;
  let startedAt: string;
  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
    member = await fx.member('mia');
    startedAt = fx.time.clock().toISOString();
    for (let i = 0; i < 30; i++) {
      fx.time.advance(1);
      await fx.auditLog.appendStandalone(
        reveal(i, i % 2 === 0 ? 'even' : 'odd', i % 5 === 0 ? 'denied' : 'success'),
      );
    }
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('pages through records newest first by seq', async () => {
    const seen: AuditRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await fx.audit.query(fx.admin.actor, { action: 'secret.reveal', limit: 7, cursor });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.length).toBe(30);
    const seqs = seen.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(30);
    expect(seen[0]!.details).toEqual({ n: 29 });
  });

  it('filters by actor, target, action, outcome and time', async () => {
    const even = await fx.audit.query(fx.admin.actor, { actorId: 'even', limit: 100 });
    expect(even.items.length).toBe(15);
    expect(even.items.every((r) => r.actor.id === 'even')).toBe(true);

    const target = await fx.audit.query(fx.admin.actor, { targetId: 'secret-1', limit: 100 });
    expect(target.items.length).toBe(10);

    const denied = await fx.audit.query(fx.admin.actor, { action: 'secret.reveal', outcome: 'denied' });
    expect(denied.items.map((r) => r.details.n)).toEqual([25, 20, 15, 10, 5, 0]);

    const from = new Date(Date.parse(startedAt) + 11_000).toISOString();
    const to = new Date(Date.parse(startedAt) + 21_000);
    const window = await fx.audit.query(fx.admin.actor, { action: 'secret.reveal', from, to });
    expect(window.items.map((r) => r.details.n)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);

    const combined = await fx.audit.query(fx.admin.actor, {
      actorId: 'odd',
      targetId: 'secret-0',
      outcome: 'denied',
    });
    expect(combined.items.map((r) => r.details.n)).toEqual([15]);

    const logins = await fx.audit.query(fx.admin.actor, { action: 'auth.login' });
    expect(logins.items[0]).toMatchObject({ actor: { id: fx.admin.id, name: 'admin' }, outcome: 'success' });
  });

  it('rejects bad filters and cursors', async () => {
    await expect(fx.audit.query(fx.admin.actor, { from: 'yesterday' })).rejects.toMatchObject({
      code: 'validation',
    });
    await expect(fx.audit.query(fx.admin.actor, { cursor: 'nonsense' })).rejects.toMatchObject({
      code: 'validation',
    });
    await expect(fx.audit.query(fx.admin.actor, { limit: 0 })).rejects.toMatchObject({ code: 'validation' });
    await expect(
      fx.audit.query(fx.admin.actor, { action: 'secret.nope' as AuditEntry['action'] }),
    ).rejects.toMatchObject({ code: 'validation' });
  });

  it('lets only admins query, verify and export, and records refused attempts', async () => {
    const bot = await fx.serviceAccount('audit-bot');
    const system = asGroup(await fx.identity.systemGroupId());
    for (const actor of [member.actor, bot.actor, system]) {
      await expect(fx.audit.query(actor)).rejects.toMatchObject({ code: 'forbidden' });
      await expect(fx.audit.verify(actor)).rejects.toMatchObject({ code: 'forbidden' });
      await expect(collect(fx.audit.export(actor))).rejects.toMatchObject({ code: 'forbidden' });
    }
    const refused = await fx.audit.query(fx.admin.actor, { actorId: member.id, outcome: 'denied' });
    expect(refused.items.map((r) => r.action).sort()).toEqual(['audit.export', 'audit.verify']);

    await fx.identity.disableUser(fx.admin.actor, member.id);
    await expect(fx.audit.query(member.actor)).rejects.toMatchObject({ code: 'unauthenticated' });
    await fx.identity.enableUser(fx.admin.actor, member.id);

    // A read-only admin token may read the log.
    const { info } = await fx.identity.createToken(fx.admin.actor, { name: 'auditor', scope: 'read-only' });
    const viaToken = await fx.audit.query(asToken(info.id), { limit: 1 });
    expect(viaToken.items.length).toBe(1);
  });

  it('records each verification with its result', async () => {
    const result = await fx.audit.verify(fx.admin.actor);
    expect(result.ok).toBe(true);
    const [record] = (await fx.audit.query(fx.admin.actor, { action: 'audit.verify', limit: 1 })).items;
    expect(record).toMatchObject({
      actor: { id: fx.admin.id },
      outcome: 'success',
      details: { ok: true, checked: result.checked },
    });
  });

  it('exports matching records oldest first as JSON lines and records the export', async () => {
    const lines = await collect(
      fx.audit.export(fx.admin.actor, { action: 'secret.reveal', outcome: 'denied' }),
    );
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    const records = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(records.map((r) => r.details.n)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(records[0]).toHaveProperty('hash');
    expect(records[0]).toHaveProperty('prevHash');

    const all = await collect(fx.audit.export(fx.admin.actor));
    const seqs = all.map((l) => (JSON.parse(l) as AuditRecord).seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const [exported] = (await fx.audit.query(fx.admin.actor, { action: 'audit.export', limit: 1 })).items;
    expect(exported).toMatchObject({ outcome: 'success', actor: { id: fx.admin.id } });
    // The export's own record is not part of what it exported.
    expect(seqs.at(-1)).toBe(exported!.seq - 1);
  });

  it('pages a time range alone by time, newest first, with no record twice or missed', async () => {
    // Three more records in the same millisecond: the time ties, the sequence decides.
    const tied: number[] = [];
    for (let i = 0; i < 3; i++) {
      tied.push(
        (await fx.auditLog.appendStandalone({ ...reveal(100 + i, 'tie'), action: 'secret.read' })).seq,
      );
    }
    const from = new Date(Date.parse(startedAt) + 6_000).toISOString();
    const to = new Date(fx.time.clock().getTime() + 1);
    const seen: AuditRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await fx.audit.query(fx.admin.actor, { from, to, limit: 4, cursor });
      expect(page.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    // The export reads the same range by sequence, oldest first, and stops before its own record.
    const expected = (await collect(fx.audit.export(fx.admin.actor, { from, to })))
      .map((l) => JSON.parse(l) as AuditRecord)
      .reverse();
    expect(seen.map((r) => r.seq)).toEqual(expected.map((r) => r.seq));
    expect(seen.slice(0, 3).map((r) => r.seq)).toEqual([...tied].reverse());
    expect(seen.at(-1)!.details).toEqual({ n: 5 });

    // A cursor belongs to its filter: one made by a page by sequence is refused here.
    const bySeq = await fx.audit.query(fx.admin.actor, { action: 'secret.reveal', limit: 1 });
    await expect(
      fx.audit.query(fx.admin.actor, { from, to, cursor: bySeq.nextCursor }),
    ).rejects.toMatchObject({ code: 'validation' });
  });
});
