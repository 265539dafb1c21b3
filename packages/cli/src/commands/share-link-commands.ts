import type { CofferClient, FieldValue, OpenedShareLink, ShareLink } from '@coffer/client';
import type { Command } from 'commander';
import { act, collect, examples, group, positiveInt, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { canPrompt, promptHidden, readStdin } from '../input/prompt.js';
import { formatFields, formatTable } from '../output/table.js';

const linkColumns = [
  { header: 'id', cell: (l: ShareLink) => l.id },
  {
    header: 'state',
    cell: (l: ShareLink) => (l.state === 'revoked' ? `revoked (${l.revokeReason})` : l.state),
  },
  { header: 'views', cell: (l: ShareLink) => `${l.views}/${l.maxViews}` },
  { header: 'fields', cell: (l: ShareLink) => l.fields },
  { header: 'passphrase', cell: (l: ShareLink) => (l.passphrase ? 'yes' : 'no') },
  { header: 'expires', cell: (l: ShareLink) => l.expiresAt },
  { header: 'by', cell: (l: ShareLink) => l.createdByName },
];

const units = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90` (seconds), `45m`, `24h`, `7d` → seconds. */
function ttlSecondsOf(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (match === null) {
    throw new CliError(
      'usage',
      `--ttl takes seconds or a number with s, m, h or d (e.g. 30m, 24h, 7d), got ${text}`,
    );
  }
  return Number(match[1]) * units[(match[2] || 's') as keyof typeof units];
}

interface PassphraseOptions {
  passphrase?: boolean;
  passphraseStdin?: boolean;
}

/** The passphrase, asked without echo (`--passphrase`) or read from standard input; never an argument. */
async function passphraseOf(options: PassphraseOptions): Promise<string | undefined> {
  if (options.passphraseStdin) {
    const text = (await readStdin()).replace(/\r?\n$/, '');
    if (text === '') throw new CliError('usage', '--passphrase-stdin read nothing from standard input');
    return text;
  }
  if (!options.passphrase) return undefined;
  if (!canPrompt()) {
    throw new CliError('usage', 'asking for the passphrase needs a terminal; use --passphrase-stdin');
  }
  return promptHidden('Passphrase: ');
}

interface CreateOptions extends PassphraseOptions {
  field?: string[];
  ttl?: string;
  views?: number;
}

async function create(ctx: CommandContext, [ref]: string[], options: CreateOptions) {
  const ttlSeconds = options.ttl === undefined ? undefined : ttlSecondsOf(options.ttl);
  const passphrase = await passphraseOf(options);
  const client = await ctx.client();
  const created = await client.shareLinks.create(ref!, {
    ...(options.field === undefined ? {} : { fields: options.field }),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    ...(options.views === undefined ? {} : { maxViews: options.views }),
    ...(passphrase === undefined ? {} : { passphrase }),
  });
  if (ctx.json) {
    ctx.out(JSON.stringify(created, null, 2));
    return;
  }
  const { link } = created;
  const times = link.maxViews === 1 ? 'once' : `${link.maxViews} times`;
  // The link alone on standard output (for `$(...)`), what it is on standard error.
  ctx.note(
    `Share link to ${link.fields.join(', ')} of ${link.secretName}: opens ${times} until ${link.expiresAt}` +
      `${link.passphrase ? ', with the passphrase (send it another way)' : ''}. Coffer keeps no copy; it is shown only now:`,
  );
  ctx.out(created.url);
}

async function list(ctx: CommandContext, [ref]: string[]) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const rows: ShareLink[] = [];
  for await (const l of paginate((page) => client.shareLinks.list(ref!, page))) rows.push(l);
  ctx.emitList(rows, linkColumns, `${ref} has no share links.`);
}

async function revoke(ctx: CommandContext, ids: string[]) {
  const client = await ctx.client();
  const revoked: ShareLink[] = [];
  for (const id of ids) revoked.push(await client.shareLinks.revoke(id));
  ctx.emit(revoked, (r) =>
    r
      .map((l) => (l.state === 'revoked' ? `Revoked ${l.id}.` : `${l.id} had ended already (${l.state}).`))
      .join('\n'),
  );
}

interface OpenOptions extends PassphraseOptions {
  field?: string;
}

/**
 * A client for the server a link points to, without any credentials: a link may come from
 * anyone, and the stored login is never sent to the host it names.
 */
async function recipientClient(ctx: CommandContext, link: string): Promise<CofferClient> {
  const { createClient } = await import('@coffer/client');
  const absolute = /^https?:\/\//i.test(link);
  const origin = absolute ? new URL(link).origin : ctx.credentials().address;
  return createClient({ baseUrl: origin, clientName: 'cli' });
}

async function open(ctx: CommandContext, [given]: string[], options: OpenOptions) {
  if (given === '-' && options.passphraseStdin) {
    throw new CliError('usage', 'standard input can hold the link or the passphrase, not both');
  }
  const link = given === '-' ? (await readStdin()).trim() : given!;
  const { parseShareLink } = await import('@coffer/client');
  let parsed: { id: string; key: string };
  try {
    parsed = parseShareLink(link);
  } catch (err) {
    throw new CliError('usage', (err as Error).message);
  }
  const passphrase = await passphraseOf(options);
  const client = await recipientClient(ctx, link);
  const opened = await client.shareLinks
    .open(parsed, passphrase === undefined ? {} : { passphrase })
    .catch(async (err: unknown) => {
      // A link that needs its passphrase, opened on a terminal without one: ask, and try once more.
      const needsOne = (err as { code?: unknown }).code === 'share_link_wrong_passphrase';
      if (!needsOne || passphrase !== undefined || !canPrompt()) throw err;
      return client.shareLinks.open(parsed, { passphrase: await promptHidden('Passphrase: ') });
    });
  if (options.field !== undefined) {
    if (!Object.hasOwn(opened.values, options.field)) {
      const known = Object.keys(opened.values).join(', ');
      throw new CliError(
        'not_found',
        `the link has no field ${JSON.stringify(options.field)} (fields: ${known})`,
      );
    }
    writeRaw(ctx, opened.values[options.field]!);
  } else {
    ctx.emit(opened, human);
  }
  if (!ctx.json) {
    ctx.note(
      opened.viewsLeft === 0
        ? 'That was the last view: the link shows nothing any more.'
        : `The link opens ${opened.viewsLeft} more time${opened.viewsLeft === 1 ? '' : 's'}, until ${opened.expiresAt}.`,
    );
  }
}

function human(opened: OpenedShareLink): string {
  return `${formatFields([
    ['secret', opened.secretName],
    ['shared by', opened.createdByName],
  ])}\n\n${formatTable(Object.entries(opened.values), [
    { header: 'field', cell: ([k]) => k },
    { header: 'value', cell: ([, v]) => v },
  ])}`;
}

/** One value raw: exactly its bytes to a pipe, with a line break on a terminal. */
function writeRaw(ctx: CommandContext, value: FieldValue): void {
  if (ctx.json) ctx.out(JSON.stringify(value));
  else process.stdout.write(process.stdout.isTTY ? `${String(value)}\n` : String(value));
}

/** `coffer share-link ...`: one-time links to a secret's values for people without an account. */
export function registerShareLinkCommands(program: Command): void {
  const shareLink = group(program, 'share-link', 'one-time links to a secret for people without an account');

  const createCommand = withCommonOptions(
    shareLink
      .command('create')
      .description('make a link that shows a secret (or some fields) once, or a few times, within a time')
      .argument('<name>', 'the secret (name or id); needs read')
      .option('-f, --field <field>', 'share only this field (repeatable; default every field)', collect)
      .option('--ttl <duration>', 'how long it works: 300 (seconds), 30m, 24h, 7d; 5m to 30d (default 24h)')
      .option('--views <n>', 'how many times it opens, 1 to 100 (default 1)', positiveInt)
      .option('--passphrase', 'ask for a passphrase the recipient needs too (without echo)')
      .option('--passphrase-stdin', 'read that passphrase from standard input'),
  );
  examples(createCommand, [
    'coffer share-link create mail --field password --ttl 1h',
    'coffer share-link create db --views 3 --ttl 7d --passphrase',
    'LINK="$(coffer share-link create mail -f password)"',
  ]);
  act<CreateOptions>(createCommand, create);

  const listCommand = withCommonOptions(
    shareLink
      .command('list')
      .alias('ls')
      .description("a secret's links with their state (never the links themselves)")
      .argument('<name>', 'the secret (name or id); needs read'),
  );
  examples(listCommand, ['coffer share-link list mail']);
  act(listCommand, list);

  const revokeCommand = withCommonOptions(
    shareLink
      .command('revoke')
      .description('revoke links at once (yours, or any of a secret you manage)')
      .argument('<ids...>', 'link ids (coffer share-link list)'),
  );
  examples(revokeCommand, ['coffer share-link revoke 5f0c...']);
  act(revokeCommand, revoke);

  const openCommand = withCommonOptions(
    shareLink
      .command('open')
      .description('open a link you were sent (no login needed; counts one view)')
      .argument('<link>', 'the whole link, or - to read it from standard input (keeps it out of history)')
      .option('--field <field>', 'print only this field, raw (for scripts)')
      .option('--passphrase', 'ask for the passphrase (without echo)')
      .option('--passphrase-stdin', 'read the passphrase from standard input'),
  );
  examples(openCommand, [
    "coffer share-link open 'https://coffer.example.com/s/5f0c...#q1w2...'",
    'pbpaste | coffer share-link open - --field password',
  ]);
  act<OpenOptions>(openCommand, open);
}
