import { type Kysely, sql } from 'kysely';

/**
 * SQLite's way to change a table's storage: a new table from the old one's own DDL, rewritten,
 * the rows copied, the old one dropped, the new one renamed, and the old one's indexes made
 * again. Starting from the DDL SQLite keeps keeps every column added by later migrations.
 */
export async function rebuildSqliteTable(
  db: Kysely<unknown>,
  table: string,
  rewrite: (ddl: string) => string,
) {
  const ddlOf = async (type: 'table' | 'index') =>
    (
      await sql<{
        sql: string;
      }>`select sql from sqlite_master where type = ${type} and tbl_name = ${table} and sql is not null`.execute(
        db,
      )
    ).rows.map((r) => r.sql);
  const [ddl] = await ddlOf('table');
  if (ddl === undefined) throw new Error(`no table ${table} to rebuild`);
  const rebuilt = `${table}_rebuilt`;
  const prefix = `CREATE TABLE "${table}" (`;
  const next = rewrite(ddl);
  if (!ddl.startsWith(prefix) || next === ddl) {
    throw new Error(`unexpected definition of ${table}, not rebuilt: ${ddl}`);
  }
  const indexes = await ddlOf('index');
  await sql.raw(`CREATE TABLE "${rebuilt}" (${next.slice(prefix.length)}`).execute(db);
  await sql.raw(`insert into "${rebuilt}" select * from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${rebuilt}" rename to "${table}"`).execute(db);
  for (const index of indexes) await sql.raw(index).execute(db);
}
