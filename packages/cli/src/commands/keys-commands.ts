import type { CofferClient, KeyringStatus } from '@coffer/client';
import type { Command } from 'commander';
import { act, examples, group, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { formatFields, formatTable } from '../output/table.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function statusText(s: KeyringStatus): string {
  const source =
    s.source.type === 'file'
      ? `file ${s.source.path}`
      : s.source.type === 'env'
        ? `environment variable ${s.source.variable}`
        : `${s.source.provider} key ${s.source.key}`;
  const head = formatFields([
    ['source', source],
    ['current key', s.currentKeyId],
    ['can rotate', s.canRotate ? 'yes' : 'no'],
    ['missing keys', s.missingKeyIds],
    [
      're-wrap',
      `${s.rewrap.state}, ${s.rewrap.rewrapped} re-wrapped${s.rewrap.error === null ? '' : `: ${s.rewrap.error}`}`,
    ],
  ]);
  return `${head}\n\n${formatTable(s.keys, [
    { header: 'key', cell: (k) => `${k.id}${k.current ? ' *' : ''}` },
    { header: 'created', cell: (k) => k.createdAt },
  ])}`;
}

async function status(ctx: CommandContext) {
  ctx.emit(await (await ctx.client()).keyring.status(), statusText);
}

async function waitForRewrap(ctx: CommandContext, client: CofferClient): Promise<KeyringStatus> {
  const bar = ctx.progress('re-wrapping data keys');
  try {
    for (;;) {
      const current = await client.keyring.status();
      bar.update(current.rewrap.rewrapped);
      if (current.rewrap.state !== 'running') return current;
      await sleep(250);
    }
  } finally {
    bar.stop();
  }
}

async function rotate(ctx: CommandContext, _args: string[], options: { wait: boolean }) {
  const client = await ctx.client();
  const key = await client.keyring.rotate();
  if (!options.wait) {
    ctx.emit(
      { key },
      (r) => `Rotated: ${r.key.id} is the current key; data keys are re-wrapped in the background.`,
    );
    return;
  }
  const after = await waitForRewrap(ctx, client);
  ctx.emit(
    { key, status: after },
    (r) => `Rotated: ${r.key.id} is the current key; ${r.status.rewrap.rewrapped} data keys re-wrapped.`,
  );
  if (after.rewrap.state === 'failed') {
    throw new CliError(
      'rotation_failed',
      `re-wrapping failed: ${after.rewrap.error ?? 'see the server log'}; the new key is current, old keys are kept`,
    );
  }
}

/** `coffer keys status|rotate` (admins). */
export function registerKeysCommands(program: Command): void {
  const keys = group(program, 'keys', 'the keyring that encrypts stored values (admins)');
  const statusCommand = withCommonOptions(
    keys.command('status').description('key source, key ids and dates (never key material)'),
  );
  examples(statusCommand, ['coffer keys status']);
  act(statusCommand, status);
  const rotateCommand = withCommonOptions(
    keys
      .command('rotate')
      .description('add a key, make it current, and re-wrap data keys (waits with a progress display)')
      .option('--no-wait', 'return at once; re-wrapping goes on in the background'),
  );
  examples(rotateCommand, ['coffer keys rotate', 'coffer keys rotate --no-wait --json']);
  act<{ wait: boolean }>(rotateCommand, rotate);
}
