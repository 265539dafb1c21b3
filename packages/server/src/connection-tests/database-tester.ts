import { CofferError, type SecretValues } from '@coffer/core';
import {
  type ConnectionTester,
  type ConnectionTestOutcome,
  describeError,
  numberField,
  stringField,
} from './connection-tester.js';

/** Engines we can reach with the drivers Coffer already uses for its own database. */
const engines = {
  postgres: testPostgres,
  mysql: testMysql,
  mariadb: testMysql,
} satisfies Record<string, (values: SecretValues, timeoutMs: number) => Promise<ConnectionTestOutcome>>;

/** Which `engine` values the database tester can check. */
export const testableDatabaseEngines = Object.keys(engines);

/** Databases: connects with the credentials and runs `SELECT 1`. */
export const databaseTester: ConnectionTester = {
  kind: 'database',
  async test(values, { timeoutMs }) {
    const engine = stringField(values, 'engine') ?? 'postgres';
    const run = (engines as Record<string, typeof testPostgres>)[engine];
    if (run === undefined) {
      throw new CofferError(
        'unsupported',
        `testing ${engine} databases is not supported; supported: ${testableDatabaseEngines.join(', ')}`,
        { details: { kind: 'database', engine } },
      );
    }
    if (stringField(values, 'host') === undefined) return { ok: false, reason: 'the secret has no host' };
    return run(values, timeoutMs);
  },
};

/** `sslMode` as the drivers understand it: off, encrypted without checks, or verified. */
function sslOf(values: SecretValues): false | { rejectUnauthorized: boolean } {
  const mode = stringField(values, 'sslMode') ?? 'disable';
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  return { rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full' };
}

async function testPostgres(values: SecretValues, timeoutMs: number): Promise<ConnectionTestOutcome> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    host: stringField(values, 'host'),
    port: numberField(values, 'port') ?? 5432,
    database: stringField(values, 'database'),
    user: stringField(values, 'username'),
    password: stringField(values, 'password') ?? '',
    ssl: sslOf(values),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    application_name: 'coffer-connection-test',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `PostgreSQL refused: ${describeError(err)}` };
  } finally {
    await client.end().catch(() => {});
  }
}

async function testMysql(values: SecretValues, timeoutMs: number): Promise<ConnectionTestOutcome> {
  const mysql = await import('mysql2/promise');
  const ssl = sslOf(values);
  let connection: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
  try {
    connection = await mysql.createConnection({
      host: stringField(values, 'host'),
      port: numberField(values, 'port') ?? 3306,
      database: stringField(values, 'database'),
      user: stringField(values, 'username'),
      password: stringField(values, 'password') ?? '',
      connectTimeout: timeoutMs,
      ...(ssl === false ? {} : { ssl }),
    });
    await connection.query({ sql: 'SELECT 1', timeout: timeoutMs });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `the database refused: ${describeError(err)}` };
  } finally {
    await connection?.end().catch(() => {});
  }
}
