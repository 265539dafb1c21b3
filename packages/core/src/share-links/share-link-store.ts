import { sql } from 'kysely';
import type { Queryable } from '../secrets/secret-store.js';
import { afterKeyset, type KeysetFeatures } from '../storage/keyset.js';
import type { ShareLinkRow } from '../storage/schema.js';
import type { ShareLink, ShareLinkRevokeReason, ShareLinkState } from './share-link-types.js';

/** Why a link's copy was destroyed: it was used up, it expired, or it was revoked (and why). */
export type EndReason = 'used' | 'expired' | ShareLinkRevokeReason;

const revokeReasons: readonly string[] = ['revoked', 'secret_deleted', 'too_many_failures'];

/** A link's state at `now`: revoked first, then used up, then expired. */
export function stateOf(row: ShareLinkRow, now: string): ShareLinkState {
  if (row.revoked_at !== null || (row.end_reason !== null && revokeReasons.includes(row.end_reason))) {
    return 'revoked';
  }
  if (row.views >= row.max_views || row.end_reason === 'used') return 'used';
  if (row.expires_at <= now || row.end_reason === 'expired') return 'expired';
  return 'active';
}

/** The metadata view of a row: never the sealed copy, never the key check. */
export function toShareLink(row: ShareLinkRow, now: string): ShareLink {
  const state = stateOf(row, now);
  return {
    id: row.id,
    secretId: row.secret_id,
    secretName: row.secret_name,
    secretKind: row.secret_kind,
    fields: JSON.parse(row.fields) as string[],
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxViews: row.max_views,
    views: row.views,
    passphrase: row.passphrase === 1,
    state,
    revokeReason:
      state === 'revoked' ? ((row.end_reason as ShareLinkRevokeReason | null) ?? 'revoked') : null,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    lastViewedAt: row.last_viewed_at,
    failedAttempts: row.failed_attempts,
  };
}

export async function insertLink(db: Queryable, row: ShareLinkRow): Promise<void> {
  await db.insertInto('share_links').values(row).execute();
}

export async function findLink(db: Queryable, id: string): Promise<ShareLinkRow | undefined> {
  return db.selectFrom('share_links').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Counts one view, atomically and only while the link is open: one conditional UPDATE, so of
 * concurrent opens of the last view (on any replica) exactly one gets a row back. The last view
 * destroys the sealed copy in the same statement. Returns whether this view was counted.
 *
 * The copy is cleared before `views` is assigned because MySQL evaluates assignments left to
 * right with the values already assigned; written this way every dialect reads the old `views`.
 */
export async function countView(db: Queryable, id: string, now: string): Promise<boolean> {
  const last = sql<boolean>`${sql.ref('views')} + 1 >= ${sql.ref('max_views')}`;
  const result = await db
    .updateTable('share_links')
    .set({
      sealed: sql`case when ${last} then null else ${sql.ref('sealed')} end`,
      ended_at: sql`case when ${last} then ${now} else ${sql.ref('ended_at')} end`,
      end_reason: sql`case when ${last} then ${'used'} else ${sql.ref('end_reason')} end`,
      last_viewed_at: now,
      views: sql`${sql.ref('views')} + 1`,
    })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('ended_at', 'is', null)
    .where('sealed', 'is not', null)
    .where('expires_at', '>', now)
    .where((eb) => eb('views', '<', eb.ref('max_views')))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Counts a wrong passphrase on a link that is still open; returns the count after it, or
 * undefined when the link had ended meanwhile.
 */
export async function countFailure(db: Queryable, id: string): Promise<number | undefined> {
  const result = await db
    .updateTable('share_links')
    .set({ failed_attempts: sql`${sql.ref('failed_attempts')} + 1` })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) return undefined;
  const row = await db
    .selectFrom('share_links')
    .select('failed_attempts')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.failed_attempts;
}

/**
 * Ends a link that has not ended yet: destroys its copy and records why (a revocation also
 * records when and by whom). Returns whether this call ended it, so the audit record of an end
 * is written exactly once, whichever replica gets there first.
 */
export async function endLink(
  db: Queryable,
  id: string,
  now: string,
  reason: EndReason,
  revokedBy?: string,
): Promise<boolean> {
  const revoked = revokeReasons.includes(reason);
  const result = await db
    .updateTable('share_links')
    .set({
      sealed: null,
      ended_at: now,
      end_reason: reason,
      ...(revoked ? { revoked_at: now, revoked_by: revokedBy ?? 'system' } : {}),
    })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** A secret's links, newest first, after the keyset cursor `after`. */
export async function linksOfSecret(
  db: Queryable,
  secretId: string,
  options: { after?: { createdAt: string; id: string }; limit: number; features: KeysetFeatures },
): Promise<ShareLinkRow[]> {
  const { after } = options;
  return db
    .selectFrom('share_links')
    .selectAll()
    .where('secret_id', '=', secretId)
    .$if(after !== undefined, (q) =>
      q.where((eb) =>
        afterKeyset(eb, options.features, 'desc', ['created_at', after!.createdAt], ['id', after!.id]),
      ),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit)
    .execute();
}

/** Links not yet ended whose time ran out (the sweep destroys their copies). */
export async function expiredOpenLinks(db: Queryable, now: string, limit: number): Promise<ShareLinkRow[]> {
  return db
    .selectFrom('share_links')
    .selectAll()
    .where('ended_at', 'is', null)
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
}

/** Links not yet ended of one secret, or (without an id) of secrets deleted or purged. */
export async function openLinksOfGoneSecrets(
  db: Queryable,
  limit: number,
  secretId?: string,
): Promise<ShareLinkRow[]> {
  return db
    .selectFrom('share_links')
    .leftJoin('secrets', 'secrets.id', 'share_links.secret_id')
    .selectAll('share_links')
    .where('share_links.ended_at', 'is', null)
    .$if(secretId !== undefined, (q) => q.where('share_links.secret_id', '=', secretId!))
    .where((eb) => eb.or([eb('secrets.id', 'is', null), eb('secrets.deleted_at', 'is not', null)]))
    .limit(limit)
    .execute();
}
