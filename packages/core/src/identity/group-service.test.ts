import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../test-support/databases.js';
import { createIdentityFixture, type IdentityFixture } from './test-support/identity-fixture.js';

await describeEachDialect('groups', (dialect) => {
  let fx: IdentityFixture;
  beforeAll(async () => {
    fx = await createIdentityFixture(dialect);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('has a builtin system group from bootstrap that cannot be deleted or renamed', async () => {
    const id = await fx.identity.systemGroupId();
    const system = await fx.identity.getGroup(fx.admin.actor, id);
    expect(system).toMatchObject({ name: 'system', builtin: true, members: [] });
    await expect(fx.identity.deleteGroup(fx.admin.actor, id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(fx.identity.updateGroup(fx.admin.actor, id, { name: 'sys' })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(
      await fx.identity.updateGroup(fx.admin.actor, id, { description: 'Mail and reminders' }),
    ).toMatchObject({
      name: 'system',
      description: 'Mail and reminders',
    });
  });

  it('creates, renames and deletes groups, each change audited', async () => {
    const group = await fx.identity.createGroup(fx.admin.actor, { name: 'ops', description: 'Operations' });
    expect(group).toMatchObject({ name: 'ops', description: 'Operations', builtin: false, memberCount: 0 });
    await expect(fx.identity.createGroup(fx.admin.actor, { name: 'ops' })).rejects.toMatchObject({
      code: 'already_exists',
    });
    await expect(fx.identity.createGroup(fx.admin.actor, { name: 'Ops Team' })).rejects.toMatchObject({
      code: 'validation',
    });
    expect(await fx.identity.updateGroup(fx.admin.actor, group.id, { name: 'operations' })).toMatchObject({
      name: 'operations',
    });
    await fx.identity.createGroup(fx.admin.actor, { name: 'taken' });
    await expect(fx.identity.updateGroup(fx.admin.actor, group.id, { name: 'taken' })).rejects.toMatchObject({
      code: 'already_exists',
    });
    const member = await fx.member('olga');
    await fx.identity.addGroupMember(fx.admin.actor, group.id, member.id);
    await fx.identity.deleteGroup(fx.admin.actor, group.id);
    await expect(fx.identity.getGroup(fx.admin.actor, group.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await fx.identity.resolveActor(member.actor)).groupIds).toEqual([]);
    const actions = (await fx.audit.query(fx.admin.actor, { targetId: group.id })).items.map((r) => r.action);
    expect(actions).toEqual(['group.delete', 'group.member_add', 'group.update', 'group.create']);
    const [deleted] = (await fx.audit.query(fx.admin.actor, { targetId: group.id, action: 'group.delete' }))
      .items;
    expect(deleted!.details).toMatchObject({ membersRemoved: 1 });
  });

  it('adds and removes members, effective on the member’s next call', async () => {
    const team = await fx.identity.createGroup(fx.admin.actor, { name: 'team' });
    const pia = await fx.member('pia');
    const bot = await fx.serviceAccount('team-bot');
    await fx.identity.addGroupMember(fx.admin.actor, team.id, pia.id);
    await fx.identity.addGroupMember(fx.admin.actor, team.id, bot.id);
    await expect(fx.identity.addGroupMember(fx.admin.actor, team.id, pia.id)).rejects.toMatchObject({
      code: 'already_exists',
    });
    await expect(
      fx.identity.addGroupMember(fx.admin.actor, team.id, '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect((await fx.identity.resolveActor(pia.actor)).groupIds).toEqual([team.id]);
    expect((await fx.identity.resolveActor(bot.actor)).groupIds).toEqual([team.id]);

    const withMembers = await fx.identity.getGroup(pia.actor, team.id);
    expect(withMembers.memberCount).toBe(2);
    expect(withMembers.members.map((m) => [m.username, m.type])).toEqual([
      ['pia', 'user'],
      ['team-bot', 'service_account'],
    ]);

    await fx.identity.removeGroupMember(fx.admin.actor, team.id, pia.id);
    expect((await fx.identity.resolveActor(pia.actor)).groupIds).toEqual([]);
    await expect(fx.identity.getGroup(pia.actor, team.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(fx.identity.removeGroupMember(fx.admin.actor, team.id, pia.id)).rejects.toMatchObject({
      code: 'not_found',
    });
    const [removed] = (await fx.audit.query(fx.admin.actor, { action: 'group.member_remove', limit: 1 }))
      .items;
    expect(removed).toMatchObject({
      target: { id: team.id, name: 'team' },
      details: { userId: pia.id, username: 'pia' },
    });
  });

  it('lists groups for everyone, by name, with a prefix query and member counts', async () => {
    for (const name of ['zz-c', 'zz-a', 'zz-b', 'zz_d'])
      await fx.identity.createGroup(fx.admin.actor, { name });
    const quinn = await fx.member('quinn');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await fx.identity.listGroups(quinn.actor, { query: 'ZZ', limit: 3, cursor });
      seen.push(...page.items.map((g) => g.name));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(['zz-a', 'zz-b', 'zz-c', 'zz_d']);
    expect((await fx.identity.listGroups(quinn.actor, { query: 'zz_' })).items.map((g) => g.name)).toEqual([
      'zz_d',
    ]);
    const team = (await fx.identity.listGroups(quinn.actor, { query: 'team' })).items[0];
    expect(team).toMatchObject({ name: 'team', memberCount: 1 });
  });
});
