import { CofferError, isCofferError } from '../errors/coffer-error.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import type { ActorResolver } from '../identity/actor-resolver.js';
import { type Page, type PageRequest, pageLimit } from '../shared/page.js';
import type { CofferDatabase } from '../storage/database.js';
import { auditRecordHash, auditRecordOf, genesisHash } from './audit-chain.js';
import { auditEntry } from './audit-entry.js';
import type { AuditLog } from './audit-log.js';
import { auditPage, filtered, type NormalizedFilter, normalizeFilter } from './audit-pages.js';
import type { AuditAction, AuditEntry, AuditOutcome, AuditRecord } from './audit-types.js';

/**
 * Which records to return. Times are inclusive `from`, exclusive `to`.
 *
 * @example
 * { actorId: adaId, action: 'secret.reveal', from: '2025-01-01T00:00:00Z' }
 */
export interface AuditFilter {
  /** Records whose actor is this user, service account or group. */
  actorId?: string;
  /** Records about this secret, user, group or token. */
  targetId?: string;
  action?: AuditAction;
  outcome?: AuditOutcome;
  from?: string | Date;
  to?: string | Date;
}

export interface AuditQuery extends AuditFilter, PageRequest {}

/** What can break a chain, as reported by {@link AuditService.verify}. */
export type AuditChainProblem =
  /** A record's content does not match its hash: it was changed after it was written. */
  | 'hash_mismatch'
  /** A record's `prev_hash` is not its predecessor's hash (records reordered or replaced). */
  | 'prev_hash_mismatch'
  /** A sequence number is missing: records were deleted from the middle (or the start). */
  | 'missing_records'
  /** The head says the chain is longer or different than the last record: the end was cut off. */
  | 'truncated'
  /** Records exist but the head row is gone. */
  | 'head_missing';

/**
 * @example
 * const result = await audit.verify(admin);
 * if (!result.ok) console.error(`audit chain broken at ${result.firstBrokenSeq}: ${result.problem}`);
 */
export interface AuditVerification {
  ok: boolean;
  /** Records checked, up to the first broken one. */
  checked: number;
  /** The sequence number where the chain first breaks (for truncation: the first missing one). */
  firstBrokenSeq?: number;
  problem?: AuditChainProblem;
  /**
   * The verified chain's last link, when `ok`. Keep it somewhere the database's
   * administrators cannot write: a later chain without this hash at this seq was rewritten.
   */
  head?: { seq: number; hash: string };
}

export interface AuditServiceOptions {
  database: CofferDatabase;
  /** Where verifying and exporting are themselves recorded. */
  audit: Pick<AuditLog, 'appendStandalone'>;
  identity: ActorResolver;
  /** Records read per round trip while verifying and exporting; defaults to 1000. */
  batchSize?: number;
}

/**
 * Reading the audit log: admins only, everyone else gets `forbidden`.
 *
 * @example
 * const page = await audit.query(admin, { action: 'auth.login_failed', limit: 50 });
 * const { ok } = await audit.verify(admin);
 * for await (const line of audit.export(admin, { from: '2025-01-01' })) out.write(line);
 */
export interface AuditService {
  /**
   * Records newest first, filtered, in pages.
   *
   * @example
   * const { items, nextCursor } = await audit.query(admin, { targetId: secretId, limit: 20 });
   */
  query(actor: Actor, request?: AuditQuery): Promise<Page<AuditRecord>>;
  /**
   * Walks the whole chain in batches and reports the first broken or missing link: a
   * changed record, a gap in the sequence, a wrong `prev_hash`, or a head that does not
   * match the last record (the end was cut off). Records appended while it runs are not
   * checked. The verification itself is recorded.
   *
   * @example
   * const { ok, checked, firstBrokenSeq, problem } = await audit.verify(admin);
   */
  verify(actor: Actor): Promise<AuditVerification>;
  /**
   * The records matching `filter`, oldest first, one JSON line each (ending in `\n`),
   * read in batches. The permission check and the `audit.export` record happen when
   * iteration starts.
   *
   * @example
   * for await (const line of audit.export(admin, { action: 'secret.reveal' })) file.write(line);
   */
  export(actor: Actor, filter?: AuditFilter): AsyncIterable<string>;
}

/**
 * Creates the audit service.
 *
 * @example
 * const audit = createAuditService({ database, audit: auditLog, identity });
 */
export function createAuditService(options: AuditServiceOptions): AuditService {
  const { database, identity } = options;
  const batchSize = options.batchSize ?? 1000;

  /** Resolves the actor and refuses non-admins, recording a refused verify or export. */
  async function requireAdmin(actor: Actor, action?: AuditAction): Promise<ResolvedActor> {
    const resolved = await identity.resolveActor(actor);
    if (resolved.type !== 'group' && resolved.role === 'admin') return resolved;
    if (action !== undefined) {
      await options.audit.appendStandalone(entryBy(resolved, action, 'denied', { reason: 'not an admin' }));
    }
    throw new CofferError('forbidden', 'only admins may read the audit log');
  }

  async function query(actor: Actor, request: AuditQuery = {}): Promise<Page<AuditRecord>> {
    await requireAdmin(actor);
    const limit = pageLimit(request);
    return auditPage(database.db, database.features, normalizeFilter(request), request.cursor, limit);
  }

  async function checkChain(): Promise<AuditVerification> {
    // The head is read first and only records up to it are checked: records appended while
    // we read would otherwise look like a head that runs ahead of the chain.
    const head = await database.db
      .selectFrom('audit_head')
      .select(['seq', 'hash'])
      .where('id', '=', 1)
      .executeTakeFirst();
    if (head === undefined) {
      const any = await database.db
        .selectFrom('audit_log')
        .select('seq')
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      return any === undefined
        ? { ok: true, checked: 0 }
        : { ok: false, checked: 0, firstBrokenSeq: Number(any.seq), problem: 'head_missing' };
    }
    const headSeq = Number(head.seq);
    let expectedSeq = 1;
    let prevHash = genesisHash;
    let checked = 0;
    for (;;) {
      const rows = await database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>=', expectedSeq)
        .where('seq', '<=', headSeq)
        .orderBy('seq')
        .limit(batchSize)
        .execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expectedSeq)
          return { ok: false, checked, firstBrokenSeq: expectedSeq, problem: 'missing_records' };
        if (row.prev_hash !== prevHash)
          return { ok: false, checked, firstBrokenSeq: seq, problem: 'prev_hash_mismatch' };
        if (auditRecordHash({ ...row, seq }) !== row.hash) {
          return { ok: false, checked, firstBrokenSeq: seq, problem: 'hash_mismatch' };
        }
        prevHash = row.hash;
        expectedSeq = seq + 1;
        checked++;
      }
      if (rows.length < batchSize) break;
    }
    if (expectedSeq - 1 !== headSeq || prevHash !== head.hash) {
      return { ok: false, checked, firstBrokenSeq: expectedSeq, problem: 'truncated' };
    }
    return headSeq === 0
      ? { ok: true, checked }
      : { ok: true, checked, head: { seq: headSeq, hash: head.hash } };
  }

  async function verify(actor: Actor): Promise<AuditVerification> {
    const resolved = await requireAdmin(actor, 'audit.verify');
    const result = await checkChain();
    const details: Record<string, string | number | boolean> = { ok: result.ok, checked: result.checked };
    if (result.firstBrokenSeq !== undefined) details.firstBrokenSeq = result.firstBrokenSeq;
    if (result.problem !== undefined) details.problem = result.problem;
    if (result.head !== undefined) details.headHash = result.head.hash;
    try {
      await options.audit.appendStandalone(
        entryBy(resolved, 'audit.verify', result.ok ? 'success' : 'failure', details),
      );
    } catch (err) {
      // A broken chain (a missing head, say) refuses new records; the report is what the
      // caller needs then, and it must not be lost to the failure it describes.
      if (result.ok || !isCofferError(err, 'integrity')) throw err;
    }
    return result;
  }

  async function* exportLines(actor: Actor, filter: AuditFilter = {}): AsyncGenerator<string> {
    const resolved = await requireAdmin(actor, 'audit.export');
    const f = normalizeFilter(filter);
    // Recorded before the first line, so an export that is interrupted still shows up.
    const started = await options.audit.appendStandalone(
      entryBy(resolved, 'audit.export', 'success', filterDetails(f)),
    );
    let after = 0;
    for (;;) {
      const rows = await filtered(database.db, f)
        .where('seq', '>', after)
        // The export's own record and anything later are not part of what was asked for.
        .where('seq', '<', started.seq)
        .orderBy('seq')
        .limit(batchSize)
        .execute();
      for (const row of rows) yield `${JSON.stringify(auditRecordOf(row))}\n`;
      const last = rows.at(-1);
      if (last === undefined || rows.length < batchSize) return;
      after = Number(last.seq);
    }
  }

  return { query, verify, export: exportLines };
}

function filterDetails(filter: NormalizedFilter): Record<string, string> {
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (typeof value === 'string') details[key] = value;
  }
  return details;
}

function entryBy(
  resolved: ResolvedActor,
  action: AuditAction,
  outcome: AuditOutcome,
  details: Record<string, string | number | boolean>,
): AuditEntry {
  return auditEntry(resolved, action, outcome, { type: 'audit' }, details);
}
