import type { User } from '@coffer/client';
import { type Command, Option } from 'commander';
import { act, examples, group, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { canPrompt, promptHidden, readStdin } from '../input/prompt.js';
import { findUser } from './principals.js';

const userColumns = [
  { header: 'username', cell: (u: User) => u.username },
  { header: 'name', cell: (u: User) => u.displayName },
  { header: 'type', cell: (u: User) => u.type },
  { header: 'role', cell: (u: User) => u.role },
  { header: 'disabled', cell: (u: User) => (u.disabled ? 'yes' : 'no') },
  { header: 'last login', cell: (u: User) => u.lastLoginAt },
];

const userFields = (u: User): [string, unknown][] => [
  ['username', u.username],
  ['id', u.id],
  ['name', u.displayName],
  ['email', u.email],
  ['type', u.type],
  ['role', u.role],
  ['disabled', u.disabled ? 'yes' : 'no'],
  ['password', u.hasPassword ? 'set' : 'none'],
  ['last login', u.lastLoginAt],
  ['created', u.createdAt],
];

/** A new password: asked twice without echo, or read from standard input. */
async function newPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !canPrompt()) {
    if (!fromStdin)
      throw new CliError('usage', 'no terminal to ask for the password on; use --password-stdin');
    return (await readStdin()).replace(/\r?\n$/, '');
  }
  const first = await promptHidden('New password: ');
  const again = await promptHidden('Again: ');
  if (first !== again) throw new CliError('usage', 'the passwords do not match');
  return first;
}

async function list(
  ctx: CommandContext,
  _args: string[],
  options: { query?: string; includeDisabled?: boolean },
) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const rows: User[] = [];
  const filter = {
    ...(options.query === undefined ? {} : { query: options.query }),
    // Said either way: the server's own default is to list disabled users too.
    includeDisabled: options.includeDisabled === true,
  };
  for await (const user of paginate((page) => client.users.list({ ...filter, ...page }))) rows.push(user);
  ctx.emitList(rows, userColumns, 'No users.');
}

interface CreateUserOptions {
  displayName?: string;
  email?: string;
  role?: 'admin' | 'member';
  serviceAccount?: boolean;
  password?: boolean;
  passwordStdin?: boolean;
}

async function create(ctx: CommandContext, [username]: string[], options: CreateUserOptions) {
  const client = await ctx.client();
  const wantsPassword = !options.serviceAccount && (options.password || options.passwordStdin);
  const password = wantsPassword ? await newPassword(options.passwordStdin === true) : undefined;
  const user = await client.users.create({
    username: username!,
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    ...(options.email === undefined ? {} : { email: options.email }),
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(options.serviceAccount ? { type: 'service_account' as const } : {}),
    ...(password === undefined ? {} : { password }),
  });
  ctx.emit(
    user,
    (u) => `Created ${u.type === 'service_account' ? 'service account' : 'user'} ${u.username} (${u.id}).`,
  );
}

async function show(ctx: CommandContext, [name]: string[]) {
  ctx.emitFields(await findUser(await ctx.client(), name!), userFields);
}

interface UpdateUserOptions {
  displayName?: string;
  email?: string;
  role?: 'admin' | 'member';
  disable?: boolean;
  enable?: boolean;
}

async function update(ctx: CommandContext, [name]: string[], options: UpdateUserOptions) {
  const client = await ctx.client();
  const user = await findUser(client, name!);
  if (options.disable && options.enable) throw new CliError('usage', 'give --disable or --enable, not both');
  const changes = {
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    ...(options.email === undefined ? {} : { email: options.email === '' ? null : options.email }),
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(options.disable ? { disabled: true } : options.enable ? { disabled: false } : {}),
  };
  if (Object.keys(changes).length === 0) throw new CliError('usage', 'nothing to change');
  const updated = await client.users.update(user.id, changes);
  ctx.emit(updated, (u) => `Updated ${u.username}.`);
}

async function password(
  ctx: CommandContext,
  [name]: string[],
  options: { passwordStdin?: boolean; current?: boolean },
) {
  const client = await ctx.client();
  const user = name === undefined ? (await client.auth.me()).user : await findUser(client, name);
  const currentPassword = options.current ? await promptHidden('Current password: ') : undefined;
  const newOne = await newPassword(options.passwordStdin === true);
  await client.users.setPassword(user.id, {
    newPassword: newOne,
    ...(currentPassword === undefined ? {} : { currentPassword }),
  });
  ctx.emit(
    { userId: user.id, username: user.username, changed: true },
    (r) => `Set the password of ${r.username}; their sessions ended.`,
  );
}

async function endSessions(ctx: CommandContext, [name]: string[]) {
  const client = await ctx.client();
  const user = await findUser(client, name!);
  const result = await client.users.endSessions(user.id);
  ctx.emit(result, (r) => `Ended ${r.ended} session(s) of ${user.username}.`);
}

const roleOption = () => new Option('--role <role>', 'admin or member').choices(['admin', 'member']);

/** `coffer user ...` (admins; anyone for their own password and profile). */
export function registerUserCommands(program: Command): void {
  const user = group(program, 'user', 'users and service accounts (admins)');

  const listCommand = withCommonOptions(
    user
      .command('list')
      .alias('ls')
      .description('users and service accounts')
      .option('-q, --query <prefix>', 'usernames or display names starting with this')
      .option('--include-disabled', 'also disabled users'),
  );
  examples(listCommand, ['coffer user list', 'coffer user list --query ad --json']);
  act(listCommand, list);

  const createCommand = withCommonOptions(
    user
      .command('create')
      .description('create a user (or a service account, which authenticates with tokens only)')
      .argument('<username>', 'the username')
      .option('--display-name <name>', 'the display name')
      .option('--email <email>', 'the email address')
      .addOption(roleOption())
      .option('--service-account', 'a bot: no password, tokens only (coffer token create --user)')
      .option('--password', 'set a password now (asked twice without echo)')
      .option('--password-stdin', 'set a password read from standard input'),
  );
  examples(createCommand, [
    'coffer user create ada --display-name "Ada Lovelace" --password',
    'coffer user create ci-bot --service-account',
    'coffer user create ops --role admin --password-stdin < pw.txt',
  ]);
  act<CreateUserOptions>(createCommand, create);

  const showCommand = withCommonOptions(
    user.command('show').description('one user').argument('<user>', 'username or id'),
  );
  examples(showCommand, ['coffer user show ada']);
  act(showCommand, show);

  const updateCommand = withCommonOptions(
    user
      .command('update')
      .description("change a user's name, email, role, or disable them")
      .argument('<user>', 'username or id')
      .option('--display-name <name>', 'the display name')
      .option('--email <email>', 'the email address ("" removes it)')
      .addOption(roleOption())
      .option('--disable', 'disable: ends their sessions and stops their tokens')
      .option('--enable', 'enable again'),
  );
  examples(updateCommand, ['coffer user update ada --role admin', 'coffer user update ada --disable']);
  act<UpdateUserOptions>(updateCommand, update);

  const passwordCommand = withCommonOptions(
    user
      .command('password')
      .description("set a user's password (admins), or your own with --current")
      .argument('[user]', 'username or id (default: you)')
      .option('--current', 'ask for your current password (needed to change your own)')
      .option('--password-stdin', 'read the new password from standard input'),
  );
  examples(passwordCommand, ['coffer user password --current', 'coffer user password ada']);
  act<{ passwordStdin?: boolean; current?: boolean }>(passwordCommand, password);

  const sessionsCommand = withCommonOptions(
    user
      .command('end-sessions')
      .description('log a user out everywhere')
      .argument('<user>', 'username or id'),
  );
  examples(sessionsCommand, ['coffer user end-sessions ada']);
  act(sessionsCommand, endSessions);
}
