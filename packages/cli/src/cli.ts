import { CommanderError } from 'commander';
import { CofferCommand, contexts } from './command-kit.js';
import { exitCodes } from './errors/exit-codes.js';
import { reportOf } from './errors/report-error.js';
import { cliVersion } from './version.js';

type Register = (program: CofferCommand) => void;

/**
 * Where each top-level command is defined. Only the module of the command being run is
 * loaded (help, completion and unknown commands load all), so `coffer run -- cmd` does not
 * pay for the rest of the tree.
 */
const commandModules: Record<string, () => Promise<Register>> = {
  server: async () => (await import('./commands/server-command.js')).registerServerCommand,
  login: async () => (await import('./commands/auth-commands.js')).registerAuthCommands,
  secret: async () => (await import('./commands/secret-commands.js')).registerSecretCommands,
  share: async () => (await import('./commands/share-commands.js')).registerShareCommands,
  'share-link': async () => (await import('./commands/share-link-commands.js')).registerShareLinkCommands,
  kind: async () => (await import('./commands/kind-commands.js')).registerKindCommands,
  user: async () => (await import('./commands/user-commands.js')).registerUserCommands,
  group: async () => (await import('./commands/group-commands.js')).registerGroupCommands,
  token: async () => (await import('./commands/token-commands.js')).registerTokenCommands,
  audit: async () => (await import('./commands/audit-commands.js')).registerAuditCommands,
  backend: async () => (await import('./commands/backend-commands.js')).registerBackendCommands,
  keys: async () => (await import('./commands/keys-commands.js')).registerKeysCommands,
  run: async () => (await import('./commands/run-command.js')).registerRunCommand,
  export: async () => (await import('./commands/transfer-commands.js')).registerTransferCommands,
  completion: async () => (await import('./commands/completion-command.js')).registerCompletionCommand,
};

/** Commands defined in the module of another name. */
const definedWith: Record<string, string> = {
  logout: 'login',
  whoami: 'login',
  unshare: 'share',
  migrate: 'backend',
  import: 'export',
  __complete: 'completion',
};

/**
 * The `coffer` command tree: all of it, or only the top-level commands named (with the
 * commands defined beside them). Building it loads no SDK, no YAML and no server: each action
 * imports what it needs when it runs.
 */
export async function createProgram(only?: readonly string[]): Promise<CofferCommand> {
  const program = new CofferCommand('coffer');
  program
    .description('Coffer: typed, encrypted, shared secrets from the terminal and from scripts.')
    .version(cliVersion, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .addHelpText(
      'after',
      `
Environment:
  COFFER_ADDR    the server address (default: the last login, else http://127.0.0.1:8470)
  COFFER_TOKEN   an API token to use instead of the one stored by coffer login
  COFFER_FALLBACK, COFFER_FALLBACK_TTL
                 coffer run's offline snapshot: on, off or auto; how long it lasts (7d)

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 not logged in or not allowed, 5 conflict,
6 invalid input, 7 server unreachable or unavailable, 8 a check failed; coffer run passes the
command's own code through (128+n when a signal n ended it). See docs/cli.md.

Examples:
  coffer login
  coffer secret create mail --kind smtp host=smtp.example.com password=-
  coffer secret get mail --field password
  coffer run --env SMTP_PASSWORD=mail.password -- node app.js
  coffer export mail --format dotenv > .env
`,
    );
  const modules =
    only === undefined
      ? Object.keys(commandModules)
      : [...new Set(only.map((name) => definedWith[name] ?? name))].filter((name) => name in commandModules);
  const registers = await Promise.all(modules.map((name) => commandModules[name]!()));
  for (const register of registers) register(program);
  return program;
}

/**
 * The top-level commands to load for a command line: the one it names, none for
 * `--version`, and all (undefined) for help, completion and anything unknown.
 */
function commandsNeeded(argv: readonly string[]): string[] | undefined {
  const first = argv[2];
  if (argv.length === 3 && (first === '--version' || first === '-V')) return [];
  const named = commandNamed(first);
  return named === undefined ? undefined : [named];
}

/** The top-level command a word names, if it is one `coffer` has. */
function commandNamed(first: string | undefined): string | undefined {
  // Completion scripts describe the whole tree.
  if (first === undefined || first === 'completion') return undefined;
  if (!(first in commandModules || first in definedWith)) return undefined;
  return first;
}

/** The exit code of the command that ran: the one its action set, else 0. */
function exitCodeOfRun(program: CofferCommand): number {
  const pending = [...program.commands];
  while (pending.length > 0) {
    const command = pending.pop()!;
    const ctx = contexts.get(command);
    if (ctx !== undefined) return ctx.exitCode;
    pending.push(...command.commands);
  }
  return exitCodes.ok;
}

/**
 * Runs `coffer` with `argv` (as in `process.argv`) and resolves with the exit code. Every
 * failure goes through one path: `coffer: <code>: <message>` on standard error and the
 * documented exit code.
 *
 * @example
 * process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await createProgram(commandsNeeded(argv));
    await program.parseAsync([...argv]);
    return exitCodeOfRun(program);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; a group without its subcommand printed its
      // help on standard error: that is a usage error.
      if (err.exitCode === 0) return exitCodes.ok;
      if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') return exitCodes.usage;
    }
    // `coffer login` refused (a wrong password or token) needs no advice to run coffer login.
    const hint = argv[2] === 'login' ? {} : { unauthenticated: 'run coffer login, or set COFFER_TOKEN' };
    const report = reportOf(err, hint);
    process.stderr.write(`${report.lines.join('\n')}\n`);
    return report.exitCode;
  }
}
