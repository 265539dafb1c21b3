import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import type { DialectName } from '../storage/dialect.js';

/**
 * Test databases for every dialect. SQLite always runs. PostgreSQL and MySQL/MariaDB run when
 * reachable; under CI=true they must be reachable, and an unreachable one fails the run.
 * `COFFER_TEST_DIALECTS=sqlite,postgres` narrows the set.
 */
export const adminUrls = {
  postgres: process.env.COFFER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.COFFER_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
} as const;

export interface DialectAvailability {
  dialect: DialectName;
  available: boolean;
  reason?: string;
}

const probes = new Map<DialectName, Promise<DialectAvailability>>();

function wanted(dialect: DialectName): boolean {
  const filter = process.env.COFFER_TEST_DIALECTS;
  return filter === undefined || filter === '' || filter.split(',').includes(dialect);
}

/** Whether a dialect can be tested here; throws under CI when a server is unreachable. */
export function probeDialect(dialect: DialectName): Promise<DialectAvailability> {
  let probe = probes.get(dialect);
  if (probe === undefined) {
    probe = runProbe(dialect);
    probes.set(dialect, probe);
  }
  return probe;
}

async function runProbe(dialect: DialectName): Promise<DialectAvailability> {
  if (!wanted(dialect)) return { dialect, available: false, reason: 'excluded by COFFER_TEST_DIALECTS' };
  if (dialect === 'sqlite') return { dialect, available: true };
  try {
    await withAdminConnection(dialect, async (run) => {
      await run('select 1');
    });
    return { dialect, available: true };
  } catch (err) {
    const reason = `${dialect} at ${adminUrls[dialect]} is unreachable (${(err as Error).message})`;
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`CI requires every database dialect: ${reason}`);
    }
    return { dialect, available: false, reason };
  }
}

/** The dialects to test, each with its availability. */
export async function dialectsUnderTest(): Promise<DialectAvailability[]> {
  return Promise.all((['sqlite', 'postgres', 'mysql'] as const).map(probeDialect));
}

export interface TestDatabase {
  dialect: DialectName;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database of the dialect, dropped again by `drop()`. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const name = `coffer_t_${randomBytes(6).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-test-'));
    return {
      dialect,
      url: `sqlite:${join(dir, 'coffer.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (dialect === 'postgres') {
    await withAdminConnection('postgres', (run) => run(`create database ${name}`));
    return {
      dialect,
      url: replaceDatabase(adminUrls.postgres, name),
      drop: () =>
        withAdminConnection('postgres', (run) => run(`drop database if exists ${name} with (force)`)),
    };
  }
  await withAdminConnection('mysql', (run) =>
    run(`create database ${name} character set utf8mb4 collate utf8mb4_bin`),
  );
  return {
    dialect,
    url: replaceDatabase(adminUrls.mysql, name),
    drop: () => withAdminConnection('mysql', (run) => run(`drop database if exists ${name}`)),
  };
}

function replaceDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

type Run = (statement: string) => Promise<unknown>;

async function withAdminConnection(dialect: 'postgres' | 'mysql', fn: (run: Run) => Promise<unknown>) {
  if (dialect === 'postgres') {
    const pg = await import('pg');
    const client = new pg.default.Client({
      connectionString: adminUrls.postgres,
      connectionTimeoutMillis: 3000,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      await fn((s) => client.query(s));
    } finally {
      await client.end();
    }
    return;
  }
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({ uri: adminUrls.mysql, connectTimeout: 3000 });
  try {
    await fn((s) => connection.query(s));
  } finally {
    await connection.end();
  }
}

/**
 * Declares `fn`'s tests once per dialect. A dialect that cannot run here is declared as a
 * skipped suite whose title carries the reason, and the reason is printed once.
 *
 * @example
 * describeEachDialect('secrets', (dialect) => { it('creates', async () => { ... }) });
 */
export async function describeEachDialect(title: string, fn: (dialect: DialectName) => void): Promise<void> {
  for (const availability of await dialectsUnderTest()) {
    if (availability.available) {
      describe(`${title} [${availability.dialect}]`, () => fn(availability.dialect));
    } else {
      if (availability.reason !== undefined && !availability.reason.startsWith('excluded')) {
        console.warn(`skipping ${availability.dialect} suites: ${availability.reason}`);
      }
      describe.skip(`${title} [${availability.dialect}] (skipped: ${availability.reason})`, () =>
        fn(availability.dialect));
    }
  }
}
