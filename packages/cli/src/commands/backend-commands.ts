import type { BackendDefinition, BackendInstance, CofferClient, MigrationStatus } from '@coffer/client';
import type { Command } from 'commander';
import { act, examples, group, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { formatFields, formatTable } from '../output/table.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function list(ctx: CommandContext) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const rows: BackendInstance[] = [];
  for await (const b of paginate((page) => client.backends.list(page))) rows.push(b);
  ctx.emitList(
    rows,
    [
      { header: 'name', cell: (b) => b.name },
      { header: 'type', cell: (b) => b.type },
      { header: 'active', cell: (b) => (b.active ? 'yes' : 'no') },
      { header: 'backup', cell: (b) => (b.backup ? 'yes' : 'no') },
      { header: 'secrets', cell: (b) => b.secrets },
      {
        header: 'capabilities',
        cell: (b) =>
          Object.entries(b.capabilities)
            .filter(([, on]) => on)
            .map(([name]) => name),
      },
    ],
    'No backends.',
  );
}

const capabilityNames = (c: BackendDefinition['capabilities']) =>
  Object.entries(c)
    .filter(([, on]) => on)
    .map(([name]) => name);

/** `coffer backend types [TYPE]`: the backend types this server can configure, with their settings. */
async function types(ctx: CommandContext, [id]: string[]) {
  const client = await ctx.client();
  const { paginate } = await import('@coffer/client');
  const rows: BackendDefinition[] = [];
  for await (const d of paginate((page) => client.backends.definitions(page))) rows.push(d);
  if (id === undefined) {
    ctx.emitList(
      rows,
      [
        { header: 'type', cell: (d) => d.id },
        { header: 'name', cell: (d) => d.displayName },
        { header: 'source', cell: (d) => d.source },
        { header: 'capabilities', cell: (d) => capabilityNames(d.capabilities) },
      ],
      'No backend types.',
    );
    return;
  }
  const definition = rows.find((d) => d.id === id);
  if (definition === undefined) {
    throw new CliError(
      'not_found',
      `unknown backend type "${id}"; known: ${rows.map((d) => d.id).join(', ')}`,
    );
  }
  ctx.emit(
    definition,
    (d) =>
      `${formatFields([
        ['type', d.id],
        ['name', d.displayName],
        ['description', d.description],
        ['source', d.source],
        ['capabilities', capabilityNames(d.capabilities).join(', ')],
      ])}\n\nsettings (JSON Schema):\n${JSON.stringify(d.configSchema, null, 2)}`,
  );
}

function statusText(s: MigrationStatus): string {
  const head = formatFields([
    ['state', s.state],
    ['target', s.target],
    ['progress', `${s.done}/${s.total}${s.failed > 0 ? ` (${s.failed} failed)` : ''}`],
    ['rate', s.ratePerSecond === null ? null : `${s.ratePerSecond.toFixed(1)}/s`],
    ['eta', s.etaSeconds === null ? null : `${Math.ceil(s.etaSeconds)} s`],
    ['keep source', s.keepSource ? 'yes' : 'no'],
    ['started', s.startedAt],
    ['finished', s.finishedAt],
  ]);
  if (s.failures.length === 0) return head;
  return `${head}\n\n${formatTable(s.failures, [
    { header: 'failed secret', cell: (f) => f.name },
    { header: 'id', cell: (f) => f.secretId },
    { header: 'reason', cell: (f) => f.reason },
  ])}`;
}

/** Polls the migration until it is no longer running, with a progress bar on a terminal. */
async function follow(
  ctx: CommandContext,
  client: CofferClient,
  first: MigrationStatus,
): Promise<MigrationStatus> {
  let status = first;
  const bar = ctx.progress(`moving values to ${status.target ?? 'the active backend'}`, status.total);
  try {
    while (status.state === 'running') {
      bar.update(status.done + status.failed, status.total);
      await sleep(250);
      status = await client.migration.status();
    }
  } finally {
    bar.stop();
  }
  return status;
}

function finish(ctx: CommandContext, status: MigrationStatus): void {
  ctx.emit(status, statusText);
  if (status.state === 'failed' || status.failed > 0) {
    throw new CliError(
      'migration_failed',
      `${status.failed} secret(s) could not be moved; see the failures above, then: coffer migrate start --retry-failed`,
    );
  }
}

async function status(ctx: CommandContext, _args: string[], options: { follow?: boolean }) {
  const client = await ctx.client();
  let current = await client.migration.status();
  if (options.follow) current = await follow(ctx, client, current);
  ctx.emit(current, statusText);
}

interface StartOptions {
  target?: string;
  keepSource?: boolean;
  retryFailed?: boolean;
  wait: boolean;
}

async function start(ctx: CommandContext, _args: string[], options: StartOptions) {
  const client = await ctx.client();
  let current = await client.migration.start({
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.keepSource ? { keepSource: true } : {}),
    ...(options.retryFailed ? { retryFailed: true } : {}),
  });
  if (!options.wait) {
    ctx.emit(current, statusText);
    return;
  }
  current = await follow(ctx, client, current);
  finish(ctx, current);
}

/** `coffer backend list`, `coffer migrate status|start` (admins). */
export function registerBackendCommands(program: Command): void {
  const backend = group(program, 'backend', 'where values live (admins)');
  const listCommand = withCommonOptions(
    backend.command('list').alias('ls').description('the configured backend instances'),
  );
  examples(listCommand, ['coffer backend list']);
  act(listCommand, list);

  const typesCommand = withCommonOptions(
    backend
      .command('types [type]')
      .alias('definitions')
      .description('the backend types (built-in and modules) with the JSON Schema of their settings'),
  );
  examples(typesCommand, [
    'coffer backend types',
    'coffer backend types file',
    'coffer backend types --json',
  ]);
  act(typesCommand, types);

  const migrate = group(program, 'migrate', 'move values between backends (admins)');
  const statusCommand = withCommonOptions(
    migrate
      .command('status')
      .description('the migration: state, progress, failures')
      .option('--follow', 'wait while it runs, with a progress bar'),
  );
  examples(statusCommand, ['coffer migrate status', 'coffer migrate status --follow']);
  act(statusCommand, status);

  const startCommand = withCommonOptions(
    migrate
      .command('start')
      .description('start or resume moving values to the active backend, and wait with a progress bar')
      .option('--target <backend>', 'move to this backend instance instead')
      .option('--keep-source', 'keep the values in the old backend too (reversible)')
      .option('--retry-failed', 'try the secrets that failed last time again')
      .option('--no-wait', 'return at once; follow with coffer migrate status --follow'),
  );
  examples(startCommand, [
    'coffer migrate start',
    'coffer migrate start --target files --keep-source --no-wait',
  ]);
  act<StartOptions>(startCommand, start);
}
