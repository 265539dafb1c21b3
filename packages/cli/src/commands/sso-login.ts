import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors/cli-error.js';

/** How long `coffer login --sso` waits for the browser to come back. */
const waitMs = 5 * 60_000;

export interface SsoLoginOptions {
  /** Open the browser (`--no-browser` sets false: the address is only printed). */
  browser: boolean;
  tokenName: string;
  scope: 'read-only' | 'read-write';
}

/** What a finished sign-in gives the login command. */
export interface SsoLoginResult {
  token: string;
  tokenId: string;
  username: string;
}

/**
 * `coffer login --sso`: the loopback redirect flow of RFC 8252. The CLI listens on
 * 127.0.0.1:<random port>, sends the browser to the server's sign-in with its own PKCE challenge
 * and state, receives a one-time code on its loopback address when the person signed in at the
 * provider, and redeems it with its PKCE verifier for an API token. The verifier never leaves
 * this process until that last call, so a code seen by anyone else (another local process, a
 * browser extension, a log) is worth nothing.
 */
export async function ssoLogin(
  ctx: CommandContext,
  address: string,
  options: SsoLoginOptions,
): Promise<SsoLoginResult> {
  const client = await ctx.clientFor(address);
  const info = await client.auth.sso();
  if (!info.enabled || info.startPath === null) {
    throw new CliError('not_found', `single sign-on is not configured on ${address}; log in with a password`);
  }
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  const state = randomBytes(24).toString('base64url');

  const loopback = await listenForCallback(state);
  try {
    const start = new URL(info.startPath, address);
    start.search = new URLSearchParams({
      cliRedirect: loopback.redirectUri,
      cliChallenge: challenge,
      cliState: state,
    }).toString();
    if (options.browser) {
      ctx.note(`Opening a browser to sign in with ${info.name}. If none opens, go to:\n  ${start.href}`);
      openBrowser(start.href, ctx.env);
    } else {
      ctx.note(
        `To sign in with ${info.name}, open this address in a browser on this computer:\n  ${start.href}`,
      );
    }
    ctx.note('Waiting for the sign-in to finish (Ctrl-C to give up)...');
    const code = await loopback.code;
    const redeemed = await client.auth.ssoToken({
      code,
      codeVerifier: verifier,
      tokenName: options.tokenName,
      scope: options.scope,
    });
    return { token: redeemed.token, tokenId: redeemed.info.id, username: redeemed.user.username };
  } finally {
    loopback.close();
  }
}

/** What the sign-in's outcome means for the person at the terminal, by the server's reason. */
function failureOf(reason: string): CliError {
  const messages: Record<string, string> = {
    denied: 'the sign-in was cancelled at the identity provider',
    expired: 'the sign-in expired or was finished in another browser; run coffer login --sso again',
    unavailable: 'the identity provider cannot be reached right now; try again later',
    disabled: 'your Coffer account is disabled; ask an administrator',
    username_taken:
      'a Coffer account with your username exists and is not linked to this sign-in; ask an administrator',
    not_provisioned: 'there is no Coffer account for you yet; ask an administrator to create one',
    invalid_claims: 'the identity provider sent no usable username; ask an administrator',
  };
  const message = messages[reason] ?? 'the sign-in did not work; run coffer login --sso again';
  return new CliError(reason === 'unavailable' ? 'sso_unavailable' : 'sso_failed', message);
}

/** Listens on 127.0.0.1 for the browser's return to `/callback` with this sign-in's state. */
async function listenForCallback(
  state: string,
): Promise<{ redirectUri: string; code: Promise<string>; close(): void }> {
  let settle: { resolve(code: string): void; reject(err: Error): void } | undefined;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== '/callback') {
      page(response, 404, 'Not found', 'This address only takes coffer login --sso back from a sign-in.');
      return;
    }
    // Someone else's redirect (or a guess) is answered, not taken: only our state finishes.
    if (url.searchParams.get('state') !== state) {
      page(response, 400, 'Not this sign-in', 'This is not the sign-in coffer login --sso is waiting for.');
      return;
    }
    const error = url.searchParams.get('error');
    const received = url.searchParams.get('code');
    if (error !== null || received === null) {
      const failure = failureOf(error ?? 'failed');
      page(response, 200, 'Sign-in failed', `${failure.message}. You can close this window.`);
      settle?.reject(failure);
      return;
    }
    page(response, 200, 'Signed in', 'You are signed in to the Coffer CLI. You can close this window.');
    settle?.resolve(received);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const timer = setTimeout(
    () => settle?.reject(new CliError('aborted', 'no sign-in arrived within 5 minutes')),
    waitMs,
  );
  timer.unref();
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    code,
    close() {
      clearTimeout(timer);
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A small page for the browser tab the sign-in ends in. */
function page(response: ServerResponse, status: number, title: string, text: string): void {
  const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'",
    connection: 'close',
  });
  response.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html(title)} · Coffer</title></head>` +
      `<body><h1>${html(title)}</h1><p>${html(text)}</p></body></html>`,
  );
}

/** Opens `url` in the person's browser; `$BROWSER` wins. Failing quietly: the URL is printed anyway. */
function openBrowser(url: string, env: NodeJS.ProcessEnv): void {
  const [command, ...args] =
    env.BROWSER !== undefined && env.BROWSER !== ''
      ? [env.BROWSER, url]
      : process.platform === 'darwin'
        ? ['open', url]
        : process.platform === 'win32'
          ? ['rundll32', 'url.dll,FileProtocolHandler', url]
          : ['xdg-open', url];
  try {
    const child = spawn(command!, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // The address was printed; the person can open it themselves.
  }
}
