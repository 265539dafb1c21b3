import type { ResolvedActor } from '../identity/actor.js';
import type { ReachMemory } from '../secrets/reach-memory.js';
import { type Queryable, visibleLevels, withinReach } from '../secrets/secret-store.js';
import { afterKeyset, type KeysetFeatures } from '../storage/keyset.js';
import type { SecretRow } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import type { DueCounts, ReminderReason } from './reminder-types.js';

export interface DueQuery {
  actor: ResolvedActor;
  /** Only what the actor owns or holds through its own shares, ignoring admin rights. */
  mine: boolean;
  now: string;
  horizon: string;
  reason?: ReminderReason;
  after?: { dueAt: string; id: string };
  limit: number;
  /** How to seek the page to `after` on this dialect. */
  features: KeysetFeatures;
  /** Up to how many secrets within reach a page reads those instead of walking the due ones (tests set it). */
  reachLimit?: number;
  /** Where the last counts of reach are kept for a few seconds; without it every page counts. */
  reachMemory?: ReachMemory;
}

/**
 * Live secrets due before `horizon` (or for `reason`), that the actor may read, in
 * (due_at, id) order. A `use`-only holder sees none of them, like in lists.
 */
export async function dueRows(db: Queryable, q: DueQuery): Promise<SecretRow[]> {
  const actor = q.actor;
  // A group actor holds at most `use`, which never lists a secret.
  if (actor.type === 'group') return [];
  let query = db
    .selectFrom('secrets')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('due_at', 'is not', null);
  switch (q.reason) {
    case undefined:
      query = query.where('due_at', '<=', q.horizon);
      break;
    case 'expired':
      query = query.where('expires_at', '<=', q.now);
      break;
    case 'expiring':
      query = query.where('expires_at', '>', q.now).where('expires_at', '<=', q.horizon);
      break;
    case 'rotation':
      query = query.where('rotation_due_at', '<=', q.horizon);
      break;
  }
  const unrestricted = actor.role === 'admin' && !q.mine;
  if (!unrestricted) query = await withinReach(db, query, actor, visibleLevels, q.reachLimit, q.reachMemory);
  const after = q.after;
  if (after !== undefined) {
    query = query.where((eb) =>
      afterKeyset(eb, q.features, 'asc', ['due_at', after.dueAt], ['id', after.id]),
    );
  }
  return query.orderBy('due_at').orderBy('id').limit(q.limit).execute();
}

/** How many live secrets are due at `now` looking ahead to `horizon`, by reason. */
export async function dueCounts(db: Queryable, now: string, horizon: string): Promise<DueCounts> {
  const row = await db
    .selectFrom('secrets')
    .select((eb) => [
      eb.fn
        .sum<number | string | null>(eb.case().when('expires_at', '<=', now).then(1).else(0).end())
        .as('expired'),
      eb.fn
        .sum<number | string | null>(
          eb
            .case()
            .when(eb.and([eb('expires_at', '>', now), eb('expires_at', '<=', horizon)]))
            .then(1)
            .else(0)
            .end(),
        )
        .as('expiring'),
      eb.fn
        .sum<number | string | null>(eb.case().when('rotation_due_at', '<=', horizon).then(1).else(0).end())
        .as('rotation'),
    ])
    .where('deleted_at', 'is', null)
    .where('due_at', '<=', horizon)
    .executeTakeFirst();
  return {
    expired: Number(row?.expired ?? 0),
    expiring: Number(row?.expiring ?? 0),
    rotation: Number(row?.rotation ?? 0),
  };
}

/** A due secret as the mail job sees it: the row and its owner's address. */
export interface DueCandidate {
  row: SecretRow;
  owner: {
    id: string;
    username: string;
    displayName: string;
    email: string | null;
    disabled: boolean;
  } | null;
}

/** Live secrets due before `horizon`, with their owners, a page at a time in (due_at, id) order. */
export async function dueCandidates(
  db: Queryable,
  horizon: string,
  after: { dueAt: string; id: string } | undefined,
  limit: number,
  features: KeysetFeatures,
): Promise<DueCandidate[]> {
  let query = db
    .selectFrom('secrets')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('due_at', 'is not', null)
    .where('due_at', '<=', horizon);
  if (after !== undefined) {
    query = query.where((eb) => afterKeyset(eb, features, 'asc', ['due_at', after.dueAt], ['id', after.id]));
  }
  const rows = await query.orderBy('due_at').orderBy('id').limit(limit).execute();
  const ownerIds = [...new Set(rows.map((r) => r.owner_id))];
  const owners =
    ownerIds.length === 0
      ? []
      : await db
          .selectFrom('users')
          .select(['id', 'username', 'display_name', 'email', 'disabled'])
          .where('id', 'in', ownerIds)
          .execute();
  const byId = new Map(owners.map((o) => [o.id, o]));
  return rows.map((row) => {
    const o = byId.get(row.owner_id);
    return {
      row,
      owner:
        o === undefined
          ? null
          : {
              id: o.id,
              username: o.username,
              displayName: o.display_name,
              email: o.email,
              disabled: o.disabled === 1,
            },
    };
  });
}

/** One reminder: a secret, a reason, a period. */
export interface ReminderKey {
  secretId: string;
  reason: ReminderReason;
  periodKey: string;
}

/** The reminders already claimed or sent among these secrets, as `secretId reason periodKey` keys. */
export async function claimedKeys(db: Queryable, secretIds: readonly string[]): Promise<Set<string>> {
  if (secretIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('reminders_sent')
    .select(['secret_id', 'reason', 'period_key'])
    .where('secret_id', 'in', secretIds)
    .execute();
  return new Set(
    rows.map((r) =>
      keyText({ secretId: r.secret_id, reason: r.reason as ReminderReason, periodKey: r.period_key }),
    ),
  );
}

export function keyText(key: ReminderKey): string {
  return `${key.secretId} ${key.reason} ${key.periodKey}`;
}

/**
 * Claims a reminder by inserting its row: true when this engine got it, false when another
 * engine (or an earlier run) already holds it. The primary key decides, on every dialect.
 */
export async function claimReminder(
  db: Queryable,
  key: ReminderKey,
  claimedAt: string,
  claimedBy: string,
): Promise<boolean> {
  try {
    await db
      .insertInto('reminders_sent')
      .values({
        secret_id: key.secretId,
        reason: key.reason,
        period_key: key.periodKey,
        claimed_at: claimedAt,
        claimed_by: claimedBy,
        sent_at: null,
      })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/** Gives a claim back (the mail failed), so the next run tries again. */
export async function releaseReminder(db: Queryable, key: ReminderKey, claimedBy: string): Promise<void> {
  await db
    .deleteFrom('reminders_sent')
    .where('secret_id', '=', key.secretId)
    .where('reason', '=', key.reason)
    .where('period_key', '=', key.periodKey)
    .where('claimed_by', '=', claimedBy)
    .execute();
}

export async function markReminderSent(db: Queryable, key: ReminderKey, sentAt: string): Promise<void> {
  await db
    .updateTable('reminders_sent')
    .set({ sent_at: sentAt })
    .where('secret_id', '=', key.secretId)
    .where('reason', '=', key.reason)
    .where('period_key', '=', key.periodKey)
    .execute();
}

/**
 * Tidies the claims: drops those never marked sent by a claimant that stopped before `cutoff`
 * (a crash between claim and mail), so their reminder is sent after all, and those of secrets
 * that no longer exist.
 */
export async function tidyClaims(db: Queryable, cutoff: string): Promise<void> {
  await db
    .deleteFrom('reminders_sent')
    .where('sent_at', 'is', null)
    .where('claimed_at', '<', cutoff)
    .execute();
  await db
    .deleteFrom('reminders_sent')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('secrets')
            .select('secrets.id')
            .whereRef('secrets.id', '=', 'reminders_sent.secret_id'),
        ),
      ),
    )
    .execute();
}
