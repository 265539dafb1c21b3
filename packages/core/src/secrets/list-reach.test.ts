import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccessLevel } from '../access/access-level.js';
import type { ResolvedActor } from '../identity/actor.js';
import { dueRows } from '../reminders/reminder-store.js';
import type { CofferDatabase } from '../storage/database.js';
import { openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrator.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import { secretRow } from '../test-support/secret-rows.js';
import { ReachMemory, reachKey } from './reach-memory.js';
import { type ListQuery, labelsOf, listSecrets, sharesOf } from './secret-store.js';

// A list for someone who is not an admin reads it one of two ways (listSecrets): the few
// secrets within the actor's reach, sorted, or every name in order, keeping those within
// reach. Both must list exactly the same secrets, page after page, for every filter.

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const mia = id(900_001);
const other = id(900_002);
const [ops, dev, sales] = [id(900_011), id(900_012), id(900_013)];
const now = '2026-12-06T00:00:00.000Z';
const count = 72;

/** Who holds secret i, and how (one rule per residue, so every case is there several times). */
function holdingOf(i: number): {
  owner: string;
  shares: [type: 'user' | 'group', to: string, AccessLevel][];
} {
  const shares: [type: 'user' | 'group', to: string, AccessLevel][] = [];
  const kind = i % 6;
  if (kind === 1) shares.push(['user', mia, 'read']);
  if (kind === 2) shares.push(['group', ops, 'write']);
  if (kind === 3) shares.push(['user', mia, 'use']);
  if (kind === 4) shares.push(['group', sales, 'read']);
  // Owned and shared again: listed once.
  if (i % 12 === 0) shares.push(['group', dev, 'manage']);
  return { owner: kind === 0 ? mia : other, shares };
}

/** Two secrets in three carry labels of their own; the third none. */
const labelsOfSecret = (i: number): Record<string, string> =>
  i % 3 === 0 ? {} : { n: String(i), ...(i % 2 === 0 ? { even: 'yes' } : {}) };
const nameOf = (i: number) => `s-${String(i).padStart(3, '0')}`;
const deleted = (i: number) => i % 10 === 7;
const kindOf = (i: number) => (i % 4 === 0 ? 'generic' : 'api-token');
/** Two secrets in three are due, on one of 28 days. */
const dueAt = (i: number) =>
  i % 3 === 2 ? null : `2026-12-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z`;

await describeEachDialect('lists for someone who is not an admin', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
    await migrateToLatest(database);
    for (let i = 0; i < count; i++) {
      const { owner, shares } = holdingOf(i);
      await database.db
        .insertInto('secrets')
        .values(
          secretRow(id(i), owner, nameOf(i), now, {
            live_name: deleted(i) ? null : nameOf(i),
            kind: kindOf(i),
            deleted_at: deleted(i) ? now : null,
            due_at: dueAt(i),
          }),
        )
        .execute();
      for (const [type, to, level] of shares) {
        await database.db
          .insertInto('shares')
          .values({
            secret_id: id(i),
            grantee_type: type,
            grantee_id: to,
            level,
            created_at: now,
            created_by: owner,
          })
          .execute();
      }
      const labels = labelsOfSecret(i);
      for (const [name, value] of Object.entries(labels)) {
        await database.db
          .insertInto('secret_labels')
          .values({ secret_id: id(i), name, value })
          .execute();
      }
    }
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const person: ResolvedActor = {
    type: 'user',
    id: mia,
    name: 'mia',
    role: 'member',
    groupIds: [ops, dev],
    scope: 'read-write',
    source: 'api',
  };
  const group: ResolvedActor = {
    ...person,
    type: 'group',
    id: ops,
    name: 'ops',
    role: null,
    groupIds: [ops],
  };

  /** What the actor may list, worked out here from the rules above. */
  function expected(actor: ResolvedActor, q: Omit<ListQuery, 'actor' | 'features' | 'limit'>): string[] {
    const levels: AccessLevel[] =
      q.minimumShareLevel === 'use' ? ['use', 'read', 'write', 'manage'] : ['read', 'write', 'manage'];
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const { owner, shares } = holdingOf(i);
      const owns = actor.type !== 'group' && owner === actor.id;
      const shared = shares.some(
        ([type, to, level]) =>
          levels.includes(level) &&
          ((type === 'user' && actor.type !== 'group' && to === actor.id) ||
            (type === 'group' && actor.groupIds.includes(to))),
      );
      if (!owns && !shared) continue;
      if (q.state === 'live' && deleted(i)) continue;
      if (q.state === 'deleted' && !deleted(i)) continue;
      if (q.kind !== undefined && kindOf(i) !== q.kind) continue;
      if (q.namePrefix !== undefined && !nameOf(i).startsWith(q.namePrefix)) continue;
      names.push(nameOf(i));
    }
    return names;
  }

  /** Every page, 7 at a time, following the cursor. */
  async function pages(
    actor: ResolvedActor,
    q: Omit<ListQuery, 'actor' | 'features' | 'limit'>,
    reachLimit: number,
    reachMemory?: ReachMemory,
  ) {
    const names: string[] = [];
    let after: { name: string; id: string } | undefined;
    for (;;) {
      const rows = await listSecrets(database.db, {
        ...q,
        actor,
        ...(after === undefined ? {} : { after }),
        limit: 7,
        features: database.features,
        reachLimit,
        ...(reachMemory === undefined ? {} : { reachMemory }),
      });
      names.push(...rows.map((r) => r.name));
      if (rows.length < 7) return names;
      const last = rows.at(-1)!;
      after = { name: last.name, id: last.id };
    }
  }

  const filters: Omit<ListQuery, 'actor' | 'features' | 'limit'>[] = [
    { mine: false, minimumShareLevel: 'read', labels: [], state: 'live' },
    { mine: false, minimumShareLevel: 'use', labels: [], state: 'live' },
    { mine: false, minimumShareLevel: 'read', labels: [], state: 'deleted' },
    { mine: false, minimumShareLevel: 'read', labels: [], state: 'all', kind: 'generic' },
    { mine: false, minimumShareLevel: 'read', labels: [], state: 'live', namePrefix: 's-03' },
    { mine: true, minimumShareLevel: 'read', labels: [], state: 'all' },
  ];
  for (const [who, actor] of [
    ['a person', person],
    ['a group', group],
  ] as const) {
    it(`${who}: the few within reach, sorted, or every name walked, list the same`, async () => {
      for (const q of filters) {
        const want = expected(actor, q);
        const sorted = await pages(actor, q, 10_000);
        const walked = await pages(actor, q, 0);
        expect(sorted, JSON.stringify(q)).toEqual(want);
        expect(walked, JSON.stringify(q)).toEqual(want);
      }
      // The filters above are not all empty: each way was tested on something.
      expect(expected(actor, filters[0]!).length).toBeGreaterThan(10);
    });
  }

  it('a remembered decision, even a stale one, lists the same; the memory counts once', async () => {
    const q = filters[0]!;
    const want = expected(person, q);
    const levels: AccessLevel[] = ['read', 'write', 'manage'];
    for (const planted of [true, false]) {
      // Planted against what a count would decide: the other way, as after a share given or taken.
      const memory = new ReachMemory();
      memory.remember(reachKey(person, levels, planted ? 0 : 10_000), planted);
      expect(await pages(person, q, planted ? 0 : 10_000, memory), `planted ${planted}`).toEqual(want);
    }
    const memory = new ReachMemory();
    expect(await pages(person, q, 10_000, memory)).toEqual(want);
    expect(memory.recall(reachKey(person, levels, 10_000))).toBe(true);
    expect(memory.recall(reachKey(person, levels, 0))).toBeUndefined();
  });

  it("a page's shares and labels, of any number of secrets, padded or not (paddedIn)", async () => {
    const ids = Array.from({ length: count }, (_, i) => id(i));
    for (const n of [1, 2, 3, 5, 17, 64, count, 300]) {
      // 300: more than the longest padded list, so read as one list of its own.
      const asked = Array.from({ length: n }, (_, k) => ids[k % count]!);
      const found = await sharesOf(database.db, asked);
      for (const secretId of new Set(asked)) {
        const want = holdingOf(Number(secretId.slice(-12))).shares.map(([type, to, level]) => ({
          granteeType: type,
          granteeId: to,
          level,
        }));
        const got = found.get(secretId)!;
        expect(got, `${n}: ${secretId}`).toHaveLength(want.length);
        expect(got, `${n}: ${secretId}`).toEqual(expect.arrayContaining(want));
      }
      // The labels of the same page: each secret its own, none of the padding's.
      const labels = await labelsOf(database.db, [...new Set(asked)]);
      expect(labels.size, `${n}`).toBe(new Set(asked).size);
      for (const secretId of new Set(asked)) {
        expect(labels.get(secretId), `${n}: ${secretId}`).toEqual(
          labelsOfSecret(Number(secretId.slice(-12))),
        );
      }
    }
  });

  it('the due list: the few within reach, sorted, or every due secret walked, list the same', async () => {
    const horizon = '2026-12-20T00:00:00.000Z';
    const want: string[] = [];
    for (let i = 0; i < count; i++) {
      const { owner, shares } = holdingOf(i);
      const reads = shares.some(
        ([type, to, level]) =>
          level !== 'use' &&
          ((type === 'user' && to === mia) || (type === 'group' && person.groupIds.includes(to))),
      );
      const due = dueAt(i);
      if ((owner === mia || reads) && !deleted(i) && due !== null && due <= horizon) want.push(id(i));
    }
    want.sort((a, b) => {
      const [da, db] = [dueAt(Number(a.slice(-12)))!, dueAt(Number(b.slice(-12)))!];
      return da < db ? -1 : da > db ? 1 : a < b ? -1 : 1;
    });
    expect(want.length).toBeGreaterThan(5);
    for (const reachLimit of [10_000, 0]) {
      const found: string[] = [];
      let after: { dueAt: string; id: string } | undefined;
      for (;;) {
        const rows = await dueRows(database.db, {
          actor: person,
          mine: false,
          now,
          horizon,
          ...(after === undefined ? {} : { after }),
          limit: 5,
          features: database.features,
          reachLimit,
        });
        found.push(...rows.map((r) => r.id));
        if (rows.length < 5) break;
        after = { dueAt: rows.at(-1)!.due_at!, id: rows.at(-1)!.id };
      }
      expect(found, `reachLimit ${reachLimit}`).toEqual(want);
    }
  });
});
