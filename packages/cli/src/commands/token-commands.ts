import type { TokenInfo } from '@coffer/client';
import type { Command } from 'commander';
import { act, examples, group, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { findUser } from './principals.js';

const tokenColumns = [
  { header: 'id', cell: (t: TokenInfo) => t.id },
  { header: 'name', cell: (t: TokenInfo) => t.name },
  { header: 'prefix', cell: (t: TokenInfo) => t.prefix },
  { header: 'scope', cell: (t: TokenInfo) => t.scope },
  { header: 'state', cell: (t: TokenInfo) => t.state },
  { header: 'expires', cell: (t: TokenInfo) => t.expiresAt },
  { header: 'last used', cell: (t: TokenInfo) => t.lastUsedAt },
];

async function list(ctx: CommandContext, _args: string[], options: { user?: string; all?: boolean }) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const userId = options.user === undefined ? undefined : (await findUser(client, options.user)).id;
  const filter = {
    ...(userId === undefined ? {} : { userId }),
    ...(options.all ? { includeInactive: true } : {}),
  };
  const rows: TokenInfo[] = [];
  for await (const t of paginate((page) => client.tokens.list({ ...filter, ...page }))) rows.push(t);
  ctx.emitList(rows, tokenColumns, 'No tokens.');
}

interface CreateTokenOptions {
  readOnly?: boolean;
  user?: string;
  expiresAt?: string;
  expiresIn?: string;
}

/** `30d`, `12h`, `90m` → a date that far ahead. */
function expiryOf(options: CreateTokenOptions): string | undefined {
  if (options.expiresAt !== undefined && options.expiresIn !== undefined) {
    throw new CliError('usage', 'give --expires-at or --expires-in, not both');
  }
  if (options.expiresAt !== undefined) return options.expiresAt;
  if (options.expiresIn === undefined) return undefined;
  const match = /^(\d+)([dhm])$/.exec(options.expiresIn);
  if (match === null)
    throw new CliError(
      'usage',
      `--expires-in takes a number and d, h or m (e.g. 30d), got ${options.expiresIn}`,
    );
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
  return new Date(Date.now() + Number(match[1]) * unit).toISOString();
}

async function create(ctx: CommandContext, [name]: string[], options: CreateTokenOptions) {
  const client = await ctx.client();
  const userId = options.user === undefined ? undefined : (await findUser(client, options.user)).id;
  const expiresAt = expiryOf(options);
  const created = await client.tokens.create({
    name: name!,
    scope: options.readOnly ? 'read-only' : 'read-write',
    ...(userId === undefined ? {} : { userId }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });
  if (ctx.json) ctx.out(JSON.stringify(created, null, 2));
  else {
    // The token alone on standard output (for `$(...)`), the explanation on standard error.
    ctx.note(
      `Created token ${created.info.name} (${created.info.id}, ${created.info.scope}). It is shown only now:`,
    );
    ctx.out(created.token);
  }
}

async function revoke(ctx: CommandContext, ids: string[]) {
  const client = await ctx.client();
  const revoked: TokenInfo[] = [];
  for (const id of ids) revoked.push(await client.tokens.revoke(id));
  ctx.emit(revoked, (r) => r.map((t) => `Revoked ${t.name} (${t.id}).`).join('\n'));
}

/** `coffer token ...`: API tokens for yourself, or (admins) for service accounts. */
export function registerTokenCommands(program: Command): void {
  const token = group(program, 'token', "API tokens (yours; admins: anyone's)");

  const listCommand = withCommonOptions(
    token
      .command('list')
      .alias('ls')
      .description('your tokens (never the tokens themselves, only their prefix)')
      .option('--user <user>', "admins: someone else's tokens")
      .option('--all', 'also revoked and expired ones'),
  );
  examples(listCommand, ['coffer token list', 'coffer token list --user ci-bot --all']);
  act(listCommand, list);

  const createCommand = withCommonOptions(
    token
      .command('create')
      .description('create a token; it is printed once')
      .argument('<name>', 'a name saying what it is for')
      .option('--read-only', 'it can read (and reveal with read access) but change nothing')
      .option('--user <user>', 'admins: for another user or a service account')
      .option('--expires-at <iso-date>', 'when it stops working')
      .option('--expires-in <duration>', 'or how long it works: 30d, 12h, 90m'),
  );
  examples(createCommand, [
    'coffer token create deploy --user ci-bot --read-only --expires-in 90d',
    'TOKEN="$(coffer token create laptop)"',
  ]);
  act<CreateTokenOptions>(createCommand, create);

  const revokeCommand = withCommonOptions(
    token
      .command('revoke')
      .description('revoke tokens at once')
      .argument('<ids...>', 'token ids (coffer token list)'),
  );
  examples(revokeCommand, ['coffer token revoke 7d0e...']);
  act(revokeCommand, revoke);
}
