import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { CofferTables } from './schema.js';

/** Stands in for an argument while a prepared query is built; never sent to the database. */
class Placeholder {
  constructor(readonly index: number) {}
}

/**
 * The SQL of every query compiled by preparedQuery that names its result columns, and the name
 * it is kept under on a PostgreSQL connection (see pg-statements.ts). These are fixed-shape
 * statements run again and again, so the server can parse and plan each once per connection.
 * Bounded by the code: one entry per preparedQuery and dialect.
 */
const statementNames = new Map<string, string>();

/** The name `sql` is kept prepared under, if it is one of preparedQuery's statements. */
export function preparedStatementName(sql: string): string | undefined {
  return statementNames.get(sql);
}

/**
 * Statements with more parameters than this (a batch of many rows) are not kept: each would hold
 * a large plan in the server's memory on every connection, and they are rare.
 */
const mostParametersKept = 256;

function rememberStatement({ sql, parameters }: CompiledQuery): void {
  // A `*` in the result would change its columns when another server migrates the schema, and
  // PostgreSQL refuses to run such a prepared statement again ("cached plan must not change
  // result type"); a statement that names its columns is planned again without an error.
  if (sql.includes('*') || parameters.length > mostParametersKept || statementNames.has(sql)) return;
  statementNames.set(sql, `coffer_${statementNames.size + 1}`);
}

/**
 * A query built and compiled by Kysely once, then run with new arguments: the hot paths (a
 * reveal's reads, the audit append) skip Kysely's builder and compiler, which cost about as
 * much as SQLite running the statement. `build` receives one stand-in per argument and must
 * use each only as a value (`where('id', '=', id)`, `values({ seq })`), never to shape the
 * query; the SQL compiled on first use serves every later call. Compiled for the dialect of
 * the first database it runs on, so create one per database.
 *
 * @example
 * const byId = preparedQuery((id: string) => db.selectFrom('secrets').selectAll().where('id', '=', id));
 * const { rows } = await byId.execute(tx, secretId);
 */
export function preparedQuery<A extends unknown[], R>(
  build: (...args: A) => Compilable<R>,
): { execute(on: Kysely<CofferTables>, ...args: A): Promise<QueryResult<R>> } {
  let compiled: CompiledQuery<R> | undefined;
  /** For each parameter of the compiled query: the argument it takes, or its constant value. */
  let plan: ({ argument: number } | { constant: unknown })[] = [];
  return {
    execute(on, ...args) {
      if (compiled === undefined) {
        const stand = args.map((_, i) => new Placeholder(i)) as unknown as A;
        compiled = build(...stand).compile();
        rememberStatement(compiled);
        plan = compiled.parameters.map((p) =>
          p instanceof Placeholder ? { argument: p.index } : { constant: p },
        );
      }
      const parameters = plan.map((p) => ('argument' in p ? args[p.argument] : p.constant));
      return on.executeQuery<R>({ ...compiled, parameters });
    },
  };
}

/**
 * An insert of one row into `table`, compiled once (see preparedQuery): `execute(on, row)` binds
 * the row's `columns`, in order. Every row must have exactly these columns.
 *
 * @example
 * const insertVersion = preparedInsert(db, 'secret_versions', ['secret_id', 'version', ...]);
 * await insertVersion.execute(tx, { secret_id, version, ... });
 */
export function preparedInsert<T extends keyof CofferTables & string, C extends string>(
  db: Kysely<CofferTables>,
  table: T,
  columns: readonly C[],
): { execute(on: Kysely<CofferTables>, row: Readonly<Record<C, unknown>>): Promise<QueryResult<unknown>> } {
  const insert = preparedQuery((...values: unknown[]) =>
    db.insertInto(table).values(Object.fromEntries(columns.map((c, i) => [c, values[i]])) as never),
  );
  return {
    execute: (on, row) => insert.execute(on, ...columns.map((c) => row[c])),
  };
}

/**
 * `make(key)` run once per key, its result kept while the key lives: the statements a module
 * compiles once for each database (or connection) they run on.
 *
 * @example
 * const readsOf = oncePer((database: CofferDatabase) => ({ byId: preparedQuery(...) }));
 * await readsOf(database).byId.execute(database.db, id);
 */
export function oncePer<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/**
 * `make(size)` run once per size, its result kept: a statement whose shape depends only on how
 * many values it takes (rows of an insert, ids of an `in` list), compiled once for each size
 * that occurs. Only for sizes bounded by the code, such as the versions a secret keeps.
 *
 * @example
 * const deleteVersions = perSize((n) => preparedQuery((id: string, ...versions: number[]) =>
 *   db.deleteFrom('secret_versions').where('secret_id', '=', id).where('version', 'in', versions.slice(0, n))));
 * await deleteVersions(versions.length).execute(tx, id, ...versions);
 */
export function perSize<P>(make: (size: number) => P): (size: number) => P {
  const made = new Map<number, P>();
  return (size) => {
    let statement = made.get(size);
    if (statement === undefined) {
      statement = make(size);
      made.set(size, statement);
    }
    return statement;
  };
}

/** The lengths an `in` list is padded to (paddedIn): a page of any size is one of a few statements. */
const inListLengths = [2, 4, 8, 16, 32, 64, 128, 256];

/**
 * `values` lengthened to the next of a few fixed lengths by repeating its first value, or
 * undefined past the longest (256). An `in` list means the same with a value repeated, so a
 * query over a page's ids (its labels, its shares) needs one statement per length, compiled and,
 * on PostgreSQL, planned once (perSize), instead of one for every page size: a page of 100 ids
 * was compiled by Kysely and parsed and planned by PostgreSQL on every list
 * (docs/performance.md, "A member's reach, remembered").
 *
 * @example
 * const padded = paddedIn(ids);
 * if (padded !== undefined) await labelsIn(padded.length).execute(db, ...padded);
 */
export function paddedIn<T>(values: readonly T[]): T[] | undefined {
  const length = inListLengths.find((l) => l >= values.length);
  if (length === undefined || values.length === 0) return undefined;
  const padded = values.slice();
  while (padded.length < length) padded.push(values[0]!);
  return padded;
}
