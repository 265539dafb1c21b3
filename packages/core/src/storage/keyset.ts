import type {
  Expression,
  ExpressionBuilder,
  OperandValueExpressionOrList,
  ReferenceExpression,
  SqlBool,
} from 'kysely';
import type { DialectFeatures } from './dialect.js';

/** What the keyset condition needs to know of the dialect. */
export type KeysetFeatures = Pick<DialectFeatures, 'rowValueSeek'>;

/**
 * The condition "rows after the keyset cursor (a, b)" of a page ordered by (first, second),
 * ascending or descending, spelled so that the database seeks its index on (first, second)
 * to the cursor.
 *
 * The textbook `first > a or (first = a and second > b)` does not seek on SQLite or
 * PostgreSQL: both read the index from its first entry and filter, so the page after row
 * 500,000 read 500,000 index entries (45 ms on SQLite, 155-210 ms on PostgreSQL). Adding the
 * redundant `first >= a` makes both seek, until a name prefix adds an upper bound too: then
 * SQLite, once ANALYZE has run, sorted a skip-scan of another index instead (40-50 ms at
 * 1,000,000 secrets). The row value `(first, second) > (a, b)` seeks in every case on both
 * (docs/performance.md, "Deep pages"). MariaDB cannot seek a row value (it scans the table)
 * but seeks the spelled-out form with its range optimizer, so it gets that one.
 */
export function afterKeyset<
  DB,
  TB extends keyof DB,
  A extends ReferenceExpression<DB, TB>,
  B extends ReferenceExpression<DB, TB>,
>(
  eb: ExpressionBuilder<DB, TB>,
  features: KeysetFeatures,
  order: 'asc' | 'desc',
  first: readonly [A, OperandValueExpressionOrList<DB, TB, A>],
  second: readonly [B, OperandValueExpressionOrList<DB, TB, B>],
): Expression<SqlBool> {
  const [a, aValue] = first;
  const [b, bValue] = second;
  const past = order === 'asc' ? '>' : '<';
  // Kysely types a tuple's right-hand side by the left column's type alone; the values are
  // typed per column above.
  if (features.rowValueSeek) return eb(eb.refTuple(a, b), past, eb.tuple(aValue, bValue) as never);
  return eb.and([
    eb(a, order === 'asc' ? '>=' : '<=', aValue),
    eb.or([eb(a, past, aValue), eb.and([eb(a, '=', aValue), eb(b, past, bValue)])]),
  ]);
}
