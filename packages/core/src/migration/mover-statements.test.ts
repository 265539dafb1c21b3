import { SqliteQueryCompiler } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';

// A migration moves every secret through the same statements: journal its intents, copy, switch,
// delete the source. Kysely builds and compiles a query on every call unless it is prepared
// (storage/prepared.ts), and compiling cost about as much as SQLite running it: 18% of the
// instructions per moved secret (docs/performance.md, "Migration"). A statement of the mover
// that starts compiling per secret again shows up here as compiles growing with the secrets.

let fx: CofferFixture;
let round = 0;

beforeAll(async () => {
  fx = await createCofferFixture('sqlite', { backends: { files: { type: 'file' } } });
});
afterAll(async () => {
  await fx?.close();
});

/** Creates `count` secrets on `sql` (every other one with a second version), then counts the compiles of moving them to `files` and back. */
async function compilesToMove(count: number): Promise<number> {
  round++;
  for (let i = 0; i < count; i++) {
    const { id } = await fx.coffer.secrets.create(fx.admin.actor, {
      name: `moved-${round}-${i}`,
      kind: 'api-token',
      values: { token: `planted-mover-${round}-${i}` },
    });
    if (i % 2 === 0) {
      await fx.coffer.secrets.update(fx.admin.actor, id, {
        values: { token: `planted-mover-${round}-${i}-2` },
      });
    }
  }
  const compile = SqliteQueryCompiler.prototype.compileQuery;
  let compiled = 0;
  SqliteQueryCompiler.prototype.compileQuery = function (this: SqliteQueryCompiler, ...args) {
    compiled++;
    return compile.apply(this, args);
  };
  try {
    for (const target of ['files', 'sql'] as const) {
      await fx.coffer.migration.start(fx.admin.actor, { target });
      await fx.coffer.migration.wait();
      expect(await fx.coffer.migration.status(fx.admin.actor)).toMatchObject({ state: 'done', failed: 0 });
    }
  } finally {
    SqliteQueryCompiler.prototype.compileQuery = compile;
  }
  return compiled;
}

it('compiles no statement per moved secret: moving 40 secrets compiles what moving 4 did', async () => {
  await compilesToMove(4); // the first run compiles each statement once
  const few = await compilesToMove(4);
  const many = await compilesToMove(40);
  // The runs' own statements (claim the run, page the secrets, finish) are compiled per run.
  expect(many).toBe(few);
  // Every secret moved and still opens.
  const { items } = await fx.coffer.secrets.list(fx.admin.actor, { limit: 100 });
  expect(items).toHaveLength(48);
  const last = items.find((s) => s.name === 'moved-3-38')!;
  const read = await fx.coffer.secrets.readValues(fx.admin.actor, last.id, { reveal: true });
  expect(read.values).toMatchObject({ token: 'planted-mover-3-38-2' });
});
