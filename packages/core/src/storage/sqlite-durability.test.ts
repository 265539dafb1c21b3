import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { createCoffer } from '../coffer.js';
import { isCofferError } from '../errors/coffer-error.js';
import { openDatabase, sqliteCheckpointPages } from './database.js';

// What an SQLite commit survives is a setting (docs/identity-and-audit.md, "Durability").

const dir = mkdtempSync(join(tmpdir(), 'coffer-durability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pragmas(options?: { sqliteSync?: 'normal' | 'full' }) {
  const database = await openDatabase(`sqlite:${join(dir, `d-${Math.random()}.db`)}`, options);
  try {
    const read = async (name: string) =>
      Object.values((await sql.raw(`pragma ${name}`).execute(database.db)).rows[0] as object)[0];
    return {
      journal: await read('journal_mode'),
      synchronous: await read('synchronous'),
      checkpoint: await read('wal_autocheckpoint'),
    };
  } finally {
    await database.close();
  }
}

it('writes the log ahead, flushed at checkpoints of 4,000 pages, unless told to flush every commit', async () => {
  // synchronous: 1 is NORMAL, 2 is FULL
  expect(await pragmas()).toEqual({ journal: 'wal', synchronous: 1, checkpoint: sqliteCheckpointPages });
  expect(sqliteCheckpointPages).toBe(4000);
  expect(await pragmas({ sqliteSync: 'full' })).toMatchObject({ journal: 'wal', synchronous: 2 });
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
