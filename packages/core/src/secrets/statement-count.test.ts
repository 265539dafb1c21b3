import Database from 'better-sqlite3';
import { SqliteQueryCompiler } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';

// How many SQL statements and transactions each hot operation costs on SQLite, counted at
// better-sqlite3's statements (so Kysely, the statement cache and the dialect are all under
// it). A change that adds a round trip to a reveal, a list or a write shows up here first;
// docs/performance.md says what each statement is for. Raise a number only with a reason.

interface Counted {
  statements: string[];
  /** `begin` statements: transactions, each ending in one commit (one WAL write). */
  transactions: number;
  /** Writes outside any transaction: each commits on its own. */
  autocommits: number;
}

const statementPrototype = Object.getPrototypeOf(new Database(':memory:').prepare('select 1')) as Record<
  'run' | 'get' | 'all' | 'iterate',
  (...args: unknown[]) => unknown
> & { source?: string };

let recording: string[] | undefined;
const originals = new Map<string, (...args: unknown[]) => unknown>();

function installCounter(): void {
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = statementPrototype[method];
    originals.set(method, original);
    statementPrototype[method] = function (this: { source: string }, ...args: unknown[]) {
      recording?.push(this.source);
      return original.apply(this, args);
    };
  }
}

function removeCounter(): void {
  for (const [method, original] of originals) {
    statementPrototype[method as 'run'] = original;
  }
}

/** Runs `operation` and the background work it starts, counting what reached SQLite. */
async function count(operation: () => Promise<unknown>): Promise<Counted> {
  recording = [];
  await operation();
  // The audit group commit writes on the next turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  // The event feed's poll runs on its own timer: it is not the operation's.
  const statements = recording.filter((s) => !/^select .* from "events" where "seq" >/.test(s));
  recording = undefined;
  let inTransaction = false;
  let transactions = 0;
  let autocommits = 0;
  for (const s of statements) {
    if (s === 'begin') {
      inTransaction = true;
      transactions++;
    } else if (s === 'commit' || s === 'rollback') inTransaction = false;
    else if (!inTransaction && !/^select/i.test(s)) autocommits++;
  }
  return { statements, transactions, autocommits };
}

/** A statement as its verb and first table: `select secrets`, `insert audit_log`, `begin`. */
function kindOf(source: string): string {
  const verb = /^\w+/.exec(source)?.[0] ?? source;
  const table = /(?:from|into|update)\s+"(\w+)"/i.exec(source)?.[1];
  return table === undefined ? verb : `${verb} ${table}`;
}

/**
 * A write's audit record and change event are its last statements before the commit: on
 * PostgreSQL and MySQL every write waits for the audit head's row lock from the append to the
 * commit, so what runs in between is paid once per write by all writers in turn. The
 * statements run in the same order on every dialect.
 */
function expectAuditLast(kinds: readonly string[]): void {
  const commit = kinds.lastIndexOf('commit');
  expect(kinds.slice(kinds.indexOf('update audit_head'), commit)).toEqual([
    'update audit_head',
    'insert audit_log',
    'insert events',
  ]);
}

describe('SQL statements per operation (SQLite)', () => {
  let fx: CofferFixture;
  let id: string;

  beforeAll(async () => {
    installCounter();
    fx = await createCofferFixture('sqlite');
    const secret = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'counted',
      kind: 'api-token',
      values: { token: 'planted-count-token' },
    });
    id = secret.id;
    // Warm what is read once per process (kinds, the keyring's data key, the identity cache).
    await fx.coffer.secrets.readValues(fx.admin.actor, id, { reveal: true });
    await fx.coffer.secrets.list(fx.admin.actor, { limit: 100 });
  });
  afterAll(async () => {
    removeCounter();
    await fx?.close();
  });

  it('reveals with one read and one audited transaction of two statements', async () => {
    const counted = await count(() => fx.coffer.secrets.readValues(fx.admin.actor, id, { reveal: true }));
    expect(counted.statements.map(kindOf)).toEqual([
      'select secrets', // the secret with its shares and its sealed current value, joined
      'begin',
      'update audit_head', // moves the head from where this process left it (and locks it)
      'insert audit_log',
      'commit',
    ]);
    expect(counted.transactions).toBe(1);
    expect(counted.autocommits).toBe(0);
  });

  it('writes the audit records of concurrent reveals in one transaction', async () => {
    const counted = await count(() =>
      Promise.all(
        Array.from({ length: 32 }, () => fx.coffer.secrets.readValues(fx.admin.actor, id, { reveal: true })),
      ),
    );
    expect(counted.transactions).toBe(1);
    expect(counted.statements.filter((s) => s.startsWith('insert into "audit_log"'))).toHaveLength(1);
    expect(counted.statements).toHaveLength(32 + 4);
  });

  it('lists a page with two reads and one audited transaction of two statements', async () => {
    const counted = await count(() => fx.coffer.secrets.list(fx.admin.actor, { limit: 100 }));
    expect(counted.statements.map(kindOf)).toEqual([
      'select secrets', // the page
      'select secret_labels', // the labels of its secrets (an admin's access needs no shares)
      'begin',
      'update audit_head',
      'insert audit_log',
      'commit',
    ]);
    expect(counted.transactions).toBe(1);
  });

  it('reads the shares of a page only for secrets the actor does not own', async () => {
    const member = await fx.member('counted-member');
    await fx.coffer.secrets.create(member.actor, {
      name: 'counted-own',
      kind: 'api-token',
      values: { token: 'planted-count-token-5' },
    });
    const own = await count(() => fx.coffer.secrets.list(member.actor, { limit: 100 }));
    expect(own.statements.map(kindOf).filter((s) => s.startsWith('select'))).toEqual([
      'select secrets', // how many secrets are within its reach, counted up to a limit
      'select secrets', // the page: of those few, or of all names (listSecrets says why)
      'select secret_labels',
    ]);
    await fx.coffer.shares.share(fx.admin.actor, id, { granteeType: 'user', granteeId: member.id });
    const shared = await count(() => fx.coffer.secrets.list(member.actor, { limit: 100 }));
    expect(shared.statements.map(kindOf).filter((s) => s.startsWith('select'))).toEqual([
      // No count: the first list's decision is kept for a few seconds (reach-memory.ts).
      'select secrets',
      'select shares', // of the one secret it holds through a share
      'select secret_labels',
    ]);
    await fx.coffer.shares.unshare(fx.admin.actor, id, { granteeType: 'user', granteeId: member.id });
  });

  it('creates in one transaction, the sealed value with the metadata', async () => {
    let n = 0;
    const counted = await count(() =>
      fx.coffer.secrets.create(fx.admin.actor, {
        name: `counted-${++n}`,
        kind: 'api-token',
        values: { token: 'planted-count-token-2' },
      }),
    );
    // The default backend keeps values in this database, so the sealed value commits with the
    // secret, its version, the audit record and the change event: one commit, no journal
    // (other backends journal first: docs/backends.md, "Crash consistency").
    expect(counted.autocommits).toBe(0);
    expect(counted.transactions).toBe(1);
    // A taken name fails the secret's insert inside the transaction: no read of the name first.
    expect(counted.statements.map(kindOf)).toEqual([
      'begin',
      'insert secret_values',
      'insert secrets',
      'insert secret_versions',
      'update audit_head',
      'insert audit_log',
      'insert events',
      'commit',
    ]);
    expectAuditLast(counted.statements.map(kindOf));
  });

  it('reads the names of a batch once, and seals nothing for a name that is taken', async () => {
    await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'batch-taken',
      kind: 'generic',
      values: { a: 'b' },
    });
    let outcomes: Awaited<ReturnType<typeof fx.coffer.secrets.createMany>> = [];
    const counted = await count(async () => {
      outcomes = await fx.coffer.secrets.createMany(fx.admin.actor, [
        { name: 'batch-taken', kind: 'generic', values: { a: 'c' } },
        { name: 'batch-new-1', kind: 'generic', values: { a: 'd' } },
        { name: 'batch-new-2', kind: 'generic', values: { a: 'e' } },
      ]);
    });
    expect(outcomes.map((o) => (o.created ? 'created' : o.error.code))).toEqual([
      'already_exists',
      'created',
      'created',
    ]);
    const kinds = counted.statements.map(kindOf);
    expect(kinds.filter((k) => k === 'select secrets')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'insert secret_values')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'insert secrets')).toHaveLength(2);
  });

  it('updates values in one transaction, the sealed value with the metadata', async () => {
    const counted = await count(() =>
      fx.coffer.secrets.update(fx.admin.actor, id, { values: { token: 'planted-count-token-3' } }),
    );
    expect(counted.autocommits).toBe(0);
    expect(counted.transactions).toBe(1);
    expect(counted.statements.length).toBeLessThanOrEqual(11);
    // With fewer versions than `versions.keep` there is nothing to prune, so nothing is looked up.
    expect(counted.statements.map(kindOf)).not.toContain('select secret_versions');
    // The current values it changes came with the access check.
    expect(counted.statements.map(kindOf)).not.toContain('select secret_values');
    expectAuditLast(counted.statements.map(kindOf));
  });

  it('drops the version past `keep` in the same transaction, journaling nothing', async () => {
    const { id: longLived } = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'counted-past-keep',
      kind: 'api-token',
      values: { token: 'planted-count-token-10' },
    });
    for (let i = 0; i < 10; i++) {
      await fx.coffer.secrets.update(fx.admin.actor, longLived, { values: { token: `planted-keep-${i}` } });
    }
    const counted = await count(() =>
      fx.coffer.secrets.update(fx.admin.actor, longLived, { values: { token: 'planted-keep-last' } }),
    );
    expect(counted.transactions).toBe(1);
    expect(counted.autocommits).toBe(0);
    const kinds = counted.statements.map(kindOf);
    // The oldest version and its sealed value go with the commit; a journal row written and
    // removed again before it would be two statements for nothing.
    expect(kinds).toContain('delete secret_versions');
    expect(kinds).toContain('delete secret_values');
    expect(kinds).not.toContain('insert value_journal');
    expect((await fx.coffer.secrets.versions(fx.admin.actor, longLived)).map((v) => v.version)).toEqual([
      12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
    ]);
  });

  it('commits concurrent creates and updates together (group commit)', async () => {
    const counted = await count(() =>
      Promise.all([
        ...Array.from({ length: 8 }, (_, i) =>
          fx.coffer.secrets.create(fx.admin.actor, {
            name: `grouped-${i}`,
            kind: 'api-token',
            values: { token: 'planted-count-token-6' },
          }),
        ),
        fx.coffer.secrets.update(fx.admin.actor, id, { values: { token: 'planted-count-token-7' } }),
      ]),
    );
    // Nine writes, one commit. None of them failed, so none needed a savepoint of its own.
    expect(counted.transactions).toBe(1);
    expect(counted.autocommits).toBe(0);
    expect(counted.statements.filter((s) => s.startsWith('savepoint'))).toHaveLength(0);
  });

  it('finds no row by scanning a whole table on the hot paths', async () => {
    const counted = await count(async () => {
      await fx.coffer.secrets.readValues(fx.admin.actor, 'counted', { reveal: true });
      await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'counted-by-name',
        kind: 'api-token',
        values: { token: 'planted-count-token-4' },
      });
      await fx.coffer.secrets.update(fx.admin.actor, 'counted-by-name', { values: { token: 'x' } });
      await fx.coffer.secrets.list(fx.admin.actor, { limit: 100 });
      await fx.coffer.secrets.list(fx.admin.actor, { limit: 100, namePrefix: 'count' });
    });
    const database = new Database(fx.databaseUrl.replace(/^sqlite:/, ''), { readonly: true });
    try {
      const scans: string[] = [];
      for (const source of new Set(counted.statements)) {
        if (!/^(select|update|delete)/i.test(source)) continue;
        const parameters = (source.match(/\?/g) ?? []).map(() => null);
        const plan = database.prepare(`explain query plan ${source}`).all(...parameters) as {
          detail: string;
        }[];
        // "SCAN t" reads every row; "SCAN t USING INDEX i" walks an index in order (a page).
        for (const { detail } of plan) {
          if (/^SCAN \w+$/.test(detail)) scans.push(`${detail}: ${source}`);
        }
      }
      expect(scans).toEqual([]);
    } finally {
      database.close();
    }
  });

  it('compiles no query for a reveal, a read, a create, an update (also one dropping a version) or a group commit once warm', async () => {
    // Kysely builds and compiles a query on every call unless it is prepared
    // (storage/prepared.ts); compiling costs about what SQLite's work on it does. A hot path
    // that starts compiling again shows up here.
    const compiled: string[] = [];
    const compile = SqliteQueryCompiler.prototype.compileQuery;
    const writes = (round: number) =>
      Promise.all([
        ...Array.from({ length: 4 }, (_, i) =>
          fx.coffer.secrets.create(fx.admin.actor, {
            name: `compiled-${round}-${i}`,
            kind: 'api-token',
            values: { token: 'planted-count-token-8' },
          }),
        ),
        fx.coffer.secrets.update(fx.admin.actor, id, { values: { token: `planted-count-token-9-${round}` } }),
      ]);
    // A secret updated past `versions.keep` (10): each update drops its oldest version.
    const longLived = await fx.coffer.secrets.create(fx.admin.actor, {
      name: 'compiled-long-lived',
      kind: 'api-token',
      values: { token: 'planted-count-token-12' },
    });
    for (let i = 0; i < 10; i++) {
      await fx.coffer.secrets.update(fx.admin.actor, longLived.id, { values: { token: `planted-${i}` } });
    }
    const hotPaths = async (round: number) => {
      await fx.coffer.secrets.update(fx.admin.actor, longLived.id, {
        values: { token: `planted-count-token-13-${round}` },
      });
      await fx.coffer.secrets.readValues(fx.admin.actor, id, { reveal: true });
      await fx.coffer.secrets.get(fx.admin.actor, id);
      await fx.coffer.secrets.update(fx.admin.actor, id, {
        values: { token: `planted-count-token-10-${round}` },
      });
      await writes(round);
      await fx.coffer.secrets.create(fx.admin.actor, {
        name: `compiled-alone-${round}`,
        kind: 'api-token',
        values: { token: 'planted-count-token-11' },
      });
      // Let the event feed read what these wrote.
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    await hotPaths(0);
    SqliteQueryCompiler.prototype.compileQuery = function (this: SqliteQueryCompiler, ...args) {
      const query = compile.apply(this, args);
      compiled.push(query.sql);
      return query;
    };
    try {
      await hotPaths(1);
    } finally {
      SqliteQueryCompiler.prototype.compileQuery = compile;
    }
    expect(compiled).toEqual([]);
    // Both rounds' updates of the long-lived secret dropped a version: the path was taken.
    const kept = await fx.coffer.secrets.versions(fx.admin.actor, longLived.id);
    expect(kept.map((v) => v.version)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
  });

  it('authenticates a cached API token without a statement', async () => {
    const bot = await fx.bot('counted-bot', 'read-write');
    await fx.coffer.secrets.list(bot.actor, { limit: 1 });
    const counted = await count(() => fx.coffer.identity.resolveActor(bot.actor));
    expect(counted.statements).toEqual([]);
  });
});
