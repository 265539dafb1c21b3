import type { BackendSet } from '../backends/backend-registry.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import { claimJournalRow, releaseJournalRow } from './value-writer.js';

export interface ReconcileResult {
  /** Values of writes that never committed, removed. */
  undone: number;
  /** Values of dropped versions and purged secrets, removed. */
  deleted: number;
  /** Journal rows left for a later run (backend unreachable or not configured). */
  failed: number;
}

/**
 * Finishes what crashed writes left in the value journal. Rows younger than `olderThanMs`
 * may belong to a write still in flight (possibly in another process) and are left alone.
 * A `put` row whose version the metadata references on that backend committed; any other
 * `put` row is an uncommitted write whose value is deleted. `delete` rows are carried out;
 * `fence` rows (a migration's reservation of the next version) are removed. Each row is
 * claimed first, so a writer or migration taking the same row over cannot race it.
 */
export async function reconcileValueJournal(
  deps: { database: CofferDatabase; backends: BackendSet; clock: Clock; logger: Logger },
  options: { olderThanMs: number },
): Promise<ReconcileResult> {
  const { db } = deps.database;
  const cutoff = new Date(deps.clock().getTime() - options.olderThanMs).toISOString();
  const result: ReconcileResult = { undone: 0, deleted: 0, failed: 0 };
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('value_journal')
      .selectAll()
      .where('created_at', '<=', cutoff)
      .where('created_at', '>', after)
      .orderBy('created_at')
      .limit(500)
      .execute();
    if (rows.length === 0) return result;
    for (const row of rows) {
      const ref = { secretId: row.secret_id, version: row.version };
      const backend = deps.backends.get(row.backend);
      if (backend === undefined) {
        deps.logger.warn(
          { backend: row.backend, secretId: row.secret_id },
          'journal names an unconfigured backend',
        );
        result.failed++;
        continue;
      }
      try {
        const claim = await claimJournalRow(db, row, deps.clock);
        if (claim === null) continue; // another process took it, or its owner finished
        if (row.action === 'fence') {
          // a migration that stopped reserved the next version; there is no value to remove
        } else if (row.action === 'put' && (await isReferenced(deps.database, row.backend, ref))) {
          // committed; only the journal row was left behind
        } else {
          await backend.delete(ref);
          if (row.action === 'put') result.undone++;
          else result.deleted++;
        }
        await releaseJournalRow(db, row, claim);
      } catch (err) {
        deps.logger.warn(
          { err, secretId: row.secret_id, version: row.version },
          'reconciling a value failed',
        );
        result.failed++;
      }
    }
    // Equal timestamps across a batch boundary are revisited next run rather than skipped now.
    after = rows[rows.length - 1]!.created_at;
  }
}

async function isReferenced(
  database: CofferDatabase,
  backend: string,
  ref: { secretId: string; version: number },
): Promise<boolean> {
  const row = await database.db
    .selectFrom('secret_versions')
    .innerJoin('secrets', 'secrets.id', 'secret_versions.secret_id')
    .select('secret_versions.version')
    .where('secret_versions.secret_id', '=', ref.secretId)
    .where('secret_versions.version', '=', ref.version)
    .where('secrets.backend', '=', backend)
    .executeTakeFirst();
  return row !== undefined;
}
