import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { type Actor, asGroup } from '../identity/actor.js';
import {
  type CofferFixture,
  createCofferFixture,
  type TestPrincipal,
} from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { secretOperationLevels } from './access-policy.js';

/**
 * Every operation on a secret × every kind of principal, each cell asserted. The expected
 * levels and requirements are written out here by hand, not taken from the policy code, so
 * a change to the policy has to be made twice to pass.
 */
type Level = 'none' | 'use' | 'read' | 'write' | 'manage';
type Outcome = 'allowed' | 'forbidden' | 'not_found' | 'unauthenticated';

const required = {
  use: 'use',
  test: 'use',
  get: 'read',
  readValues: 'read',
  reveal: 'read',
  versions: 'read',
  listShares: 'read',
  createShareLink: 'read',
  listShareLinks: 'read',
  update: 'write',
  updateMetadata: 'write',
  rename: 'write',
  rollback: 'write',
  destroyVersions: 'write',
  share: 'manage',
  unshare: 'manage',
  // revoking a link someone else made (its creator may always revoke it)
  revokeShareLink: 'manage',
  delete: 'manage',
  restore: 'manage',
  purge: 'manage',
} as const satisfies Record<string, Level>;

type Operation = keyof typeof required;

/** The level each kind of principal holds on the secret under test (see setUp). */
const roles = {
  admin: 'manage',
  owner: 'manage',
  'member, user share use': 'use',
  'member, user share read': 'read',
  'member, user share write': 'write',
  'member, user share manage': 'manage',
  'member via group share (default use)': 'use',
  'member of no share': 'none',
  'disabled user (had manage)': 'unauthenticated',
  'bot, read-only token (shared manage)': 'read',
  'bot, read-write token (shared write)': 'write',
  'bot, revoked token (shared manage)': 'unauthenticated',
  'system group acting for itself (group share use)': 'use',
} as const satisfies Record<string, Level | 'unauthenticated'>;

type Role = keyof typeof roles;

const rank: Record<Level, number> = { none: 0, use: 1, read: 2, write: 3, manage: 4 };

function expected(role: Role, operation: Operation): Outcome {
  const held = roles[role];
  if (held === 'unauthenticated') return 'unauthenticated';
  if (rank[held] >= rank[required[operation]]) return 'allowed';
  return held === 'none' ? 'not_found' : 'forbidden';
}

await describeEachDialect('permission matrix', (dialect) => {
  let fx: CofferFixture;
  const actors = {} as Record<Role, Actor>;
  let owner: TestPrincipal;
  let outsider: TestPrincipal;
  let grantees: Record<'use' | 'read' | 'write' | 'manage', TestPrincipal>;
  let groupId: string;
  let systemGroupId: string;
  let disabled: TestPrincipal;
  let botRo: TestPrincipal;
  let botRw: TestPrincipal;
  let botRevoked: TestPrincipal & { tokenId: string };
  /** The share link the owner made on each secret set up for `revokeShareLink`. */
  const linkOf = new Map<string, string>();

  beforeAll(async () => {
    fx = await createCofferFixture(dialect);
    const { coffer, admin } = fx;
    owner = await fx.member('owner');
    outsider = await fx.member('outsider');
    grantees = {
      use: await fx.member('g-use'),
      read: await fx.member('g-read'),
      write: await fx.member('g-write'),
      manage: await fx.member('g-manage'),
    };
    const groupMember = await fx.member('group-member');
    // the owner must belong to a group to share with it
    groupId = (await fx.group('team', [groupMember, owner])).id;
    systemGroupId = await coffer.identity.systemGroupId();
    await coffer.identity.addGroupMember(admin.actor, systemGroupId, owner.id);
    disabled = await fx.member('disabled');
    botRo = await fx.bot('bot-ro', 'read-only');
    botRw = await fx.bot('bot-rw', 'read-write');
    botRevoked = await fx.bot('bot-revoked', 'read-write');
    await coffer.identity.revokeToken(admin.actor, botRevoked.tokenId);
    Object.assign(actors, {
      admin: admin.actor,
      owner: owner.actor,
      'member, user share use': grantees.use.actor,
      'member, user share read': grantees.read.actor,
      'member, user share write': grantees.write.actor,
      'member, user share manage': grantees.manage.actor,
      'member via group share (default use)': groupMember.actor,
      'member of no share': outsider.actor,
      'disabled user (had manage)': disabled.actor,
      'bot, read-only token (shared manage)': botRo.actor,
      'bot, read-write token (shared write)': botRw.actor,
      'bot, revoked token (shared manage)': botRevoked.actor,
      'system group acting for itself (group share use)': asGroup(systemGroupId),
    } satisfies Record<Role, Actor>);
  });
  afterAll(() => fx?.close());

  /** A fresh secret at version 2, shared as the roles table says. Deleted first for `restore`. */
  async function setUp(operation: Operation): Promise<string> {
    const { coffer } = fx;
    const secret = await coffer.secrets.create(owner.actor, {
      name: `m-${randomUUID().slice(0, 8)}`,
      kind: 'api-token',
      values: { token: 'v1' },
    });
    await coffer.secrets.update(owner.actor, secret.id, { values: { token: 'v2' } });
    const share = (
      granteeType: 'user' | 'group',
      granteeId: string,
      level?: 'use' | 'read' | 'write' | 'manage',
    ) => coffer.shares.share(owner.actor, secret.id, { granteeType, granteeId, ...(level ? { level } : {}) });
    for (const level of ['use', 'read', 'write', 'manage'] as const)
      await share('user', grantees[level].id, level);
    await share('group', groupId);
    await share('group', systemGroupId);
    await share('user', disabled.id, 'manage');
    await share('user', botRo.id, 'manage');
    await share('user', botRw.id, 'write');
    await share('user', botRevoked.id, 'manage');
    if (operation === 'restore') await coffer.secrets.delete(owner.actor, secret.id);
    if (operation === 'revokeShareLink') {
      linkOf.set(secret.id, (await coffer.shareLinks.create(owner.actor, secret.id)).link.id);
    }
    return secret.id;
  }

  function perform(operation: Operation, actor: Actor, id: string): Promise<unknown> {
    const { secrets, shares, shareLinks } = fx.coffer;
    switch (operation) {
      case 'use':
        return secrets.use(actor, id, { purpose: 'matrix' });
      case 'test':
        return secrets.use(actor, id, { purpose: 'connection-test' });
      case 'get':
        return secrets.get(actor, id);
      case 'readValues':
        return secrets.readValues(actor, id);
      case 'reveal':
        return secrets.readValues(actor, id, { reveal: true });
      case 'versions':
        return secrets.versions(actor, id);
      case 'listShares':
        return shares.list(actor, id);
      case 'createShareLink':
        return shareLinks.create(actor, id, { fields: ['token'] });
      case 'listShareLinks':
        return shareLinks.list(actor, id);
      case 'revokeShareLink':
        return shareLinks.revoke(actor, linkOf.get(id)!);
      case 'update':
        return secrets.update(actor, id, { values: { token: 'changed' } });
      case 'updateMetadata':
        return secrets.updateMetadata(actor, id, { description: 'changed' });
      case 'rename':
        return secrets.rename(actor, id, `renamed-${randomUUID().slice(0, 8)}`);
      case 'rollback':
        return secrets.rollback(actor, id, 1);
      case 'destroyVersions':
        return secrets.destroyVersions(actor, id, [1]);
      case 'share':
        return shares.share(actor, id, { granteeType: 'user', granteeId: outsider.id, level: 'read' });
      case 'unshare':
        return shares.unshare(actor, id, { granteeType: 'user', granteeId: grantees.use.id });
      case 'delete':
        return secrets.delete(actor, id);
      case 'restore':
        return secrets.restore(actor, id);
      case 'purge':
        return secrets.purge(actor, id);
    }
  }

  it('covers every operation the policy knows', () => {
    expect(Object.keys(required).sort()).toEqual(Object.keys(secretOperationLevels).sort());
  });

  it('disables the disabled user after the shares were granted', async () => {
    // setUp shares to the user first, so disable it only now; every cell then sees it disabled.
    await fx.coffer.identity.disableUser(fx.admin.actor, disabled.id);
  });

  for (const operation of Object.keys(required) as Operation[]) {
    describe(operation, () => {
      for (const role of Object.keys(roles) as Role[]) {
        const outcome = expected(role, operation);
        it(`${role}: ${outcome}`, async () => {
          const id = await setUp(operation);
          const result = await perform(operation, actors[role], id).then(
            () => 'allowed' as const,
            (err: unknown) => {
              if (isCofferError(err) && ['forbidden', 'not_found', 'unauthenticated'].includes(err.code)) {
                return err.code as Outcome;
              }
              throw err;
            },
          );
          expect(result).toBe(outcome);
          if (outcome === 'forbidden' || outcome === 'not_found') {
            const denied = await fx.coffer.database.db
              .selectFrom('audit_log')
              .select('action')
              .where('target_id', '=', id)
              .where('outcome', '=', 'denied')
              .execute();
            expect(denied.length, 'a refused attempt is audited').toBeGreaterThan(0);
          }
        });
      }
    });
  }

  describe('create and delete-all', () => {
    const creators: [Role, Outcome][] = [
      ['admin', 'allowed'],
      ['member of no share', 'allowed'],
      ['bot, read-write token (shared write)', 'allowed'],
      ['bot, read-only token (shared manage)', 'forbidden'],
      ['system group acting for itself (group share use)', 'forbidden'],
      ['disabled user (had manage)', 'unauthenticated'],
      ['bot, revoked token (shared manage)', 'unauthenticated'],
    ];
    const outcomeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'allowed' as const,
        (err: unknown) => {
          if (isCofferError(err) && ['forbidden', 'unauthenticated'].includes(err.code))
            return err.code as Outcome;
          throw err;
        },
      );

    for (const [role, outcome] of creators) {
      it(`create, ${role}: ${outcome}`, async () => {
        const name = `c-${randomUUID().slice(0, 8)}`;
        const input = { name, kind: 'api-token', values: { token: 'x' } };
        expect(await outcomeOf(fx.coffer.secrets.create(actors[role], input))).toBe(outcome);
        if (outcome === 'forbidden') {
          // Refused, recorded, and a delete-all is refused the same way (nothing deleted).
          const denied = await fx.coffer.audit.query(fx.admin.actor, {
            action: 'secret.create',
            outcome: 'denied',
          });
          expect(denied.items.length).toBeGreaterThan(0);
          const all = fx.coffer.secrets.deleteAll(actors[role], { confirm: 'delete-all' });
          expect(await outcomeOf(all)).toBe('forbidden');
        }
      });
    }

    it('lets only admins create a secret for someone else', async () => {
      const input = { name: `o-${randomUUID().slice(0, 8)}`, kind: 'api-token', values: { token: 'x' } };
      expect(await outcomeOf(fx.coffer.secrets.create(outsider.actor, { ...input, ownerId: owner.id }))).toBe(
        'forbidden',
      );
      const made = await fx.coffer.secrets.create(fx.admin.actor, { ...input, ownerId: owner.id });
      expect(made.ownerId).toBe(owner.id);
    });
  });

  describe('listing', () => {
    it('lists a secret exactly to principals holding read or better, and usable() to those holding use', async () => {
      const id = await setUp('get');
      for (const role of Object.keys(roles) as Role[]) {
        const held = roles[role];
        const actor = actors[role];
        if (held === 'unauthenticated') {
          const err = await fx.coffer.secrets.list(actor).catch((e: unknown) => e);
          expect(isCofferError(err, 'unauthenticated'), role).toBe(true);
          continue;
        }
        const listed = await collect((cursor) => fx.coffer.secrets.list(actor, { cursor, limit: 1000 }));
        expect(listed.includes(id), `${role} lists it`).toBe(rank[held] >= rank.read);
        const usable = await collect((cursor) => fx.coffer.secrets.usable(actor, { cursor, limit: 1000 }));
        expect(usable.includes(id), `${role} may use it`).toBe(rank[held] >= rank.use);
      }
    });

    it('takes a revoked share away on the next request', async () => {
      const id = await setUp('get');
      await fx.coffer.secrets.get(grantees.read.actor, id);
      await fx.coffer.shares.unshare(owner.actor, id, { granteeType: 'user', granteeId: grantees.read.id });
      const err = await fx.coffer.secrets.get(grantees.read.actor, id).catch((e: unknown) => e);
      expect(isCofferError(err, 'not_found')).toBe(true);
    });

    it('lets only members (or admins) share with a group', async () => {
      const id = await setUp('get');
      const err = await fx.coffer.shares
        .share(grantees.manage.actor, id, { granteeType: 'group', granteeId: groupId })
        .catch((e: unknown) => e);
      expect(isCofferError(err, 'forbidden')).toBe(true);
      await fx.coffer.shares.share(fx.admin.actor, id, {
        granteeType: 'group',
        granteeId: groupId,
        level: 'read',
      });
    });

    it('revokes, and records as revoked, the shares of a group that is deleted', async () => {
      const id = await setUp('get');
      const { id: doomed } = await fx.coffer.identity.createGroup(fx.admin.actor, { name: 'doomed-group' });
      await fx.coffer.shares.share(fx.admin.actor, id, { granteeType: 'group', granteeId: doomed });
      await fx.coffer.identity.deleteGroup(fx.admin.actor, doomed);
      expect((await fx.coffer.shares.list(fx.admin.actor, id)).map((s) => s.granteeId)).not.toContain(doomed);
      const revoked = (await fx.coffer.audit.query(fx.admin.actor, { action: 'share.revoke', targetId: id }))
        .items;
      expect(revoked[0]).toMatchObject({
        target: { type: 'secret', id },
        details: { granteeType: 'group', granteeId: doomed, reason: 'group deleted' },
      });
    });
  });
});

async function collect(
  page: (cursor: string | null) => Promise<{ items: { id: string }[]; nextCursor: string | null }>,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const result = await page(cursor);
    ids.push(...result.items.map((i) => i.id));
    cursor = result.nextCursor;
  } while (cursor !== null);
  return ids;
}
