import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { act, collect, examples, positiveInt, withCommonOptions } from '../command-kit.js';
import type { CommandContext } from '../context.js';
import { CliError, UsageError } from '../errors/cli-error.js';
import {
  type ChildExit,
  forwardSignals,
  type RunningChild,
  shellExitCode,
  startChild,
  stopChild,
} from '../run/child-process.js';

interface RunOptions {
  env?: string[];
  envFile?: string[];
  secret?: string[];
  prefix: boolean;
  watch?: boolean;
  interval?: number;
}

/** `{{ ... }}` already, or a bare `secret.field` made into one. */
function templateOf(value: string): string {
  return value.includes('{{') ? value : `{{ ${value} }}`;
}

/**
 * The variables to set in the child, as templates: `--env-file` lines first, then every field
 * of each `--secret`, then `--env`, each later one winning.
 */
async function templatesOf(ctx: CommandContext, options: RunOptions): Promise<Record<string, string>> {
  const templates: Record<string, string> = {};
  if (options.envFile !== undefined && options.envFile.length > 0) {
    const { parseDotenv } = await import('../formats/dotenv-format.js');
    for (const file of options.envFile) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(
          'file',
          `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      Object.assign(templates, parseDotenv(text));
    }
  }
  if (options.secret !== undefined && options.secret.length > 0) {
    const { envName } = await import('../formats/env-names.js');
    const client = await ctx.client();
    for (const name of options.secret) {
      // Masked values are enough to learn the field names; the values come through references.
      const { values } = await client.secrets.values(name);
      for (const field of Object.keys(values))
        templates[envName(name, field, options.prefix)] = `{{ ${name}.${field} }}`;
    }
  }
  for (const assignment of options.env ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `--env takes NAME=secret.field or NAME='{{ secret.field }}', got ${JSON.stringify(assignment)}`,
      );
    templates[assignment.slice(0, eq)] = templateOf(assignment.slice(eq + 1));
  }
  return templates;
}

/** The secrets the templates name, to watch. */
async function referencedSecrets(templates: Record<string, string>): Promise<string[]> {
  const { parseTemplate } = await import('@coffer/client');
  const names = new Set<string>();
  for (const template of Object.values(templates)) {
    for (const part of parseTemplate(template)) if (typeof part !== 'string') names.add(part.secret);
  }
  return [...names];
}

async function resolve(
  ctx: CommandContext,
  templates: Record<string, string>,
): Promise<Record<string, string>> {
  // No reference at all: no client, no request (`coffer run -- cmd` starts at once).
  if (!Object.values(templates).some((t) => t.includes('{{'))) return templates;
  return (await ctx.client()).resolveAll(templates);
}

async function run(ctx: CommandContext, argv: string[], options: RunOptions) {
  const [command, ...args] = argv;
  if (command === undefined)
    throw new UsageError('give the command to run after --', {
      usage: 'coffer run [options] -- <command> [args...]',
      path: 'coffer run',
    });
  const templates = await templatesOf(ctx, options);
  if (!options.watch) {
    const env = { ...process.env, ...(await resolve(ctx, templates)) };
    const running = startChild(command, args, env);
    const stop = forwardSignals(() => running.child);
    try {
      ctx.exitCode = shellExitCode(await running.exited);
    } finally {
      stop();
    }
    return;
  }
  ctx.exitCode = await runWatching(ctx, command, args, templates, options.interval ?? 2000);
}

/**
 * Runs the child and restarts it whenever a secret it references gets a new version: the new
 * values are resolved first (if that fails, the running child is kept and the error shown),
 * then the child is stopped with SIGTERM and started again. A child that ends by itself, or
 * because of a signal sent to coffer, ends coffer with its exit code.
 */
async function runWatching(
  ctx: CommandContext,
  command: string,
  args: string[],
  templates: Record<string, string>,
  intervalMs: number,
): Promise<number> {
  const secrets = await referencedSecrets(templates);
  const client = await ctx.client();
  const abort = new AbortController();
  const changes = client.watch(secrets, { intervalMs, signal: abort.signal })[Symbol.asyncIterator]();
  // The first poll takes the versions to compare with: start it before resolving, so a change
  // made in between restarts the child rather than going unnoticed.
  let nextChange = changes.next();
  let signalled = false;
  let running: RunningChild | undefined;
  const stopForwarding = forwardSignals(
    () => running?.child,
    () => {
      signalled = true;
    },
  );
  try {
    let env = { ...process.env, ...(await resolve(ctx, templates)) };
    for (;;) {
      running = startChild(command, args, env);
      const current = running;
      for (;;) {
        const winner = await Promise.race([
          current.exited.then((exit): { exit: ChildExit } => ({ exit })),
          nextChange.then((change) => ({ change })),
        ]);
        if ('exit' in winner) return shellExitCode(winner.exit);
        // A finished watch (nothing to watch) never reports again.
        nextChange = winner.change.done ? new Promise<never>(() => {}) : changes.next();
        if (winner.change.done || signalled) continue;
        const { ref, version } = winner.change.value;
        try {
          env = { ...process.env, ...(await resolve(ctx, templates)) };
        } catch (err) {
          ctx.note(
            `coffer: ${ref} changed (version ${version}) but cannot be resolved, so the command keeps running: ${(err as Error).message}`,
          );
          continue;
        }
        ctx.note(`coffer: ${ref} changed (version ${version}); restarting ${command}`);
        await stopChild(current);
        break;
      }
    }
  } finally {
    stopForwarding();
    abort.abort();
  }
}

/** `coffer run`: a command with secrets in its environment. */
export function registerRunCommand(program: Command): void {
  const command = withCommonOptions(
    program
      .command('run')
      .description(
        'run a command with secret values in its environment; passes its exit code and signals through',
      )
      .argument('<command...>', 'the command and its arguments (after --)')
      .option(
        '-e, --env <NAME=ref>',
        "set NAME to a reference: secret.field, or a template '{{ secret.field }}...' (repeatable)",
        collect,
      )
      .option(
        '--env-file <file>',
        'a dotenv file whose values are templates with {{ secret.field }} references (repeatable)',
        collect,
      )
      .option('-s, --secret <name>', 'set every field of a secret as NAME_FIELD (repeatable)', collect)
      .option('--no-prefix', 'with --secret: name the variables after the fields alone')
      .option('-w, --watch', 'restart the command when a referenced secret changes')
      .option('--interval <ms>', 'with --watch: how often to check, in milliseconds', positiveInt, 2000)
      .passThroughOptions(),
  );
  examples(command, [
    'coffer run --env SMTP_PASSWORD=mail.password -- node server.js',
    "coffer run --env DATABASE_URL='postgres://{{ db.username }}:{{ db.password }}@{{ db.host }}/app' -- npm start",
    'coffer run --env-file .env.tpl -- ./deploy.sh      # .env.tpl: API_TOKEN={{ api.token }}',
    'coffer run --secret mail -- printenv MAIL_HOST',
    'coffer run --watch --env-file .env.tpl -- node server.js',
  ]);
  act<RunOptions>(command, run);
}
