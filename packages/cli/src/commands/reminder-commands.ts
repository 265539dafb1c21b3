import type { DueSecret } from '@coffer/client';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { act, examples, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { exitCodes } from '../errors/exit-codes.js';

/** A date as the table shows it: the day, and the time when it is not midnight UTC. */
function day(iso: string | null): string | null {
  if (iso === null) return null;
  const [date, time = ''] = iso.split('T');
  return time.startsWith('00:00:00') ? date! : `${date} ${time.slice(0, 5)}`;
}

/** `30d`, `30` or `4w`: days ahead, as the API takes them (`30d`). */
export function withinDays(value: string): string {
  const match = /^(\d{1,4})([dw]?)$/i.exec(value.trim());
  const days = match === null ? Number.NaN : Number(match[1]) * (match[2]?.toLowerCase() === 'w' ? 7 : 1);
  if (!Number.isInteger(days) || days > 3650) {
    throw new InvalidArgumentError('expected days ahead, e.g. 30d, 30 or 4w (at most 3650 days).');
  }
  return `${days}d`;
}

/**
 * An option value that may be "none": commander turns a parser's null into "", so the value
 * travels in a box.
 */
export interface Setting<T> {
  value: T | null;
}

/**
 * `--expires <date>`: an ISO-8601 date (`2026-12-31`) or date and time with a zone, checked by
 * the server; `never` or `none` clears it.
 */
export function expiresOption(value: string): Setting<string> {
  return { value: /^(never|none)$/i.test(value.trim()) ? null : value.trim() };
}

/** `--rotate-every <days>`: `90`, `90d` or `12w`; `never` or `none` for no rotation. */
export function rotateEveryOption(value: string): Setting<number> {
  if (/^(never|none)$/i.test(value.trim())) return { value: null };
  const match = /^(\d{1,4})([dw]?)$/i.exec(value.trim());
  const days = match === null ? Number.NaN : Number(match[1]) * (match[2]?.toLowerCase() === 'w' ? 7 : 1);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new InvalidArgumentError('expected days, e.g. 90, 90d or 12w (1 to 3650), or never.');
  }
  return { value: days };
}

const dueColumns = [
  { header: 'name', cell: (s: DueSecret) => s.name },
  { header: 'kind', cell: (s: DueSecret) => s.kind },
  { header: 'due', cell: (s: DueSecret) => day(s.dueAt) },
  { header: 'why', cell: (s: DueSecret) => s.reasons },
  { header: 'expires', cell: (s: DueSecret) => day(s.expiresAt) },
  { header: 'rotation due', cell: (s: DueSecret) => day(s.rotationDueAt) },
  { header: 'access', cell: (s: DueSecret) => s.access.level },
];

interface DueOptions {
  within?: string;
  reason?: 'expired' | 'expiring' | 'rotation';
  mine?: boolean;
  check?: boolean;
}

async function due(ctx: CommandContext, _args: string[], options: DueOptions) {
  const client = await ctx.client();
  const rows: DueSecret[] = [];
  for await (const secret of client.reminders.iterateDue({
    ...(options.within === undefined ? {} : { within: options.within }),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    ...(options.mine ? { view: 'mine' as const } : {}),
  })) {
    rows.push(secret);
  }
  const window = options.within === undefined ? '' : ` within ${options.within}`;
  ctx.emitList(rows, dueColumns, `Nothing expires or is due for rotation${window}.`);
  if (options.check && rows.length > 0) ctx.exitCode = exitCodes.checkFailed;
}

/** `coffer secret due`: what expired, expires or is due for rotation. */
export function registerSecretDueCommand(secret: Command): void {
  const dueCommand = withCommonOptions(
    secret
      .command('due')
      .description('secrets that expired, expire or are due for rotation (earliest first)')
      .option(
        '-w, --within <days>',
        "how far ahead: 30d, 30 or 4w (default: the server's, 30 days)",
        withinDays,
      )
      .addOption(
        new Option('--reason <reason>', 'only this reason').choices(['expired', 'expiring', 'rotation']),
      )
      .option('--mine', 'only secrets you own or that were shared with you')
      .option('--check', 'exit with 8 when anything is due (for cron and CI)'),
  );
  examples(dueCommand, [
    'coffer secret due',
    'coffer secret due --within 7d --reason expiring',
    "coffer secret due --json | jq -r '.[] | [.name, .dueAt] | @tsv'",
    'coffer secret due --within 14d --check || echo "rotate something"',
  ]);
  act<DueOptions>(dueCommand, due);
}
