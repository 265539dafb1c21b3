import type { AccessLevel, Share } from '@coffer/client';
import { type Command, Option } from 'commander';
import { act, examples, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors/cli-error.js';
import { findGroup, findUser } from './principals.js';

interface ShareOptions {
  user?: string;
  group?: string;
  level?: AccessLevel;
}

const shareColumns = [
  { header: 'type', cell: (s: Share) => s.granteeType },
  { header: 'name', cell: (s: Share) => s.granteeName },
  { header: 'level', cell: (s: Share) => s.level },
  { header: 'since', cell: (s: Share) => s.createdAt },
];

async function grantee(ctx: CommandContext, options: ShareOptions, command: string) {
  if ((options.user === undefined) === (options.group === undefined)) {
    throw new UsageError(`give exactly one of --user or --group`, {
      usage: `coffer ${command} <name> --user <user> | --group <group>`,
      path: `coffer ${command}`,
    });
  }
  const client = await ctx.client();
  if (options.user !== undefined) {
    const user = await findUser(client, options.user);
    return { client, granteeType: 'user' as const, granteeId: user.id, granteeName: user.username };
  }
  const group = await findGroup(client, options.group!);
  return { client, granteeType: 'group' as const, granteeId: group.id, granteeName: group.name };
}

async function share(ctx: CommandContext, [ref]: string[], options: ShareOptions) {
  if (options.user === undefined && options.group === undefined) {
    // No grantee: show who holds what.
    const client = await ctx.client();
    const { paginate } = await import('@coffer/client');
    const rows: Share[] = [];
    for await (const s of paginate((page) => client.shares.list(ref!, page))) rows.push(s);
    ctx.emitList(rows, shareColumns, `${ref} is not shared.`);
    return;
  }
  const { client, granteeType, granteeId, granteeName } = await grantee(ctx, options, 'share');
  const result = await client.shares.grant(ref!, {
    granteeType,
    granteeId,
    ...(options.level === undefined ? {} : { level: options.level }),
  });
  ctx.emit(result, (s) => `Shared ${ref} with ${granteeType} ${granteeName}: ${s.level}.`);
}

async function unshare(ctx: CommandContext, [ref]: string[], options: ShareOptions) {
  const { client, granteeType, granteeId, granteeName } = await grantee(ctx, options, 'unshare');
  await client.shares.revoke(ref!, granteeType, granteeId);
  ctx.emit(
    { secret: ref, granteeType, granteeId, revoked: true },
    () => `${ref} is no longer shared with ${granteeType} ${granteeName}.`,
  );
}

/** `coffer share` and `coffer unshare`. */
export function registerShareCommands(program: Command): void {
  const shareCommand = withCommonOptions(
    program
      .command('share')
      .description('share a secret with a user or group at a level, or list its shares')
      .argument('<name>', 'the secret (name or id)')
      .option('-u, --user <user>', 'the user (username or id)')
      .option('-g, --group <group>', 'the group (name or id)')
      .addOption(
        new Option(
          '--level <level>',
          'use < read < write < manage (default: read for a user, use for a group)',
        ).choices(['use', 'read', 'write', 'manage']),
      ),
  );
  examples(shareCommand, [
    'coffer share mail --user ada --level read',
    'coffer share mail --group mailers            # use: usable, never shown',
    'coffer share mail                            # who holds what',
  ]);
  act<ShareOptions>(shareCommand, share);

  const unshareCommand = withCommonOptions(
    program
      .command('unshare')
      .description("take a user's or group's access to a secret away")
      .argument('<name>', 'the secret (name or id)')
      .option('-u, --user <user>', 'the user (username or id)')
      .option('-g, --group <group>', 'the group (name or id)'),
  );
  examples(unshareCommand, ['coffer unshare mail --user ada', 'coffer unshare mail --group mailers']);
  act<ShareOptions>(unshareCommand, unshare);
}
