import { CompiledQuery, type KyselyPlugin, type RootOperationNode, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditPage, normalizeFilter } from '../audit/audit-pages.js';
import type { ResolvedActor } from '../identity/actor.js';
import { tokensOfUser } from '../identity/token-store.js';
import { dueCandidates, dueRows } from '../reminders/reminder-store.js';
import { listSecrets, type Queryable } from '../secrets/secret-store.js';
import { linksOfSecret } from '../share-links/share-link-store.js';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../test-support/databases.js';
import { secretRow } from '../test-support/secret-rows.js';
import { type CofferDatabase, openDatabase } from './database.js';
import { migrateToLatest } from './migrator.js';

// A page after a keyset cursor must start at the cursor: the database seeks the index to it.
// The plain `a > x or (a = x and b > y)` let SQLite and PostgreSQL read the index from its
// first entry and filter, so a page deep in a large list cost time in proportion to its depth
// (docs/performance.md, "Deep pages"). Each paged query here runs with a cursor against a
// table of a few thousand rows, and its plan must seek: SQLite's plan says SEARCH on the
// index, PostgreSQL's has an Index Cond on its first column, MySQL's is a range of the index.

const rows = 3000;
const owner = '00000000-0000-4000-8000-000000000001';
const secretId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const admin: ResolvedActor = {
  type: 'user',
  id: owner,
  name: 'admin',
  role: 'admin',
  groupIds: [],
  scope: 'read-write',
  source: 'api',
};

/** Runs `query` on a database handle that keeps the operation tree of every statement. */
async function statementsOf(database: CofferDatabase, query: (db: Queryable) => Promise<unknown>) {
  const nodes: RootOperationNode[] = [];
  const capture: KyselyPlugin = {
    transformQuery: ({ node }) => {
      nodes.push(node);
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  await query(database.db.withPlugin(capture));
  const executor = database.db.getExecutor();
  return nodes.map((node, i) => executor.compileQuery(node, { queryId: `keyset-${i}` }));
}

/** How the database reads `table` for `query`, as one line, and whether that is a seek of `index`. */
async function planOf(
  database: CofferDatabase,
  query: CompiledQuery,
  table: string,
  index: string,
  firstColumn: string,
  order: 'asc' | 'desc',
  sortsTies = false,
): Promise<{ plan: string; seeks: boolean }> {
  // The seek must start at the cursor: a bound on the first column on the cursor's side
  // (a horizon on the other side, as the reminder queries have, does not count).
  const fromCursor = order === 'asc' ? '>' : '<';
  if (database.dialect === 'sqlite') {
    const result = await database.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
    );
    const plan = result.rows.map((r) => r.detail).join(' | ');
    const line = result.rows.find((r) => r.detail.includes(` ${table} `))?.detail ?? '';
    // `name>?`, or as a row value `(name,id)>(?,?)`.
    const seek = new RegExp(
      `^SEARCH ${table} USING INDEX ${index} \\(.*\\b${firstColumn}(,\\w+\\))?${fromCursor}`,
    );
    // And no sort of everything the range holds before the first row comes out.
    // (With `sortsTies`, rows of one name may be sorted by id as they come: LAST TERM.)
    const sorted = sortsTies
      ? plan.includes('TEMP B-TREE FOR ORDER BY') || plan.includes('TEMP B-TREE FOR RIGHT')
      : plan.includes('TEMP B-TREE');
    return { plan, seeks: seek.test(line) && !sorted };
  }
  if (database.dialect === 'postgres') {
    // On a table this small a sequential scan and a sort may win on cost; switched off, the
    // planner must show what it does with the index.
    return database.db.transaction().execute(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx);
      await sql`set local enable_bitmapscan = off`.execute(tx);
      const result = await tx.executeQuery<{ 'QUERY PLAN': unknown }>(
        CompiledQuery.raw(`explain (format json) ${query.sql}`, [...query.parameters]),
      );
      const plan = JSON.stringify(result.rows[0]!['QUERY PLAN']);
      const scans: {
        'Node Type'?: string;
        'Relation Name'?: string;
        'Index Name'?: string;
        'Index Cond'?: string;
      }[] = [];
      const walk = (node: Record<string, unknown>) => {
        scans.push(node);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((JSON.parse(plan) as { Plan: Record<string, unknown> }[])[0]!.Plan);
      const scan = scans.find((s) => s['Relation Name'] === table);
      // `(name)::text >= ...`, or as a row value `ROW((name)::text, id) > ROW(...)`.
      // `seq < ...` has no cast, so no parenthesis after the column.
      const seek = new RegExp(`\\b${firstColumn}\\)?(::\\w+)?(, \\w+(::\\w+)?\\))? ${fromCursor}`);
      const sorts = scans.some(
        (s) =>
          (s['Node Type'] ?? '').endsWith('Sort') && !(sortsTies && s['Node Type'] === 'Incremental Sort'),
      );
      return {
        plan,
        seeks: scan?.['Index Name'] === index && seek.test(scan['Index Cond'] ?? '') && !sorts,
      };
    });
  }
  const result = await database.db.executeQuery<{ EXPLAIN: string }>(
    CompiledQuery.raw(`explain format=json ${query.sql}`, [...query.parameters]),
  );
  const plan = result.rows[0]!.EXPLAIN;
  const tables: { table_name?: string; access_type?: string; key?: string }[] = [];
  JSON.stringify(JSON.parse(plan), (key, value) => {
    if (key === 'table') tables.push(value);
    return value;
  });
  const read = tables.find((t) => t.table_name === table) as
    | { access_type?: string; key?: string; used_key_parts?: string[] }
    | undefined;
  return {
    plan,
    seeks:
      read?.access_type === 'range' &&
      read.key === index &&
      (read.used_key_parts ?? []).includes(firstColumn),
  };
}

await describeEachDialect('keyset pages seek their index', (dialect) => {
  let testDb: TestDatabase;
  let database: CofferDatabase;
  const now = '2026-12-06T00:00:00.000Z';
  const nameOf = (i: number) => `secret-${String(i).padStart(6, '0')}`;
  /** The time of audit record `seq`: one a minute. */
  const atOf = (seq: number) => new Date(Date.parse(now) + seq * 60_000).toISOString();
  const dueOf = (i: number) => `2026-12-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z`;

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    database = await openDatabase(testDb.url);
    await migrateToLatest(database);
    for (let from = 0; from < rows; from += 500) {
      await database.db
        .insertInto('secrets')
        .values(
          Array.from({ length: 500 }, (_, k) => {
            const i = from + k;
            // One secret in ten is of another kind, for the list filtered by kind.
            return secretRow(secretId(i), owner, nameOf(i), now, {
              expires_at: dueOf(i),
              due_at: dueOf(i),
              ...(i % 10 === 5 ? { kind: 'database' } : {}),
            });
          }),
        )
        .execute();
      await database.db
        .insertInto('share_links')
        .values(
          Array.from({ length: 500 }, (_, k) => ({
            id: secretId(from + k),
            secret_id: secretId(0),
            secret_name: nameOf(0),
            secret_kind: 'api-token',
            created_by: owner,
            created_by_name: 'admin',
            fields: '[]',
            created_at: new Date(Date.parse(now) + from + k).toISOString(),
            expires_at: '2027-01-01T00:00:00.000Z',
            max_views: 1,
            views: 0,
            failed_attempts: 0,
            passphrase: 0,
            kdf: '',
            key_check: '0'.repeat(64),
          })),
        )
        .execute();
      await database.db
        .insertInto('api_tokens')
        .values(
          Array.from({ length: 500 }, (_, k) => ({
            id: secretId(from + k),
            user_id: owner,
            name: `token-${from + k}`,
            token_hash: String(from + k).padStart(64, '0'),
            prefix: 'cft_',
            scope: 'read-write',
            created_at: new Date(Date.parse(now) + from + k).toISOString(),
          })),
        )
        .execute();
      await database.db
        .insertInto('audit_log')
        .values(
          Array.from({ length: 500 }, (_, k) => ({
            seq: from + k + 1,
            at: atOf(from + k + 1),
            actor_type: 'user',
            // One record in 20 is by the admin, a reveal, of secret 0: the filtered pages below
            // pick 5% of the log, as a filter by one actor, target or action would in a large one.
            actor_id: (from + k) % 20 === 0 ? owner : secretId(10_000 + from + k),
            target_type: 'secret',
            target_id: secretId((from + k) % 20 === 0 ? 0 : 10_000 + from + k),
            action: (from + k) % 20 === 0 ? 'secret.reveal' : 'secret.read',
            outcome: 'success',
            source: 'api',
            details: '{}',
            prev_hash: '0'.repeat(64),
            hash: '0'.repeat(64),
          })),
        )
        .execute();
    }
    if (dialect === 'sqlite') await sql`analyze`.execute(database.db);
    if (dialect === 'postgres') await sql`analyze`.execute(database.db);
    if (dialect === 'mysql') {
      await sql`analyze table secrets, share_links, api_tokens, audit_log`.execute(database.db);
    }
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const deep = { name: nameOf(2000), id: secretId(2000) };
  /** An admin's page of live secrets, 101 after `after`, as the engine's listing asks for it. */
  const secretsPage = (
    db: Queryable,
    after: { name: string; id: string },
    namePrefix?: string,
    kind?: string,
  ) =>
    listSecrets(db, {
      actor: admin,
      mine: false,
      minimumShareLevel: 'read',
      labels: [],
      ...(namePrefix === undefined ? {} : { namePrefix }),
      ...(kind === undefined ? {} : { kind }),
      state: 'live',
      after,
      limit: 101,
      features: database.features,
    });
  const secretsCase = { table: 'secrets', index: 'secrets_name', firstColumn: 'name', order: 'asc' } as const;
  const cases: {
    what: string;
    table: string;
    index: string;
    firstColumn: string;
    order: 'asc' | 'desc';
    /** Dialects whose plan is not asserted, and why. */
    planNotAsserted?: { dialect: string; why: string };
    /** The index ends before the order's last column: rows equal up to it are sorted as they come. */
    sortsTies?: true;
    run: (db: Queryable) => Promise<unknown[]>;
    expectFirst: (found: unknown[]) => void;
  }[] = [
    {
      what: 'the secrets list',
      ...secretsCase,
      run: (db) => secretsPage(db, deep),
      expectFirst: (found) => expect((found[0] as { name: string }).name).toBe(nameOf(2001)),
    },
    {
      // With a prefix the query has an upper bound on name too. At 1,000,000 secrets, after
      // ANALYZE, SQLite sorted a skip-scan of secrets_kind for the spelled-out condition; that
      // choice needs the statistics of a large table, so bench/list-scale.bench.js's deep
      // walks within a prefix are what show it. Here the plan must seek all the same.
      what: 'the secrets list within a name prefix',
      ...secretsCase,
      run: (db) => secretsPage(db, deep, 'secret-'),
      expectFirst: (found) => expect((found[0] as { name: string }).name).toBe(nameOf(2001)),
    },
    {
      // A cursor from before the prefix (another listing's) starts the page at the prefix.
      what: 'the secrets list within a name prefix, after a cursor before it',
      ...secretsCase,
      run: (db) => secretsPage(db, { name: nameOf(10), id: secretId(10) }, 'secret-002'),
      expectFirst: (found) => expect((found[0] as { name: string }).name).toBe(nameOf(2000)),
    },
    {
      // secrets_kind is (kind, name): SQLite and PostgreSQL sort the rows of one name by id as
      // they come (live names are unique per owner, so such groups are a row or a few), where a
      // sort of the whole kind would fail. InnoDB's index ends in the primary key, id.
      what: 'the secrets list of one kind',
      table: 'secrets',
      index: 'secrets_kind',
      firstColumn: 'name',
      order: 'asc',
      sortsTies: true,
      run: (db) => secretsPage(db, { name: nameOf(1000), id: secretId(1000) }, undefined, 'database'),
      expectFirst: (found) => expect((found[0] as { name: string }).name).toBe(nameOf(1005)),
    },
    {
      what: "a secret's share links, newest first",
      table: 'share_links',
      index: 'share_links_secret',
      firstColumn: 'created_at',
      order: 'desc',
      planNotAsserted: {
        dialect: 'mysql',
        why: "MariaDB's optimizer picks the equality on secret_id (ref) over the range on created_at whatever the condition; a secret has few links",
      },
      run: (db) =>
        linksOfSecret(db, secretId(0), {
          after: { createdAt: new Date(Date.parse(now) + 1000).toISOString(), id: secretId(1000) },
          limit: 101,
          features: database.features,
        }),
      expectFirst: (found) => expect((found[0] as { id: string }).id).toBe(secretId(999)),
    },
    {
      what: "a user's API tokens, newest first",
      table: 'api_tokens',
      index: 'api_tokens_user_created',
      firstColumn: 'created_at',
      order: 'desc',
      planNotAsserted: {
        dialect: 'mysql',
        why: 'as for share links, MariaDB picks the equality on user_id; a user has few tokens',
      },
      run: (db) =>
        tokensOfUser(db, {
          userId: owner,
          includeInactive: false,
          now,
          after: [new Date(Date.parse(now) + 1000).toISOString(), secretId(1000)],
          limit: 101,
          features: database.features,
        }),
      expectFirst: (found) => expect((found[0] as { id: string }).id).toBe(secretId(999)),
    },
    {
      // Newest first along audit_at: (at, seq) on every dialect (SQLite's index ends in the
      // rowid, InnoDB's in the primary key, PostgreSQL's has both since 0012).
      what: 'the audit log within a time range',
      table: 'audit_log',
      index: dialect === 'postgres' ? 'audit_at_seq' : 'audit_at',
      firstColumn: 'at',
      order: 'desc',
      run: async (db) => {
        const filter = normalizeFilter({ from: atOf(100), to: atOf(2900) });
        const first = await auditPage(db, database.features, filter, undefined, 100);
        expect(first.items[0]!.seq).toBe(2899);
        // The cursor of the page ending at 1001 (seq 1001 is the last of that page).
        const cursor = Buffer.from(JSON.stringify([atOf(1001), 1001])).toString('base64url');
        return (await auditPage(db, database.features, filter, cursor, 101)).items;
      },
      expectFirst: (found) => expect((found[0] as { seq: number }).seq).toBe(1000),
    },
    ...(
      [
        ['target', 'audit_target', { targetId: secretId(0) }],
        ['actor', 'audit_actor', { actorId: owner }],
        ['action', 'audit_action', { action: 'secret.reveal' }],
      ] as const
    ).map(([what, index, filter]) => ({
      // Filtered by one column, the page follows that column's index by seq.
      what: `the audit log of one ${what}`,
      table: 'audit_log',
      index,
      firstColumn: 'seq',
      order: 'desc' as const,
      run: async (db: Queryable) => {
        // Records 1, 21, 41, ... match; the page after 2901 starts at 2881.
        const cursor = Buffer.from(JSON.stringify([2901])).toString('base64url');
        return (await auditPage(db, database.features, normalizeFilter(filter), cursor, 101)).items;
      },
      expectFirst: (found: unknown[]) => expect((found[0] as { seq: number }).seq).toBe(2881),
    })),
    {
      what: 'the due secrets of the reminder job',
      table: 'secrets',
      index: 'secrets_due',
      firstColumn: 'due_at',
      order: 'asc',
      run: (db) =>
        dueCandidates(
          db,
          '2027-01-01T00:00:00.000Z',
          { dueAt: dueOf(13), id: secretId(13) },
          101,
          database.features,
        ),
      expectFirst: (found) => expect((found[0] as { row: { id: string } }).row.id).toBe(secretId(41)),
    },
    {
      what: 'the due secrets an admin lists',
      table: 'secrets',
      index: 'secrets_due',
      firstColumn: 'due_at',
      order: 'asc',
      run: (db) =>
        dueRows(db, {
          actor: admin,
          mine: false,
          now,
          horizon: '2027-01-01T00:00:00.000Z',
          after: { dueAt: dueOf(13), id: secretId(13) },
          limit: 101,
          features: database.features,
        }),
      expectFirst: (found) => expect((found[0] as { id: string }).id).toBe(secretId(41)),
    },
  ];

  for (const c of cases) {
    it(`${c.what}: the page after a cursor starts at the cursor`, async () => {
      let found: unknown[] = [];
      const statements = await statementsOf(database, async (db) => {
        found = await c.run(db);
      });
      // The right rows: the ones right after the cursor, in order.
      c.expectFirst(found);
      expect(found).toHaveLength(101);
      const paged = statements.filter(
        (s) => s.sql.includes(`"${c.table}"`) || s.sql.includes(`\`${c.table}\``),
      );
      expect(paged.length).toBeGreaterThan(0);
      if (c.planNotAsserted?.dialect === dialect) return;
      const { plan, seeks } = await planOf(
        database,
        paged.at(-1)!,
        c.table,
        c.index,
        c.firstColumn,
        c.order,
        c.sortsTies,
      );
      expect(seeks, `${c.what} reads ${c.table} as: ${plan}`).toBe(true);
    });
  }
});
