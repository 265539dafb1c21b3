import type { Group, GroupMember } from '@coffer/client';
import type { Command } from 'commander';
import { act, examples, group as groupOf, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { formatFields, formatTable } from '../output/table.js';
import { findGroup, findUser } from './principals.js';

const groupColumns = [
  { header: 'name', cell: (g: Group) => g.name },
  { header: 'members', cell: (g: Group) => g.memberCount },
  { header: 'builtin', cell: (g: Group) => (g.builtin ? 'yes' : 'no') },
  { header: 'description', cell: (g: Group) => g.description },
];

const memberColumns = [
  { header: 'username', cell: (m: GroupMember) => m.username },
  { header: 'name', cell: (m: GroupMember) => m.displayName },
  { header: 'type', cell: (m: GroupMember) => m.type },
  { header: 'added', cell: (m: GroupMember) => m.addedAt },
];

async function list(ctx: CommandContext, _args: string[], options: { query?: string }) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const rows: Group[] = [];
  const filter = options.query === undefined ? {} : { query: options.query };
  for await (const g of paginate((page) => client.groups.list({ ...filter, ...page }))) rows.push(g);
  ctx.emitList(rows, groupColumns, 'No groups.');
}

async function create(ctx: CommandContext, [name]: string[], options: { description?: string }) {
  const created = await (await ctx.client()).groups.create({
    name: name!,
    ...(options.description === undefined ? {} : { description: options.description }),
  });
  ctx.emit(created, (g) => `Created group ${g.name} (${g.id}).`);
}

async function show(ctx: CommandContext, [name]: string[]) {
  const client = await ctx.client();
  const found = await findGroup(client, name!);
  const withMembers = await client.groups.get(found.id);
  ctx.emit(withMembers, (g) => {
    const head = formatFields([
      ['name', g.name],
      ['id', g.id],
      ['description', g.description],
      ['builtin', g.builtin ? 'yes' : 'no'],
      ['members', g.memberCount],
      ['created', g.createdAt],
    ]);
    return g.members.length === 0 ? head : `${head}\n\n${formatTable(g.members, memberColumns)}`;
  });
}

async function update(
  ctx: CommandContext,
  [name]: string[],
  options: { name?: string; description?: string },
) {
  const client = await ctx.client();
  const found = await findGroup(client, name!);
  if (options.name === undefined && options.description === undefined)
    throw new CliError('usage', 'nothing to change');
  const updated = await client.groups.update(found.id, {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.description === undefined ? {} : { description: options.description }),
  });
  ctx.emit(updated, (g) => `Updated group ${g.name}.`);
}

async function remove(ctx: CommandContext, [name]: string[]) {
  const client = await ctx.client();
  const found = await findGroup(client, name!);
  await client.groups.delete(found.id);
  ctx.emit({ deleted: found.id, name: found.name }, (r) => `Deleted group ${r.name}.`);
}

async function members(ctx: CommandContext, [name]: string[]) {
  const client = await ctx.client();
  const found = await findGroup(client, name!);
  const { paginate } = await import('@coffer/client');
  const rows: GroupMember[] = [];
  for await (const m of paginate((page) => client.groups.members(found.id, page))) rows.push(m);
  ctx.emitList(rows, memberColumns, `${found.name} has no members.`);
}

async function addMember(ctx: CommandContext, [name, ...users]: string[]) {
  const client = await ctx.client();
  const found = await findGroup(client, name!);
  const added: string[] = [];
  for (const u of users) {
    const user = await findUser(client, u);
    await client.groups.addMember(found.id, user.id);
    added.push(user.username);
  }
  ctx.emit({ group: found.name, added }, (r) => `Added ${r.added.join(', ')} to ${r.group}.`);
}

async function removeMember(ctx: CommandContext, [name, ...users]: string[]) {
  const client = await ctx.client();
  const found = await findGroup(client, name!);
  const removed: string[] = [];
  for (const u of users) {
    const user = await findUser(client, u);
    await client.groups.removeMember(found.id, user.id);
    removed.push(user.username);
  }
  ctx.emit({ group: found.name, removed }, (r) => `Removed ${r.removed.join(', ')} from ${r.group}.`);
}

/** `coffer group ...` (admins). */
export function registerGroupCommands(program: Command): void {
  const group = groupOf(program, 'group', 'groups of users (admins)');

  const listCommand = withCommonOptions(
    group
      .command('list')
      .alias('ls')
      .description('groups')
      .option('-q, --query <prefix>', 'names starting with this'),
  );
  examples(listCommand, ['coffer group list']);
  act(listCommand, list);

  const createCommand = withCommonOptions(
    group
      .command('create')
      .description('create a group')
      .argument('<name>', 'the name')
      .option('-d, --description <text>', 'a description'),
  );
  examples(createCommand, ['coffer group create mailers --description "apps that send mail"']);
  act(createCommand, create);

  const showCommand = withCommonOptions(
    group.command('show').description('a group and its members').argument('<group>', 'name or id'),
  );
  examples(showCommand, ['coffer group show mailers']);
  act(showCommand, show);

  const updateCommand = withCommonOptions(
    group
      .command('update')
      .description("change a group's name or description")
      .argument('<group>', 'name or id')
      .option('--name <name>', 'a new name')
      .option('-d, --description <text>', 'a new description'),
  );
  examples(updateCommand, ['coffer group update mailers --name senders']);
  act(updateCommand, update);

  const deleteCommand = withCommonOptions(
    group.command('delete').alias('rm').description('delete a group').argument('<group>', 'name or id'),
  );
  examples(deleteCommand, ['coffer group delete mailers']);
  act(deleteCommand, remove);

  const membersCommand = withCommonOptions(
    group.command('members').description("a group's members").argument('<group>', 'name or id'),
  );
  examples(membersCommand, ['coffer group members mailers']);
  act(membersCommand, members);

  const addCommand = withCommonOptions(
    group
      .command('add-member')
      .description('add users to a group')
      .argument('<group>', 'name or id')
      .argument('<users...>', 'usernames or ids'),
  );
  examples(addCommand, ['coffer group add-member mailers ada ci-bot']);
  act(addCommand, addMember);

  const removeCommand = withCommonOptions(
    group
      .command('remove-member')
      .description('remove users from a group')
      .argument('<group>', 'name or id')
      .argument('<users...>', 'usernames or ids'),
  );
  examples(removeCommand, ['coffer group remove-member mailers ada']);
  act(removeCommand, removeMember);
}
