import { CofferError } from '../errors/coffer-error.js';
import type { Queryable } from '../secrets/secret-store.js';
import { decodeCursor, encodeCursor, type Page } from '../shared/page.js';
import { afterKeyset, type KeysetFeatures } from '../storage/keyset.js';
import { auditRecordOf } from './audit-chain.js';
import type { AuditFilter } from './audit-service.js';
import { type AuditRecord, auditActions } from './audit-types.js';

/** The records matching `filter` (validated), before any paging. */
export function filtered(db: Queryable, f: NormalizedFilter) {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.actorId !== undefined) q = q.where('actor_id', '=', f.actorId);
  if (f.targetId !== undefined) q = q.where('target_id', '=', f.targetId);
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.outcome !== undefined) q = q.where('outcome', '=', f.outcome);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  return q;
}

/**
 * One page of the records matching `filter`, newest first.
 *
 * Filtered by actor, target or action, the page follows that column's index by `seq`.
 * Filtered by a time range only, it follows `audit_at` by (at, seq). Following `seq` there,
 * the database either walked every record newer than the range or sorted the whole range
 * before the first page (1.3 s for a range of 800,000 records on SQLite; docs/performance.md,
 * "Deep pages"). Within one server `at` grows with `seq`, so the order is the same; across
 * replicas with skewed clocks it is the order of the records' times. The cursor says which
 * of the two a page followed.
 */
export async function auditPage(
  db: Queryable,
  features: KeysetFeatures,
  f: NormalizedFilter,
  cursor: string | null | undefined,
  limit: number,
): Promise<Page<AuditRecord>> {
  const byColumn = f.actorId !== undefined || f.targetId !== undefined || f.action !== undefined;
  const byTime = !byColumn && (f.from !== undefined || f.to !== undefined);
  const rows = await (byTime
    ? timePage(db, features, f, cursor, limit + 1)
    : seqPage(db, f, cursor, limit + 1));
  const items = rows.slice(0, limit).map(auditRecordOf);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > limit && last !== undefined
        ? encodeCursor(byTime ? [last.at, last.seq] : [last.seq])
        : null,
  };
}

function seqPage(db: Queryable, f: NormalizedFilter, cursor: string | null | undefined, limit: number) {
  const before =
    cursor === undefined || cursor === null ? undefined : Number(decodeCursor(cursor, ['number'])[0]);
  return filtered(db, f)
    .$if(before !== undefined, (q) => q.where('seq', '<', before!))
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}

function timePage(
  db: Queryable,
  features: KeysetFeatures,
  f: NormalizedFilter,
  cursor: string | null | undefined,
  limit: number,
) {
  const key =
    cursor === undefined || cursor === null
      ? undefined
      : (decodeCursor(cursor, ['string', 'number']) as [string, number]);
  // The cursor starts the seek. With `to` as well the planner may start at `to` and read up
  // to the cursor; a cursor at or past `to` excludes nothing, and is left out.
  const after = key !== undefined && f.to !== undefined && key[0] >= f.to ? undefined : key;
  const { to: _to, ...rest } = f;
  return filtered(db, after === undefined ? f : rest)
    .$if(after !== undefined, (q) =>
      q.where((eb) => afterKeyset(eb, features, 'desc', ['at', after![0]], ['seq', after![1]])),
    )
    .orderBy('at', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}

/** A filter as the queries take it: times as ISO-8601 strings. */
export interface NormalizedFilter extends Omit<AuditFilter, 'from' | 'to'> {
  from?: string;
  to?: string;
}

/** Validates a filter (a clear error per bad field) and normalizes its times. */
export function normalizeFilter(filter: AuditFilter): NormalizedFilter {
  const issues: { path: string; message: string }[] = [];
  const time = (value: string | Date | undefined, path: string): string | undefined => {
    if (value === undefined) return undefined;
    const ms = value instanceof Date ? value.getTime() : Date.parse(value);
    if (Number.isNaN(ms)) {
      issues.push({ path, message: 'must be an ISO-8601 time' });
      return undefined;
    }
    return new Date(ms).toISOString();
  };
  const from = time(filter.from, 'from');
  const to = time(filter.to, 'to');
  if (filter.action !== undefined && !(auditActions as readonly string[]).includes(filter.action)) {
    issues.push({ path: 'action', message: 'is not an audit action' });
  }
  if (filter.outcome !== undefined && !['success', 'denied', 'failure'].includes(filter.outcome)) {
    issues.push({ path: 'outcome', message: 'must be success, denied or failure' });
  }
  if (issues.length > 0) throw CofferError.validation(issues);
  const out: NormalizedFilter = {};
  if (filter.actorId !== undefined) out.actorId = filter.actorId;
  if (filter.targetId !== undefined) out.targetId = filter.targetId;
  if (filter.action !== undefined) out.action = filter.action;
  if (filter.outcome !== undefined) out.outcome = filter.outcome;
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  return out;
}
