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
import type { OfflineFallback } from '../run/offline-fallback.js';

interface RunOptions {
  env?: string[];
  envFile?: string[];
  secret?: string[];
  prefix: boolean;
  watch?: boolean;
  interval?: number;
  fallback?: boolean;
  fallbackOnly?: boolean;
  fallbackTtl?: string;
}

/**
 * What a run resolves, read from its command line and files before asking the server: it names
 * the run's offline snapshot, so a snapshot is only ever used for exactly the run that wrote it.
 */
interface RunSpec {
  /** `--env-file` lines, as templates, the later files winning. */
  files: Record<string, string>;
  /** `--secret` names. */
  secrets: string[];
  prefix: boolean;
  /** `--env` variables, as templates. */
  env: Record<string, string>;
}

/** `{{ ... }}` already, or a bare `secret.field` made into one. */
function templateOf(value: string): string {
  return value.includes('{{') ? value : `{{ ${value} }}`;
}

async function specOf(options: RunOptions): Promise<RunSpec> {
  const files: Record<string, string> = {};
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
      Object.assign(files, parseDotenv(text));
    }
  }
  const env: Record<string, string> = {};
  for (const assignment of options.env ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `--env takes NAME=secret.field or NAME='{{ secret.field }}', got ${JSON.stringify(assignment)}`,
      );
    env[assignment.slice(0, eq)] = templateOf(assignment.slice(eq + 1));
  }
  return { files, secrets: options.secret ?? [], prefix: options.prefix, env };
}

/** The key of the run's snapshot: the spec in a fixed shape. */
function specKey(spec: RunSpec): unknown {
  return {
    v: 1,
    files: Object.entries(spec.files),
    secrets: spec.secrets,
    prefix: spec.prefix,
    env: Object.entries(spec.env),
  };
}

/** Whether the run needs the server at all: `coffer run -- cmd` starts at once without one. */
function needsServer(spec: RunSpec): boolean {
  return (
    spec.secrets.length > 0 ||
    [...Object.values(spec.files), ...Object.values(spec.env)].some((t) => t.includes('{{'))
  );
}

/**
 * The variables to set in the child, as templates: `--env-file` lines first, then every field
 * of each `--secret`, then `--env`, each later one winning.
 */
async function templatesOf(ctx: CommandContext, spec: RunSpec): Promise<Record<string, string>> {
  const templates: Record<string, string> = { ...spec.files };
  if (spec.secrets.length > 0) {
    const { envName } = await import('../formats/env-names.js');
    const client = await ctx.client();
    for (const name of spec.secrets) {
      // Masked values are enough to learn the field names; the values come through references.
      const { values } = await client.secrets.values(name);
      for (const field of Object.keys(values))
        templates[envName(name, field, spec.prefix)] = `{{ ${name}.${field} }}`;
    }
  }
  return Object.assign(templates, spec.env);
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
  // No reference at all: no client, no request.
  if (!Object.values(templates).some((t) => t.includes('{{'))) return templates;
  return (await ctx.client()).resolveAll(templates);
}

/**
 * The offline fallback of this run; undefined when it is off, and when the run needs no
 * server (there is nothing to keep then).
 */
async function fallbackOf(
  ctx: CommandContext,
  spec: RunSpec,
  options: RunOptions,
): Promise<OfflineFallback | undefined> {
  const { fallbackSettings } = await import('../run/fallback-settings.js');
  // Checked even when unused, so a wrong flag or variable is never silently ignored; the config
  // file is read only when there is a server to ask.
  const server = needsServer(spec);
  const settings = fallbackSettings(options, ctx.env, server ? ctx.credentials() : { tokenFrom: undefined });
  if (!server) return undefined;
  const { fallbackRequestTimeoutMs, offlineFallback } = await import('../run/offline-fallback.js');
  const fallback = offlineFallback(ctx, settings, specKey(spec));
  // A server that takes the connection and never answers counts as unreachable too.
  if (fallback !== undefined) ctx.requestTimeoutMs = fallbackRequestTimeoutMs;
  return fallback;
}

async function run(ctx: CommandContext, argv: string[], options: RunOptions) {
  const [command, ...args] = argv;
  if (command === undefined)
    throw new UsageError('give the command to run after --', {
      usage: 'coffer run [options] -- <command> [args...]',
      path: 'coffer run',
    });
  const spec = await specOf(options);
  const fallback = await fallbackOf(ctx, spec, options);
  if (options.fallbackOnly && fallback !== undefined) {
    ctx.exitCode = await runOnce({ ...process.env, ...fallback.only() }, command, args);
    return;
  }
  if (options.watch && needsServer(spec)) {
    ctx.exitCode = await runWatching(ctx, command, args, spec, fallback, options.interval ?? 2000);
    return;
  }
  let variables: Record<string, string>;
  if (fallback === undefined) variables = await resolve(ctx, await templatesOf(ctx, spec));
  else {
    try {
      variables = await resolve(ctx, await templatesOf(ctx, spec));
      fallback.save(variables);
    } catch (err) {
      variables = fallback.recover(err);
    }
  }
  ctx.exitCode = await runOnce({ ...process.env, ...variables }, command, args);
}

/** Runs the child once with `env`, passing signals on; answers its shell exit code. */
async function runOnce(env: NodeJS.ProcessEnv, command: string, args: string[]): Promise<number> {
  const running = startChild(command, args, env);
  const stop = forwardSignals(() => running.child);
  try {
    return shellExitCode(await running.exited);
  } finally {
    stop();
  }
}

/**
 * Runs the child and restarts it whenever a secret it references gets a new version: the new
 * values are resolved first (if that fails, the running child is kept and the error shown),
 * then the child is stopped with SIGTERM and started again. A child that ends by itself, or
 * because of a signal sent to coffer, ends coffer with its exit code. When the server cannot be
 * reached at the start, the child runs on the offline snapshot, unwatched.
 */
async function runWatching(
  ctx: CommandContext,
  command: string,
  args: string[],
  spec: RunSpec,
  fallback: OfflineFallback | undefined,
  intervalMs: number,
): Promise<number> {
  const offline = (err: unknown) => {
    if (fallback === undefined) throw err;
    const variables = fallback.recover(err);
    ctx.note('coffer: warning: --watch is off while running on the offline snapshot');
    return runOnce({ ...process.env, ...variables }, command, args);
  };
  let templates: Record<string, string>;
  try {
    templates = await templatesOf(ctx, spec);
  } catch (err) {
    return offline(err);
  }
  const secrets = await referencedSecrets(templates);
  const client = await ctx.client();
  const abort = new AbortController();
  const changes = client.watch(secrets, { intervalMs, signal: abort.signal })[Symbol.asyncIterator]();
  // The first poll takes the versions to compare with: start it before resolving, so a change
  // made in between restarts the child rather than going unnoticed.
  let nextChange = changes.next();
  // If the server is down, that poll may fail while the values are still being resolved: it
  // must not count as an unhandled rejection (which ends the process). Whoever awaits it later
  // still sees the failure.
  nextChange.catch(() => {});
  let env: NodeJS.ProcessEnv;
  try {
    const variables = await resolve(ctx, templates);
    fallback?.save(variables);
    env = { ...process.env, ...variables };
  } catch (err) {
    abort.abort();
    return offline(err);
  }
  let signalled = false;
  let running: RunningChild | undefined;
  const stopForwarding = forwardSignals(
    () => running?.child,
    () => {
      signalled = true;
    },
  );
  try {
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
          const variables = await resolve(ctx, templates);
          fallback?.save(variables);
          env = { ...process.env, ...variables };
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
      .option(
        '--fallback',
        'keep an encrypted offline snapshot and use it when the server cannot be reached (default with a stored login; COFFER_FALLBACK)',
      )
      .option('--no-fallback', 'neither write nor use an offline snapshot')
      .option('--fallback-only', 'use the offline snapshot without asking the server; fail if there is none')
      .option(
        '--fallback-ttl <duration>',
        'how long a snapshot stays usable: 30m, 12h, 7d (default 7d; COFFER_FALLBACK_TTL)',
      )
      .passThroughOptions(),
  );
  examples(command, [
    'coffer run --env SMTP_PASSWORD=mail.password -- node server.js',
    "coffer run --env DATABASE_URL='postgres://{{ db.username }}:{{ db.password }}@{{ db.host }}/app' -- npm start",
    'coffer run --env-file .env.tpl -- ./deploy.sh      # .env.tpl: API_TOKEN={{ api.token }}',
    'coffer run --secret mail -- printenv MAIL_HOST',
    'coffer run --watch --env-file .env.tpl -- node server.js',
    'coffer run --fallback-only --env-file .env.tpl -- ./deploy.sh   # offline, from the last snapshot',
  ]);
  act<RunOptions>(command, run);
}
