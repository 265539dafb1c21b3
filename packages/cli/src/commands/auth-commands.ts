import { hostname } from 'node:os';
import type { CofferClient } from '@coffer/client';
import type { Command } from 'commander';
import { act, examples, withCommonOptions } from '../command-kit.js';
import { normalizeAddress } from '../config/credentials.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';
import { canPrompt, promptHidden, promptVisible, readStdin } from '../input/prompt.js';
import { removeLoginSnapshots } from '../run/fallback-store.js';
import { ssoLogin } from './sso-login.js';

interface LoginOptions {
  username?: string;
  passwordStdin?: boolean;
  token?: boolean;
  readOnly?: boolean;
  tokenName?: string;
  sso?: boolean;
  /** `--no-browser` makes it false. */
  browser?: boolean;
}

/** The address `login` and `logout` work on: `--addr`, `COFFER_ADDR`, the current one, the default. */
function targetAddress(ctx: CommandContext): string {
  return ctx.credentials().address;
}

async function readSecretInput(what: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) return (await readStdin()).replace(/\r?\n$/, '');
  if (!canPrompt()) {
    throw new CliError(
      'usage',
      `no terminal to ask for the ${what} on; pipe it with --${what === 'token' ? 'token' : 'password'}-stdin`,
    );
  }
  return promptHidden(`${what[0]!.toUpperCase()}${what.slice(1)}: `);
}

async function login(ctx: CommandContext, options: LoginOptions): Promise<void> {
  const address = normalizeAddress(targetAddress(ctx));
  const previous = ctx.store.read().servers[address];
  let token: string;
  let tokenId: string | undefined;
  let username: string;
  // The new credentials: they revoke the token this login replaces (the old token may be
  // read-only, and a read-only token cannot revoke another).
  let fresh: CofferClient;
  let endSession = async () => {};
  if (options.sso) {
    if (options.token || options.username !== undefined || options.passwordStdin) {
      throw new CliError('usage', '--sso goes with none of --token, --username and --password-stdin');
    }
    // The browser signs in at the identity provider; the CLI gets an API token, never a password.
    const signedIn = await ssoLogin(ctx, address, {
      browser: options.browser !== false,
      tokenName: options.tokenName ?? `coffer-cli@${hostname()}`,
      scope: options.readOnly ? 'read-only' : 'read-write',
    });
    ({ token, tokenId, username } = signedIn);
    fresh = await ctx.clientFor(address, token);
  } else if (options.token) {
    // An existing API token (a CI secret, a service account's token): checked, then stored.
    token = await readSecretInput('token', options.passwordStdin === true || !canPrompt());
    fresh = await ctx.clientFor(address, token);
    const me = await fresh.auth.me();
    tokenId = me.token?.id;
    username = me.user.username;
  } else {
    username = options.username ?? (canPrompt() ? await promptVisible('Username: ') : '');
    if (username === '') throw new CliError('usage', 'give --username (standard input is not a terminal)');
    const password = await readSecretInput('password', options.passwordStdin === true);
    // A session only long enough to make a named, revocable API token (and revoke the one it
    // replaces): the password is never stored.
    const session = await ctx.clientFor(address);
    await session.auth.login({ username, password });
    fresh = session;
    endSession = () => session.auth.logout().catch(() => {});
    try {
      const created = await session.tokens.create({
        name: options.tokenName ?? `coffer-cli@${hostname()}`,
        scope: options.readOnly ? 'read-only' : 'read-write',
      });
      token = created.token;
      tokenId = created.info.id;
    } catch (err) {
      await endSession();
      throw err;
    }
  }
  try {
    ctx.store.update((config) => ({
      ...config,
      current: address,
      servers: {
        ...config.servers,
        [address]: {
          token,
          ...(tokenId === undefined ? {} : { tokenId }),
          username,
          at: new Date().toISOString(),
        },
      },
    }));
    // The token this login replaces is of no more use: revoked with the new credentials, else
    // (another user's token, or a new read-only token) by itself. Best effort: it may be
    // revoked or expired already. Its offline snapshots go with it (no other key opens them).
    if (previous !== undefined && previous.token !== token) {
      removeLoginSnapshots(ctx.env, address, previous.token);
    }
    if (previous !== undefined && previous.token !== token && previous.tokenId !== undefined) {
      const oldId = previous.tokenId;
      await fresh.tokens.revoke(oldId).catch(async () => {
        const old = await ctx.clientFor(address, previous.token);
        await old.tokens.revoke(oldId).catch(() => {});
      });
    }
  } finally {
    await endSession();
  }
  const result = { address, username, tokenId: tokenId ?? null, configFile: ctx.store.path };
  ctx.emit(
    result,
    (r) => `Logged in to ${r.address} as ${r.username}. The API token is stored in ${r.configFile}.`,
  );
}

async function logout(ctx: CommandContext): Promise<void> {
  const address = targetAddress(ctx);
  const stored = ctx.store.read().servers[address];
  if (stored === undefined) {
    ctx.emit({ address, loggedOut: false, revoked: false }, (r) => `Not logged in to ${r.address}.`);
    if (ctx.env.COFFER_TOKEN)
      ctx.note('coffer: note: COFFER_TOKEN is set in the environment; logout does not touch it.');
    return;
  }
  let revoked = false;
  let problem: string | undefined;
  try {
    const client = await ctx.clientFor(address, stored.token);
    const tokenId = stored.tokenId ?? (await client.auth.me()).token?.id;
    if (tokenId !== undefined) {
      await client.tokens.revoke(tokenId);
      revoked = true;
    }
  } catch (err) {
    // Already revoked or expired: nothing left to revoke. Anything else: say so.
    const code = (err as { code?: string }).code;
    if (code === 'unauthenticated') revoked = true;
    else problem = (err as Error).message;
  }
  ctx.store.update((config) => {
    const { [address]: _, ...servers } = config.servers;
    return { ...config, servers };
  });
  // `coffer run`'s offline snapshots of this login: without the token they would never open
  // again, and a login that ended must not keep working offline.
  removeLoginSnapshots(ctx.env, address, stored.token);
  if (problem !== undefined) {
    ctx.note(
      `coffer: warning: the token could not be revoked on the server (${problem}); it stays valid until revoked`,
    );
  }
  ctx.emit({ address, loggedOut: true, revoked }, (r) => `Logged out of ${r.address}.`);
}

async function whoami(ctx: CommandContext): Promise<void> {
  const { address, tokenFrom } = ctx.credentials();
  if (tokenFrom === undefined) {
    throw new CliError('not_logged_in', `not logged in to ${address}; run coffer login`);
  }
  const me = await (await ctx.client()).auth.me();
  const result = { address, tokenFrom, ...me };
  ctx.emitFields(result, (r) => [
    ['user', r.user.username],
    ['display name', r.user.displayName],
    ['role', r.user.role],
    ['type', r.user.type],
    ['server', r.address],
    ['authenticated by', r.authenticatedBy],
    ['token', r.token === undefined || r.token === null ? '-' : `${r.token.id} (${r.token.scope})`],
    ['token from', r.tokenFrom === 'env' ? 'COFFER_TOKEN' : 'config file'],
  ]);
}

/** `coffer login`, `logout`, `whoami`. */
export function registerAuthCommands(program: Command): void {
  const loginCommand = withCommonOptions(
    program
      .command('login')
      .description('log in and store an API token for this server (never the password)')
      .option('-u, --username <name>', 'the username (asked when not given)')
      .option('--password-stdin', 'read the password (or with --token, the token) from standard input')
      .option('--token', 'store an existing API token instead (asked without echo, or from standard input)')
      .option('--read-only', 'make the stored token read-only')
      .option('--token-name <name>', 'the name of the token created (default: coffer-cli@<host>)')
      .option('--sso', "sign in with the server's single sign-on, in a browser on this computer")
      .option('--no-browser', 'with --sso: print the sign-in address instead of opening a browser'),
  );
  examples(loginCommand, [
    'coffer login --addr https://coffer.example.com',
    'coffer login --sso --addr https://coffer.example.com',
    'coffer login -u ci-bot --password-stdin < password.txt',
    'echo "$COFFER_CI_TOKEN" | coffer login --token',
  ]);
  act<LoginOptions>(loginCommand, (ctx, _args, options) => login(ctx, options));

  const logoutCommand = withCommonOptions(
    program.command('logout').description("revoke this CLI's token on the server and forget it"),
  );
  examples(logoutCommand, ['coffer logout', 'coffer logout --addr https://coffer.example.com']);
  act(logoutCommand, (ctx) => logout(ctx));

  const whoamiCommand = withCommonOptions(
    program.command('whoami').description('who the CLI acts as, and where'),
  );
  examples(whoamiCommand, ['coffer whoami', 'coffer whoami --json | jq -r .user.username']);
  act(whoamiCommand, (ctx) => whoami(ctx));
}
