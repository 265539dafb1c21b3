import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CofferError } from '../errors/coffer-error.js';
import { decodeCursor, encodeCursor, type Page, pageLimit } from '../shared/page.js';
import type { CofferTables, GroupRow } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/sql-errors.js';
import type { Actor } from './actor.js';
import {
  auditEntry,
  deny,
  type IdentityContext,
  isAdmin,
  parseInput,
  prefixMatch,
  readAs,
  requireAdminWrite,
  requirePerson,
  runAs,
} from './identity-context.js';
import { groupOf } from './identity-rows.js';
import { createGroupSchema, listRequestSchema, updateGroupSchema } from './identity-schemas.js';
import type {
  CreateGroupInput,
  Group,
  GroupMember,
  GroupWithMembers,
  ListGroupsRequest,
  UpdateGroupInput,
  UserType,
} from './identity-types.js';

/** The builtin group that Coffer's own features (mail, reminders) act as. */
export const systemGroupName = 'system';

/**
 * Groups of users. A share to a group lets its members `use` a secret; the builtin `system`
 * group is how Coffer's own features (the mail sender) get at the secrets they need.
 *
 * @example
 * const team = await identity.createGroup(admin, { name: 'platform' });
 * await identity.addGroupMember(admin, team.id, adaId);
 */
export interface GroupService {
  /**
   * Admins only.
   *
   * @example
   * await identity.createGroup(admin, { name: 'platform', description: 'Platform team' });
   */
  createGroup(actor: Actor, input: CreateGroupInput): Promise<Group>;
  /**
   * Admins only; builtin groups keep their name.
   *
   * @example
   * await identity.updateGroup(admin, groupId, { description: 'On call' });
   */
  updateGroup(actor: Actor, groupId: string, input: UpdateGroupInput): Promise<Group>;
  /**
   * Admins only; builtin groups cannot be deleted (`conflict`). Memberships go with the group.
   *
   * @example
   * await identity.deleteGroup(admin, groupId);
   */
  deleteGroup(actor: Actor, groupId: string): Promise<void>;
  /**
   * Any authenticated user, sorted by name, with a prefix `query`.
   *
   * @example
   * const { items } = await identity.listGroups(actor, { query: 'plat' });
   */
  listGroups(actor: Actor, request?: ListGroupsRequest): Promise<Page<Group>>;
  /**
   * The group with its members, for admins and the group's members.
   *
   * @example
   * const { members } = await identity.getGroup(actor, groupId);
   */
  getGroup(actor: Actor, groupId: string): Promise<GroupWithMembers>;
  /**
   * Admins only; `already_exists` when the user is a member already.
   *
   * @example
   * await identity.addGroupMember(admin, groupId, userId);
   */
  addGroupMember(actor: Actor, groupId: string, userId: string): Promise<void>;
  /**
   * Admins only; `not_found` when the user is not a member. Effective on the member's next call.
   *
   * @example
   * await identity.removeGroupMember(admin, groupId, userId);
   */
  removeGroupMember(actor: Actor, groupId: string, userId: string): Promise<void>;
  /**
   * The id of the builtin `system` group, to act as it: `asGroup(await identity.systemGroupId())`.
   *
   * @example
   * const mailer = asGroup(await identity.systemGroupId(), { source: 'system' });
   */
  systemGroupId(): Promise<string>;
}

/** The internal factory behind {@link GroupService}. */
export function createGroupService(context: IdentityContext): GroupService {
  const { database, audit } = context;

  async function loadGroup(db: Kysely<CofferTables>, groupId: string): Promise<GroupRow> {
    const row = await db.selectFrom('groups').selectAll().where('id', '=', groupId).executeTakeFirst();
    if (row === undefined) throw new CofferError('not_found', `group ${groupId} not found`);
    return row;
  }

  async function memberCount(db: Kysely<CofferTables>, groupId: string): Promise<number> {
    const row = await db
      .selectFrom('group_members')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('group_id', '=', groupId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function createGroup(actor: Actor, input: CreateGroupInput): Promise<Group> {
    const parsed = parseInput(createGroupSchema, input);
    return runAs(context, actor, async (tx, resolved, now) => {
      const target = { type: 'group', name: parsed.name } as const;
      requireAdminWrite(resolved, 'create groups', { action: 'group.create', target });
      const row: GroupRow = {
        id: randomUUID(),
        name: parsed.name,
        description: parsed.description ?? '',
        builtin: 0,
        created_at: now,
      };
      try {
        await tx.insertInto('groups').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err))
          throw new CofferError('already_exists', `a group named ${parsed.name} already exists`);
        throw err;
      }
      await audit.append(tx, auditEntry(resolved, 'group.create', 'success', { ...target, id: row.id }));
      return groupOf(row, 0);
    });
  }

  async function updateGroup(actor: Actor, groupId: string, input: UpdateGroupInput): Promise<Group> {
    const patch = parseInput(updateGroupSchema, input);
    return runAs(context, actor, async (tx, resolved) => {
      requireAdminWrite(resolved, 'change groups', {
        action: 'group.update',
        target: { type: 'group', id: groupId },
      });
      const row = await loadGroup(tx, groupId);
      const changes: Partial<GroupRow> = {};
      if (patch.name !== undefined && patch.name !== row.name) {
        // Coffer's features find builtin groups by name.
        if (row.builtin !== 0)
          throw new CofferError('conflict', `the builtin group ${row.name} cannot be renamed`);
        changes.name = patch.name;
      }
      if (patch.description !== undefined && patch.description !== row.description) {
        changes.description = patch.description;
      }
      const changed = Object.keys(changes);
      if (changed.length > 0) {
        try {
          await tx.updateTable('groups').set(changes).where('id', '=', groupId).execute();
        } catch (err) {
          if (isUniqueViolation(err))
            throw new CofferError('already_exists', `a group named ${patch.name} already exists`);
          throw err;
        }
        await audit.append(
          tx,
          auditEntry(
            resolved,
            'group.update',
            'success',
            { type: 'group', id: groupId, name: changes.name ?? row.name },
            { changed, ...(changes.name === undefined ? {} : { previousName: row.name }) },
          ),
        );
      }
      return groupOf({ ...row, ...changes }, await memberCount(tx, groupId));
    });
  }

  async function deleteGroup(actor: Actor, groupId: string): Promise<void> {
    await runAs(context, actor, async (tx, resolved) => {
      requireAdminWrite(resolved, 'delete groups', {
        action: 'group.delete',
        target: { type: 'group', id: groupId },
      });
      const row = await loadGroup(tx, groupId);
      if (row.builtin !== 0)
        throw new CofferError('conflict', `the builtin group ${row.name} cannot be deleted`);
      const removed = await tx.deleteFrom('group_members').where('group_id', '=', groupId).executeTakeFirst();
      // Shares to the group go with it, so no secret keeps a grant to a group that no longer
      // exists; each is recorded as revoked, like a share removed by hand.
      const shared = await tx
        .selectFrom('shares')
        .innerJoin('secrets', 'secrets.id', 'shares.secret_id')
        .select(['secrets.id', 'secrets.name'])
        .where('shares.grantee_type', '=', 'group')
        .where('shares.grantee_id', '=', groupId)
        .execute();
      await tx
        .deleteFrom('shares')
        .where('grantee_type', '=', 'group')
        .where('grantee_id', '=', groupId)
        .execute();
      for (const secret of shared) {
        await audit.append(
          tx,
          auditEntry(
            resolved,
            'share.revoke',
            'success',
            { type: 'secret', id: secret.id, name: secret.name },
            { granteeType: 'group', granteeId: groupId, reason: 'group deleted' },
          ),
        );
      }
      await tx.deleteFrom('groups').where('id', '=', groupId).execute();
      await audit.append(
        tx,
        auditEntry(
          resolved,
          'group.delete',
          'success',
          { type: 'group', id: groupId, name: row.name },
          {
            membersRemoved: Number(removed.numDeletedRows),
            sharesRemoved: shared.length,
          },
        ),
      );
    });
  }

  async function listGroups(actor: Actor, request: ListGroupsRequest = {}): Promise<Page<Group>> {
    return readAs(context, actor, async (resolved) => {
      requirePerson(resolved);
      const { query, cursor } = parseInput(listRequestSchema, request);
      const limit = pageLimit(request);
      const after =
        cursor === undefined || cursor === null ? undefined : String(decodeCursor(cursor, ['string'])[0]);
      const rows = await database.db
        .selectFrom('groups')
        .selectAll('groups')
        .select((eb) =>
          eb
            .selectFrom('group_members')
            .select(eb.fn.countAll().as('n'))
            .whereRef('group_members.group_id', '=', 'groups.id')
            .as('member_count'),
        )
        .$if(after !== undefined, (q) => q.where('groups.name', '>', after!))
        .$if(query !== undefined && query !== '', (q) => q.where(prefixMatch('groups.name', query!)))
        .orderBy('groups.name')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map(({ member_count, ...row }) => groupOf(row, Number(member_count ?? 0))),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.name]) : null,
      };
    });
  }

  async function getGroup(actor: Actor, groupId: string): Promise<GroupWithMembers> {
    return readAs(context, actor, async (resolved) => {
      requirePerson(resolved);
      const row = await loadGroup(database.db, groupId);
      if (!isAdmin(resolved) && !resolved.groupIds.includes(groupId)) {
        deny(resolved, 'only admins and members may see who is in a group');
      }
      const members = await database.db
        .selectFrom('group_members')
        .innerJoin('users', 'users.id', 'group_members.user_id')
        .select([
          'users.id',
          'users.username',
          'users.display_name',
          'users.type',
          'users.disabled',
          'group_members.added_at',
        ])
        .where('group_members.group_id', '=', groupId)
        .orderBy('users.username')
        .execute();
      return {
        ...groupOf(row, members.length),
        members: members.map(
          (m): GroupMember => ({
            userId: m.id,
            username: m.username,
            displayName: m.display_name,
            type: m.type as UserType,
            disabled: m.disabled !== 0,
            addedAt: m.added_at,
          }),
        ),
      };
    });
  }

  async function changeMembership(
    actor: Actor,
    groupId: string,
    userId: string,
    add: boolean,
  ): Promise<void> {
    const action = add ? 'group.member_add' : 'group.member_remove';
    await runAs(context, actor, async (tx, resolved, now) => {
      const audited = { action, target: { type: 'group', id: groupId }, details: { userId } } as const;
      requireAdminWrite(resolved, 'change group members', audited);
      const group = await loadGroup(tx, groupId);
      const user = await tx
        .selectFrom('users')
        .select(['id', 'username'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (user === undefined) throw new CofferError('not_found', `user ${userId} not found`);
      if (add) {
        try {
          await tx
            .insertInto('group_members')
            .values({ group_id: groupId, user_id: userId, added_at: now })
            .execute();
        } catch (err) {
          if (isUniqueViolation(err)) {
            throw new CofferError('already_exists', `${user.username} is already a member of ${group.name}`);
          }
          throw err;
        }
      } else {
        const removed = await tx
          .deleteFrom('group_members')
          .where('group_id', '=', groupId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) {
          throw new CofferError('not_found', `${user.username} is not a member of ${group.name}`);
        }
      }
      await audit.append(
        tx,
        auditEntry(
          resolved,
          action,
          'success',
          { type: 'group', id: group.id, name: group.name },
          {
            userId: user.id,
            username: user.username,
          },
        ),
      );
    });
  }

  async function systemGroupId(): Promise<string> {
    const row = await database.db
      .selectFrom('groups')
      .select('id')
      .where('name', '=', systemGroupName)
      .where('builtin', '=', 1)
      .executeTakeFirst();
    if (row === undefined)
      throw new CofferError('not_found', 'the system group does not exist yet; run bootstrap');
    return row.id;
  }

  return {
    createGroup,
    updateGroup,
    deleteGroup,
    listGroups,
    getGroup,
    addGroupMember: (actor, groupId, userId) => changeMembership(actor, groupId, userId, true),
    removeGroupMember: (actor, groupId, userId) => changeMembership(actor, groupId, userId, false),
    systemGroupId,
  };
}
