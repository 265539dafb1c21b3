// Where a create's commit goes in SQLite's write-ahead log, B-tree by B-tree: for
// docs/performance.md ("Checkpoints in a worker thread"). Not a benchmark (`npm run bench` does
// not run it): it counts pages, not time.
//
// Seeds 10,000 secrets with random names through the engine, turns checkpoints off, runs 200
// group commits of GROUP concurrent creates (default 8), then reads the log's frames back and
// names the page of each with SQLite's `dbstat` table.
//
//   npm run build && GROUP=8 node bench/log-pages.js

import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { asUser, createCoffer } from '../packages/core/dist/index.js';

const group = Number(process.env.GROUP ?? 8);
const rounds = 200;
const frameBytes = 24 + 4096;
const dir = mkdtempSync(join(tmpdir(), 'coffer-log-pages-'));
const coffer = await createCoffer(
  {
    dataDir: dir,
    adminPassword: 'correct horse battery staple',
    // Nothing copies the log into the database while it is counted.
    database: { sqliteCheckpoints: 'inline' },
  },
  { maintenance: false },
);
try {
  const { user } = await coffer.identity.login('admin', 'correct horse battery staple');
  const admin = asUser(user.id);
  const create = () =>
    coffer.secrets.create(admin, {
      name: `p-${randomUUID()}`,
      kind: 'api-token',
      values: { token: 'x'.repeat(30) },
    });
  const commits = async (n) => {
    for (let i = 0; i < n; i++) await Promise.all(Array.from({ length: group }, create));
  };
  await commits(Math.ceil(10_000 / group));
  await sql.raw('pragma wal_checkpoint(TRUNCATE)').execute(coffer.database.db);
  await sql.raw('pragma wal_autocheckpoint = 0').execute(coffer.database.db);
  await commits(rounds);

  const log = readFileSync(join(dir, 'coffer.db-wal'));
  const framesOf = new Map();
  for (let at = 32; at + frameBytes <= log.length; at += frameBytes) {
    const page = log.readUInt32BE(at);
    framesOf.set(page, (framesOf.get(page) ?? 0) + 1);
  }
  const reader = new Database(join(dir, 'coffer.db'), { readonly: true });
  const treeOf = new Map(
    reader
      .prepare('select name, pageno from dbstat')
      .all()
      .map((r) => [r.pageno, r.name]),
  );
  reader.close();
  const byTree = new Map();
  for (const [page, frames] of framesOf) {
    const tree = treeOf.get(page) ?? '(free)';
    const entry = byTree.get(tree) ?? { frames: 0, pages: 0 };
    entry.frames += frames;
    entry.pages += 1;
    byTree.set(tree, entry);
  }
  const total = (statSync(join(dir, 'coffer.db-wal')).size - 32) / frameBytes;
  console.log(`${rounds} commits of ${group} creates on 10,000 secrets: ${total} log frames`);
  console.log(
    `${(total / rounds).toFixed(1)} per commit, ${(total / rounds / group).toFixed(2)} per create\n`,
  );
  console.log('B-tree'.padEnd(36), 'frames per commit', ' distinct pages');
  for (const [tree, { frames, pages }] of [...byTree].sort((a, b) => b[1].frames - a[1].frames)) {
    console.log(tree.padEnd(36), (frames / rounds).toFixed(1).padStart(17), String(pages).padStart(15));
  }
} finally {
  await coffer.close();
  rmSync(dir, { recursive: true, force: true });
}
