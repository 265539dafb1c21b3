import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { AuditRecord, CofferClient } from '@coffer/client';
import { type Command, Option } from 'commander';
import { act, examples, group, positiveInt, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { exitCodes } from '../errors/exit-codes.js';
import { findUser } from './principals.js';

interface FilterOptions {
  actor?: string;
  target?: string;
  action?: string;
  outcome?: 'success' | 'denied' | 'failure';
  since?: string;
  until?: string;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The API's filter: usernames and secret names turned into the ids the log holds. */
async function filterOf(client: CofferClient, options: FilterOptions) {
  const actorId =
    options.actor === undefined
      ? undefined
      : uuid.test(options.actor)
        ? options.actor
        : (await findUser(client, options.actor)).id;
  const targetId =
    options.target === undefined
      ? undefined
      : uuid.test(options.target)
        ? options.target
        : (await client.secrets.get(options.target)).id;
  return {
    ...(actorId === undefined ? {} : { actorId }),
    ...(targetId === undefined ? {} : { targetId }),
    ...(options.action === undefined ? {} : { action: options.action }),
    ...(options.outcome === undefined ? {} : { outcome: options.outcome }),
    ...(options.since === undefined ? {} : { from: options.since }),
    ...(options.until === undefined ? {} : { to: options.until }),
  };
}

const who = (r: AuditRecord) => r.actor.name ?? r.actor.id ?? r.actor.type;
const what = (r: AuditRecord) =>
  r.target === null || r.target === undefined
    ? ''
    : `${r.target.type} ${r.target.name ?? r.target.id ?? ''}`.trim();

async function list(ctx: CommandContext, _args: string[], options: FilterOptions & { limit: number }) {
  const client = await ctx.client();
  const rows: AuditRecord[] = [];
  for await (const record of client.audit.iterate(await filterOf(client, options))) {
    rows.push(record);
    if (rows.length >= options.limit) break;
  }
  ctx.emitList(
    rows,
    [
      { header: 'seq', cell: (r) => r.seq },
      { header: 'at', cell: (r) => r.at },
      { header: 'action', cell: (r) => r.action },
      { header: 'outcome', cell: (r) => r.outcome },
      { header: 'actor', cell: who },
      { header: 'target', cell: what },
      { header: 'source', cell: (r) => r.source },
      { header: 'address', cell: (r) => r.address },
    ],
    'No records.',
  );
}

async function verify(ctx: CommandContext) {
  const result = await (await ctx.client()).audit.verify();
  ctx.emit(result, (r) =>
    r.ok
      ? `OK: the audit chain is intact (${r.checked} records checked).`
      : `BROKEN: ${r.problem ?? 'the chain does not verify'}${r.firstBrokenSeq === undefined ? '' : ` (first bad record: ${r.firstBrokenSeq})`}; ${r.checked} records checked.`,
  );
  if (!result.ok) ctx.exitCode = exitCodes.checkFailed;
}

async function exportLog(ctx: CommandContext, _args: string[], options: FilterOptions & { output?: string }) {
  const client = await ctx.client();
  const filter = await filterOf(client, options);
  const file = options.output === undefined ? undefined : createWriteStream(options.output, { mode: 0o600 });
  const out: NodeJS.WritableStream = file ?? process.stdout;
  const bar = ctx.progress(
    file === undefined ? 'exporting audit records' : `exporting audit records to ${options.output}`,
  );
  let count = 0;
  try {
    for await (const line of client.audit.exportLines(filter)) {
      if (!out.write(line.endsWith('\n') ? line : `${line}\n`)) await once(out, 'drain');
      count++;
      bar.update(count);
    }
  } finally {
    bar.stop();
    if (file !== undefined) {
      file.end();
      await once(file, 'close');
    }
  }
  if (options.output !== undefined) {
    if (ctx.json) ctx.out(JSON.stringify({ exported: count, file: options.output }));
    else ctx.note(`Exported ${count} audit records to ${options.output}.`);
  } else if (count === 0 && !ctx.json) ctx.note('No records.');
}

function withFilters(command: Command): Command {
  return command
    .option('--actor <user>', 'who acted (username or id)')
    .option('--target <secret>', 'what was acted on (secret name or any id)')
    .option('--action <action>', 'e.g. secret.reveal, secret.update, auth.login')
    .addOption(
      new Option('--outcome <outcome>', 'success, denied or failure').choices([
        'success',
        'denied',
        'failure',
      ]),
    )
    .option('--since <iso-date>', 'from this time on (inclusive)')
    .option('--until <iso-date>', 'before this time');
}

/** `coffer audit list|verify|export` (admins). */
export function registerAuditCommands(program: Command): void {
  const audit = group(program, 'audit', 'the tamper-evident audit log (admins)');

  const listCommand = withCommonOptions(
    withFilters(audit.command('list').alias('ls').description('records, newest first')).option(
      '-n, --limit <n>',
      'at most this many',
      positiveInt,
      100,
    ),
  );
  examples(listCommand, [
    'coffer audit list --action secret.reveal --since 2025-01-01',
    'coffer audit list --target mail --json',
  ]);
  act(listCommand, list);

  const verifyCommand = withCommonOptions(
    audit.command('verify').description('check the hash chain (exit code 8 when it is broken)'),
  );
  examples(verifyCommand, ['coffer audit verify', 'coffer audit verify --json']);
  act(verifyCommand, verify);

  const exportCommand = withCommonOptions(
    withFilters(
      audit
        .command('export')
        .description('records, oldest first, as JSON lines')
        .option('-o, --output <file>', 'write to a file (mode 0600) instead of standard output'),
    ),
  );
  examples(exportCommand, [
    'coffer audit export > audit.ndjson',
    'coffer audit export --since 2025-01-01 -o audit.ndjson',
  ]);
  act(exportCommand, exportLog);
}
