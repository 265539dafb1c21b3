import { CofferError, type FieldIssue } from '../errors/coffer-error.js';
import type { AuditPosition, EventWriter } from '../events/event-outbox.js';
import type { Actor, ResolvedActor } from '../identity/actor.js';
import { type AuditWriter, authorize, secretAudit } from '../secrets/secret-access.js';
import { type Clock, isoNow } from '../shared/clock.js';
import type { CofferDatabase } from '../storage/database.js';
import type { Tx } from '../storage/transaction.js';
import { inTransaction } from '../storage/transaction.js';
import {
  type AccessLevel,
  accessLevels,
  defaultGroupShareLevel,
  defaultUserShareLevel,
  isAccessLevel,
} from './access-level.js';

/** A share as callers see it, with the grantee's name for display. */
export interface Share {
  secretId: string;
  granteeType: 'user' | 'group';
  granteeId: string;
  granteeName: string;
  level: AccessLevel;
  createdAt: string;
  createdBy: string;
}

export interface ShareInput {
  granteeType: 'user' | 'group';
  /** The user's or group's id. */
  granteeId: string;
  /** Defaults to `read` for a user and `use` for a group. */
  level?: AccessLevel;
}

export interface ShareServiceDeps {
  database: CofferDatabase;
  resolveActor: (actor: Actor) => Promise<ResolvedActor>;
  audit: AuditWriter;
  events: EventWriter;
  clock: Clock;
}

/**
 * Grants and revokes shares. Changing shares needs `manage`; sharing with a group also needs
 * membership in it (or admin), so nobody can hand a secret to a group they are not part of.
 *
 * @example
 * await shares.share(asUser(alice), secretId, { granteeType: 'group', granteeId: systemGroupId });
 */
export function createShareService(deps: ShareServiceDeps) {
  const { database, audit, events, clock } = deps;
  const db = database.db;

  async function granteeName(
    input: Pick<ShareInput, 'granteeType' | 'granteeId'>,
  ): Promise<string | undefined> {
    if (input.granteeType === 'user') {
      const user = await db
        .selectFrom('users')
        .select(['username', 'disabled'])
        .where('id', '=', input.granteeId)
        .executeTakeFirst();
      return user?.username;
    }
    const group = await db
      .selectFrom('groups')
      .select('name')
      .where('id', '=', input.granteeId)
      .executeTakeFirst();
    return group?.name;
  }

  function inputIssues(input: ShareInput): FieldIssue[] {
    const issues: FieldIssue[] = [];
    if (input.granteeType !== 'user' && input.granteeType !== 'group') {
      issues.push({ path: 'granteeType', message: 'is user or group' });
    }
    if (typeof input.granteeId !== 'string' || input.granteeId === '') {
      issues.push({ path: 'granteeId', message: 'must name a user or group id' });
    }
    if (input.level !== undefined && !isAccessLevel(input.level)) {
      issues.push({ path: 'level', message: `is one of ${accessLevels.join(', ')}` });
    }
    return issues;
  }

  function recordEvent(
    tx: Tx,
    position: AuditPosition,
    type: 'secret.shared' | 'secret.unshared',
    row: { id: string; name: string; kind: string; current_version: number; owner_id: string },
    who: ResolvedActor,
  ): Promise<void> {
    return events.record(tx, position, {
      type,
      secretId: row.id,
      name: row.name,
      kind: row.kind,
      version: row.current_version,
      ownerId: row.owner_id,
      actorId: who.id,
    });
  }

  return {
    /** Who holds which level on a secret (needs `read`). */
    async list(actor: Actor, ref: string): Promise<Share[]> {
      const who = await deps.resolveActor(actor);
      const { row } = await authorize(db, audit, who, ref, 'listShares', 'any');
      const rows = await db.selectFrom('shares').selectAll().where('secret_id', '=', row.id).execute();
      const users = await db
        .selectFrom('users')
        .select(['id', 'username'])
        .where('id', 'in', ['', ...rows.filter((r) => r.grantee_type === 'user').map((r) => r.grantee_id)])
        .execute();
      const groups = await db
        .selectFrom('groups')
        .select(['id', 'name'])
        .where('id', 'in', ['', ...rows.filter((r) => r.grantee_type === 'group').map((r) => r.grantee_id)])
        .execute();
      const names = new Map<string, string>([
        ...users.map((u) => [`user:${u.id}`, u.username] as const),
        ...groups.map((g) => [`group:${g.id}`, g.name] as const),
      ]);
      return rows
        .map((r) => ({
          secretId: r.secret_id,
          granteeType: r.grantee_type as Share['granteeType'],
          granteeId: r.grantee_id,
          granteeName: names.get(`${r.grantee_type}:${r.grantee_id}`) ?? '(removed)',
          level: r.level as AccessLevel,
          createdAt: r.created_at,
          createdBy: r.created_by,
        }))
        .sort(
          (a, b) => a.granteeType.localeCompare(b.granteeType) || a.granteeName.localeCompare(b.granteeName),
        );
    },

    /** Grants (or changes) a share. Needs `manage`; a group share also needs membership or admin. */
    async share(actor: Actor, ref: string, input: ShareInput): Promise<Share> {
      const who = await deps.resolveActor(actor);
      const issues = inputIssues(input);
      if (issues.length > 0) throw CofferError.validation(issues);
      const { row } = await authorize(db, audit, who, ref, 'share');
      const name = await granteeName(input);
      if (name === undefined) {
        throw CofferError.validation([{ path: 'granteeId', message: `no such ${input.granteeType}` }]);
      }
      if (input.granteeType === 'user' && input.granteeId === row.owner_id) {
        throw CofferError.validation([
          { path: 'granteeId', message: 'is the owner, who already holds every right' },
        ]);
      }
      if (input.granteeType === 'group' && who.role !== 'admin' && !who.groupIds.includes(input.granteeId)) {
        await audit.appendStandalone(
          secretAudit(who, 'share.grant', row, {
            outcome: 'denied',
            details: { granteeType: 'group', granteeId: input.granteeId, reason: 'not a member' },
          }),
        );
        throw new CofferError('forbidden', `sharing with group "${name}" needs membership in it`);
      }
      const level =
        input.level ?? (input.granteeType === 'user' ? defaultUserShareLevel : defaultGroupShareLevel);
      const now = isoNow(clock);
      await inTransaction(database, async (tx) => {
        const previous = await tx
          .selectFrom('shares')
          .select('level')
          .where('secret_id', '=', row.id)
          .where('grantee_type', '=', input.granteeType)
          .where('grantee_id', '=', input.granteeId)
          .executeTakeFirst();
        if (previous === undefined) {
          await tx
            .insertInto('shares')
            .values({
              secret_id: row.id,
              grantee_type: input.granteeType,
              grantee_id: input.granteeId,
              level,
              created_at: now,
              created_by: who.id,
            })
            .execute();
        } else {
          await tx
            .updateTable('shares')
            .set({ level })
            .where('secret_id', '=', row.id)
            .where('grantee_type', '=', input.granteeType)
            .where('grantee_id', '=', input.granteeId)
            .execute();
        }
        const position = await audit.append(
          tx,
          secretAudit(who, 'share.grant', row, {
            details: {
              granteeType: input.granteeType,
              granteeId: input.granteeId,
              granteeName: name,
              level,
              previousLevel: previous?.level ?? null,
            },
          }),
        );
        await recordEvent(tx, position, 'secret.shared', row, who);
      });
      events.changed();
      return {
        secretId: row.id,
        granteeType: input.granteeType,
        granteeId: input.granteeId,
        granteeName: name,
        level,
        createdAt: now,
        createdBy: who.id,
      };
    },

    /** Revokes a share (needs `manage`); it takes effect on the grantee's next request. */
    async unshare(
      actor: Actor,
      ref: string,
      grantee: Pick<ShareInput, 'granteeType' | 'granteeId'>,
    ): Promise<void> {
      const who = await deps.resolveActor(actor);
      const issues = inputIssues(grantee);
      if (issues.length > 0) throw CofferError.validation(issues);
      const { row } = await authorize(db, audit, who, ref, 'unshare');
      await inTransaction(database, async (tx) => {
        const result = await tx
          .deleteFrom('shares')
          .where('secret_id', '=', row.id)
          .where('grantee_type', '=', grantee.granteeType)
          .where('grantee_id', '=', grantee.granteeId)
          .executeTakeFirst();
        if (result.numDeletedRows === 0n) {
          throw new CofferError(
            'not_found',
            `secret "${row.name}" is not shared with that ${grantee.granteeType}`,
          );
        }
        const position = await audit.append(
          tx,
          secretAudit(who, 'share.revoke', row, {
            details: { granteeType: grantee.granteeType, granteeId: grantee.granteeId },
          }),
        );
        await recordEvent(tx, position, 'secret.unshared', row, who);
      });
      events.changed();
    },
  };
}

export type ShareService = ReturnType<typeof createShareService>;
