import { afterAll, beforeAll, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { describeEachDialect } from '../test-support/databases.js';
import { type Actor, asGroup, asToken, asUser } from './actor.js';
import type { IdentityService } from './identity-service.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

type Principal =
  | 'admin'
  | 'adminReadOnly'
  | 'member'
  | 'serviceAccount'
  | 'group'
  | 'disabledUser'
  | 'revokedToken';
type Outcome = 'ok' | 'forbidden' | 'unauthenticated';

interface Subject {
  actor: Actor;
  /** The user (or group) the actor stands for. */
  id: string;
}

/** Fresh objects for one operation, made by the admin, so every cell starts from the same state. */
interface Targets {
  otherUserId: string;
  groupId: string;
  memberOfGroupId: string;
  otherTokenId: string;
}

interface Operation {
  name: string;
  /** Whether a refusal is recorded in the audit log (changes are; reads are not). */
  audited: boolean;
  run(identity: IdentityService, subject: Subject, targets: Targets): Promise<unknown>;
  expected: Partial<Record<Principal, Outcome>>;
}

/** Everything except `admin` is forbidden unless listed. */
const adminOnly = { admin: 'ok' } as const;
/** Any person may read; group actors may not. */
const anyPerson = { admin: 'ok', adminReadOnly: 'ok', member: 'ok', serviceAccount: 'ok' } as const;

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

const operations: Operation[] = [
  {
    name: 'createUser',
    audited: true,
    run: (id) => id.createUser(subjectActor, { username: unique('new') }),
    expected: adminOnly,
  },
  {
    name: 'getUser',
    audited: false,
    run: (id, _s, t) => id.getUser(subjectActor, t.otherUserId),
    expected: anyPerson,
  },
  { name: 'listUsers', audited: false, run: (id) => id.listUsers(subjectActor), expected: anyPerson },
  {
    name: 'updateUser (someone else)',
    audited: true,
    run: (id, _s, t) => id.updateUser(subjectActor, t.otherUserId, { displayName: 'Changed' }),
    expected: adminOnly,
  },
  {
    name: 'updateUser (self)',
    audited: true,
    run: (id, s) => id.updateUser(subjectActor, s.id, { displayName: unique('Me') }),
    expected: { admin: 'ok', member: 'ok', serviceAccount: 'ok', group: 'forbidden' },
  },
  {
    name: 'updateUser (own role)',
    audited: true,
    run: (id, s) => id.updateUser(subjectActor, s.id, { role: 'admin' }),
    expected: { admin: 'ok' },
  },
  {
    name: 'disableUser',
    audited: true,
    run: (id, _s, t) => id.disableUser(subjectActor, t.otherUserId),
    expected: adminOnly,
  },
  {
    name: 'enableUser',
    audited: true,
    run: (id, _s, t) => id.enableUser(subjectActor, t.otherUserId),
    expected: adminOnly,
  },
  {
    name: 'setPassword (someone else)',
    audited: true,
    run: (id, _s, t) => id.setPassword(subjectActor, t.otherUserId, { newPassword: 'a brand new password' }),
    expected: adminOnly,
  },
  {
    name: 'createGroup',
    audited: true,
    run: (id) => id.createGroup(subjectActor, { name: unique('group') }),
    expected: adminOnly,
  },
  {
    name: 'updateGroup',
    audited: true,
    run: (id, _s, t) => id.updateGroup(subjectActor, t.groupId, { description: 'changed' }),
    expected: adminOnly,
  },
  {
    name: 'deleteGroup',
    audited: true,
    run: (id, _s, t) => id.deleteGroup(subjectActor, t.groupId),
    expected: adminOnly,
  },
  { name: 'listGroups', audited: false, run: (id) => id.listGroups(subjectActor), expected: anyPerson },
  {
    name: 'getGroup (not a member)',
    audited: false,
    run: (id, _s, t) => id.getGroup(subjectActor, t.groupId),
    expected: { admin: 'ok', adminReadOnly: 'ok' },
  },
  {
    name: 'getGroup (a member)',
    audited: false,
    run: (id, _s, t) => id.getGroup(subjectActor, t.memberOfGroupId),
    expected: anyPerson,
  },
  {
    name: 'addGroupMember',
    audited: true,
    run: (id, _s, t) => id.addGroupMember(subjectActor, t.groupId, t.otherUserId),
    expected: adminOnly,
  },
  {
    name: 'removeGroupMember',
    audited: true,
    run: (id, s, t) => id.removeGroupMember(subjectActor, t.memberOfGroupId, s.id),
    expected: adminOnly,
  },
  {
    name: 'createToken (self)',
    audited: true,
    run: (id) => id.createToken(subjectActor, { name: 'mine', scope: 'read-only' }),
    expected: { admin: 'ok', member: 'ok' },
  },
  {
    name: 'createToken (someone else)',
    audited: true,
    run: (id, _s, t) =>
      id.createToken(subjectActor, { userId: t.otherUserId, name: 'theirs', scope: 'read-only' }),
    expected: adminOnly,
  },
  {
    name: 'listTokens (self)',
    audited: false,
    run: (id) => id.listTokens(subjectActor),
    expected: anyPerson,
  },
  {
    name: 'listTokens (someone else)',
    audited: false,
    run: (id, _s, t) => id.listTokens(subjectActor, { userId: t.otherUserId }),
    expected: { admin: 'ok', adminReadOnly: 'ok' },
  },
  {
    name: 'revokeToken (someone else’s)',
    audited: true,
    run: (id, _s, t) => id.revokeToken(subjectActor, t.otherTokenId),
    expected: adminOnly,
  },
  {
    name: 'revokeAllSessions (someone else)',
    audited: true,
    run: (id, _s, t) => id.revokeAllSessions(subjectActor, t.otherUserId),
    expected: adminOnly,
  },
  {
    name: 'revokeAllSessions (self)',
    audited: true,
    run: (id, s) => id.revokeAllSessions(subjectActor, s.id),
    expected: { admin: 'ok', member: 'ok', serviceAccount: 'ok' },
  },
];

// Set per cell; the operations read it so the table above stays readable.
let subjectActor: Actor;

await describeEachDialect('identity permission matrix', (dialect) => {
  let fx: IdentityFixture;
  let subjects: Record<Principal, () => Promise<Subject>>;
  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
    const admin = fx.admin;
    subjects = {
      // A fresh admin per cell, so disabling or demoting someone never hits the last-admin rule.
      admin: async () => {
        const user = await fx.identity.createUser(admin.actor, { username: unique('adm'), role: 'admin' });
        return { actor: asUser(user.id), id: user.id };
      },
      adminReadOnly: async () => {
        const user = await fx.identity.createUser(admin.actor, { username: unique('ro'), role: 'admin' });
        const { info } = await fx.identity.createToken(admin.actor, {
          userId: user.id,
          name: 'ro',
          scope: 'read-only',
        });
        return { actor: asToken(info.id), id: user.id };
      },
      member: async () => {
        const user = await fx.identity.createUser(admin.actor, { username: unique('mem') });
        return { actor: asUser(user.id), id: user.id };
      },
      serviceAccount: async () => {
        const bot = await fx.serviceAccount(unique('bot'));
        return { actor: bot.actor, id: bot.id };
      },
      group: async () => {
        const group = await fx.identity.createGroup(admin.actor, { name: unique('actor-group') });
        return { actor: asGroup(group.id), id: group.id };
      },
      disabledUser: async () => {
        const user = await fx.identity.createUser(admin.actor, { username: unique('off'), role: 'admin' });
        await fx.identity.disableUser(admin.actor, user.id);
        return { actor: asUser(user.id), id: user.id };
      },
      revokedToken: async () => {
        const user = await fx.identity.createUser(admin.actor, { username: unique('rev'), role: 'admin' });
        const { info } = await fx.identity.createToken(admin.actor, {
          userId: user.id,
          name: 'gone',
          scope: 'read-write',
        });
        await fx.identity.revokeToken(admin.actor, info.id);
        return { actor: asToken(info.id), id: user.id };
      },
    };
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function targetsFor(subject: Subject): Promise<Targets> {
    const admin = fx.admin.actor;
    const other = await fx.identity.createUser(admin, { username: unique('other') });
    const group = await fx.identity.createGroup(admin, { name: unique('target') });
    const memberOf = await fx.identity.createGroup(admin, { name: unique('mine') });
    const isUser =
      (await fx.database.db
        .selectFrom('users')
        .select('id')
        .where('id', '=', subject.id)
        .executeTakeFirst()) !== undefined;
    if (isUser) await fx.identity.addGroupMember(admin, memberOf.id, subject.id);
    const { info } = await fx.identity.createToken(admin, {
      userId: other.id,
      name: 'other',
      scope: 'read-write',
    });
    return { otherUserId: other.id, groupId: group.id, memberOfGroupId: memberOf.id, otherTokenId: info.id };
  }

  const principals: Principal[] = [
    'admin',
    'adminReadOnly',
    'member',
    'serviceAccount',
    'group',
    'disabledUser',
    'revokedToken',
  ];

  for (const operation of operations) {
    it(`${operation.name}: ${principals.map((p) => `${p}=${expectedOf(operation, p)}`).join(' ')}`, async () => {
      for (const principal of principals) {
        const subject = await subjects[principal]();
        const targets = await targetsFor(subject);
        const deniedBefore = await deniedCount(subject.id);
        subjectActor = subject.actor;
        let outcome: string;
        try {
          await operation.run(fx.identity, subject, targets);
          outcome = 'ok';
        } catch (err) {
          if (!isCofferError(err)) throw err;
          outcome = err.code;
        }
        expect({ principal, outcome }).toEqual({ principal, outcome: expectedOf(operation, principal) });
        if (outcome === 'forbidden') {
          expect({ principal, denialsRecorded: (await deniedCount(subject.id)) - deniedBefore }).toEqual({
            principal,
            denialsRecorded: operation.audited ? 1 : 0,
          });
        }
      }
    });
  }

  async function deniedCount(actorId: string): Promise<number> {
    return (await fx.audit.query(fx.admin.actor, { actorId, outcome: 'denied', limit: 1000 })).items.length;
  }
});

function expectedOf(operation: Operation, principal: Principal): Outcome {
  if (principal === 'disabledUser' || principal === 'revokedToken') return 'unauthenticated';
  return operation.expected[principal] ?? 'forbidden';
}
