import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Coffer } from '../coffer.js';
import { isCofferError } from '../errors/coffer-error.js';
import { asToken } from '../identity/actor.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import type { SecretEvent } from './event-types.js';

/** Two engines on one database stand for two servers: what one changes, the other hears. */
await describeEachDialect('change events across servers', (dialect) => {
  let fx: CofferFixture;
  let a: Coffer;
  let b: Coffer;

  beforeAll(async () => {
    // A long cache lifetime, so only the events can explain a cache dropping what it knew.
    fx = await createCofferFixture(dialect, { identityCacheSeconds: 300, events: { pollIntervalMs: 50 } });
    a = fx.coffer;
    b = await fx.reopen();
  });
  afterAll(() => fx?.close());

  it("hands one server's changes to the other's subscribers, in order and without values", async () => {
    const seen: SecretEvent[] = [];
    const off = b.events.subscribe((e) => seen.push(e));
    const s = await a.secrets.create(fx.admin.actor, {
      name: 'feed-one',
      kind: 'api-token',
      values: { token: 'planted-feed-value-1' },
    });
    await a.secrets.update(fx.admin.actor, s.id, { values: { token: 'planted-feed-value-2' } });
    await a.secrets.rename(fx.admin.actor, s.id, 'feed-renamed');
    const member = await fx.member('feed-member');
    await a.shares.share(fx.admin.actor, s.id, { granteeType: 'user', granteeId: member.id });
    await a.secrets.delete(fx.admin.actor, s.id);
    await b.events.sync();
    off();
    expect(seen.map((e) => [e.type, e.name, e.version])).toEqual([
      ['secret.created', 'feed-one', 1],
      ['secret.updated', 'feed-one', 2],
      ['secret.renamed', 'feed-renamed', 2],
      ['secret.shared', 'feed-renamed', 2],
      ['secret.deleted', 'feed-renamed', 2],
    ]);
    expect(
      seen.every((e) => e.secretId === s.id && e.actorId === fx.admin.id && e.ownerId === fx.admin.id),
    ).toBe(true);
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(JSON.stringify(seen)).not.toContain('planted-feed-value');
  });

  it('resumes after a cursor: what was missed first, then live, each once', async () => {
    await b.events.sync();
    const cursor = b.events.cursor();
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push(
        await a.secrets.create(fx.admin.actor, {
          name: `feed-missed-${i}`,
          kind: 'generic',
          values: { v: `${i}` },
        }),
      );
    }
    await b.events.sync();
    const seen: SecretEvent[] = [];
    const off = b.events.subscribe((e) => seen.push(e), { after: cursor });
    await a.secrets.create(fx.admin.actor, { name: 'feed-live', kind: 'generic', values: { v: 'x' } });
    await vi.waitFor(() => expect(seen.map((e) => e.name)).toContain('feed-live'), { timeout: 5000 });
    off();
    expect(seen.map((e) => e.name)).toEqual(['feed-missed-0', 'feed-missed-1', 'feed-missed-2', 'feed-live']);
  });

  it('tells a subscriber resuming from before what retention kept that it missed events', async () => {
    await b.events.sync();
    const old = b.events.cursor();
    await a.secrets.create(fx.admin.actor, { name: 'feed-pruned', kind: 'generic', values: { v: '1' } });
    fx.time.advance(200 * 3600);
    expect((await a.maintenance.pruneEvents()).pruned).toBeGreaterThan(0);
    const gaps: unknown[] = [];
    const seen: SecretEvent[] = [];
    const off = b.events.subscribe((e) => seen.push(e), { after: old, onGap: (g) => gaps.push(g) });
    await vi.waitFor(() => expect(gaps).toHaveLength(1));
    off();
    expect(seen.map((e) => e.name)).not.toContain('feed-pruned');
  });

  it('drops what a server remembers of a token, a user or a membership when another server changes it', async () => {
    const bot = await fx.bot('feed-bot', 'read-write');
    const { token } = await a.identity.createToken(fx.admin.actor, {
      userId: bot.id,
      name: 'feed',
      scope: 'read-write',
    });
    const secret = await a.secrets.create(fx.admin.actor, {
      name: 'feed-shared',
      kind: 'generic',
      values: { v: '1' },
    });
    const team = await fx.group('feed-team', [{ id: bot.id, actor: bot.actor }]);
    await a.shares.share(fx.admin.actor, secret.id, {
      granteeType: 'group',
      granteeId: team.id,
      level: 'read',
    });

    // B authenticates the token and resolves the bot: both now cached on B.
    const onB = await b.identity.authenticateToken(token);
    expect((await b.secrets.readValues(onB, secret.id, { reveal: true })).values.v).toBe('1');

    // A removes the bot from the group: B refuses the read once the event arrived.
    await a.identity.removeGroupMember(fx.admin.actor, team.id, bot.id);
    await vi.waitFor(
      async () => {
        const outcome = await b.secrets.readValues(onB, secret.id, { reveal: true }).catch((e: unknown) => e);
        expect(isCofferError(outcome, 'not_found') || isCofferError(outcome, 'forbidden')).toBe(true);
      },
      { timeout: 1000, interval: 20 },
    );

    // A revokes the token: B refuses it within a second.
    const tokens = await a.identity.listTokens(fx.admin.actor, { userId: bot.id });
    const feedToken = tokens.items.find((t) => t.name === 'feed')!;
    await a.identity.revokeToken(fx.admin.actor, feedToken.id);
    await vi.waitFor(
      async () => {
        const outcome = await b.identity.authenticateToken(token).catch((e: unknown) => e);
        expect(isCofferError(outcome, 'unauthenticated')).toBe(true);
      },
      { timeout: 1000, interval: 20 },
    );

    // A disables a user: B stops resolving them within a second.
    const ada = await fx.member('feed-ada');
    await b.identity.resolveActor(ada.actor);
    await a.identity.updateUser(fx.admin.actor, ada.id, { disabled: true });
    await vi.waitFor(
      async () => {
        const outcome = await b.identity.resolveActor(ada.actor).catch((e: unknown) => e);
        expect(isCofferError(outcome, 'unauthenticated')).toBe(true);
      },
      { timeout: 1000, interval: 20 },
    );
    // the token actor B resolved earlier is refused too (its cache entry went with the rest)
    await expect(b.identity.resolveActor(asToken(feedToken.id))).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });
});

/**
 * On PostgreSQL another server's change arrives by NOTIFY, long before any poll. The
 * notification names the event's `seq`: a server skips the read when it already has that event
 * (its own commits), and must still read another server's.
 */
await describeEachDialect('change events by notification', (dialect) => {
  let fx: CofferFixture;
  let a: Coffer;
  let b: Coffer;

  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { events: { pollIntervalMs: 60_000 } });
    a = fx.coffer;
    b = await fx.reopen();
  });
  afterAll(() => fx?.close());

  it("reaches the other server without a poll, and each server's own subscribers too", async () => {
    if (dialect !== 'postgres') return; // no notifications elsewhere: they poll
    const onB: SecretEvent[] = [];
    const onA: SecretEvent[] = [];
    const offB = b.events.subscribe((e) => onB.push(e));
    const offA = a.events.subscribe((e) => onA.push(e));
    for (let i = 0; i < 3; i++) {
      await a.secrets.create(fx.admin.actor, {
        name: `notified-${i}`,
        kind: 'api-token',
        values: { token: 't' },
      });
    }
    await b.secrets.create(fx.admin.actor, {
      name: 'notified-from-b',
      kind: 'api-token',
      values: { token: 't' },
    });
    const names = ['notified-0', 'notified-1', 'notified-2', 'notified-from-b'];
    await vi.waitFor(() => {
      expect(onB.map((e) => e.name)).toEqual(names);
      expect(onA.map((e) => e.name)).toEqual(names);
    }, 10_000);
    offA();
    offB();
  });
});

/**
 * A server's own writes reach its subscribers through the wake each write gives the feed after
 * its commit, not through a poll (none runs within this test) or a notification (none on
 * SQLite and MariaDB).
 */
await describeEachDialect('change events of local writes', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { events: { pollIntervalMs: 60_000 } });
  });
  afterAll(() => fx?.close());

  it('hands its own concurrent writes to its subscribers at once, without a poll', async () => {
    // Writes in flight together commit together, and each wakes the feed after the commit.
    // Nothing polls within this test, so every event must come from those wakes.
    const heard: SecretEvent[] = [];
    const off = fx.coffer.events.subscribe((e) => heard.push(e));
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fx.coffer.secrets.create(fx.admin.actor, {
          name: `woken-${i}`,
          kind: 'api-token',
          values: { token: 't' },
        }),
      ),
    );
    await Promise.all(
      created
        .slice(0, 5)
        .map((c) => fx.coffer.secrets.update(fx.admin.actor, c.id, { values: { token: 'u' } })),
    );
    await vi.waitFor(() => {
      expect(heard.filter((e) => e.type === 'secret.created')).toHaveLength(20);
      expect(heard.filter((e) => e.type === 'secret.updated')).toHaveLength(5);
    }, 3_000);
    // In `seq` order, each once.
    const seqs = heard.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    off();
  });
});
