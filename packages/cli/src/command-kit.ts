import { Command, InvalidArgumentError, Option } from 'commander';
import { CommandContext, type CommonOptions } from './context.js';
import { UsageError } from './errors/cli-error.js';

/**
 * commander's Command, with every wrong command line turned into a {@link UsageError} that
 * carries the failing command's usage, so the one error path prints it and exits with 2.
 */
export class CofferCommand extends Command {
  override createCommand(name?: string): CofferCommand {
    return new CofferCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    // commander's own messages start with "error: "; ours say "coffer: usage: ...".
    const text = message.replace(/^error: /, '');
    if (errorOptions?.code === 'commander.help') throw new UsageError(text);
    throw new UsageError(text, { usage: `${commandPath(this)} ${this.usage()}`, path: commandPath(this) });
  }
}

/** `coffer secret get`: the names from the root down. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * A group of subcommands (`coffer secret ...`). Without a subcommand it prints its help on
 * standard error and exits with 2; an unknown one is a usage error with a suggestion.
 */
export function group(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description);
}

/** Adds `--json` and `--addr` to a command that does something. */
export function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('--json', 'print JSON for scripts (documented shapes)'))
    .addOption(
      new Option(
        '--addr <url>',
        'the server address (default: COFFER_ADDR, the last login, http://127.0.0.1:8470)',
      ),
    );
}

/** Adds an "Examples:" section to `--help`. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

/**
 * Sets the action: `run(ctx, args, options)` where args are the positional arguments and
 * options the command's parsed options. The context is made from the common options.
 */
export function act<O extends object = Record<string, never>>(
  command: Command,
  run: (ctx: CommandContext, args: string[], options: O & CommonOptions) => Promise<void>,
): Command {
  return command.action(async (...all: unknown[]) => {
    const self = all[all.length - 1] as Command;
    const options = self.opts<O & CommonOptions>();
    const args = all
      .slice(0, -2)
      .flatMap((a) => (Array.isArray(a) ? a : a === undefined ? [] : [a])) as string[];
    const ctx = new CommandContext(options);
    contexts.set(self, ctx);
    await run(ctx, args, options);
  });
}

/** The context each command's action ran with, to read its exit code afterwards. */
export const contexts = new WeakMap<Command, CommandContext>();

/** commander's collector for repeatable options: `--label a=1 --label b=2`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A positive whole number option. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive whole number.');
  }
  return n;
}
