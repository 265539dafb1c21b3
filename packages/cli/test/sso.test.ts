// coffer login --sso against the real server and a real OpenID Connect provider (oidc-provider)
// on 127.0.0.1. The browser's part is driven over HTTP from the test: it follows the address the
// CLI prints (or hands to $BROWSER), logs in at the provider, and lands on the CLI's loopback
// address, which the CLI redeems with its PKCE verifier for an API token.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../server/test/support/api-client.js';
import {
  driveSignIn,
  freePort,
  startOidcProvider,
  type TestProvider,
} from '../../server/test/support/oidc-provider.js';
import { cleanupServers, type ServerProcess, tempDir } from '../../server/test/support/server-process.js';
import { adminPassword, Cli, killCliProcesses, startTestServer } from './support/cli-process.js';

let provider: TestProvider;
let server: ServerProcess;
let admin: ApiClient;

beforeAll(async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${url}/api/v1/auth/sso/callback`],
    accounts: { ada: { name: 'Ada Lovelace', groups: ['eng-staff'] } },
  });
  server = await startTestServer({
    COFFER_PORT: String(port),
    COFFER_SSO_ISSUER: provider.issuer,
    COFFER_SSO_CLIENT_ID: provider.clientId,
    COFFER_SSO_CLIENT_SECRET: provider.clientSecret,
    COFFER_SSO_PUBLIC_URL: url,
    COFFER_SSO_NAME: 'Example ID',
    COFFER_SSO_SCOPES: 'openid,profile,groups',
    COFFER_SSO_GROUPS_CLAIM: 'groups',
    COFFER_SSO_GROUP_MAPPING: 'eng-staff=engineering',
    COFFER_SSO_PASSWORD_LOGIN: 'admins',
  });
  admin = await ApiClient.login(server.api, 'admin', adminPassword);
  await admin.post('/groups', { name: 'engineering' });
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
  await provider?.close();
});

const storedLogin = (cli: Cli) =>
  JSON.parse(readFileSync(cli.configFile, 'utf8')).servers[server.url] as {
    token: string;
    tokenId: string;
    username: string;
  };

describe('coffer login --sso', () => {
  it('prints the sign-in address, and stores an API token of the user who signed in', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    const login = cli.spawn(['login', '--sso', '--no-browser']);
    const [, address] = await login.waitFor(
      /^ {2}(http:\/\/\S+\/api\/v1\/auth\/sso\/start\?\S+)$/m,
      'stderr',
    );
    const start = new URL(address!);
    expect(start.searchParams.get('cliRedirect')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(start.searchParams.get('cliChallenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const trip = await driveSignIn(address!, { login: 'ada' });
    expect(trip.landedAt).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    expect(await trip.final.text()).toContain('You are signed in to the Coffer CLI');

    const result = await login.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      'To sign in with Example ID, open this address in a browser on this computer',
    );
    expect(result.stdout).toBe(
      `Logged in to ${server.url} as ada. The API token is stored in ${cli.configFile}.\n`,
    );
    const stored = storedLogin(cli);
    expect(stored.username).toBe('ada');
    expect(await cli.json(['whoami'])).toMatchObject({
      authenticatedBy: 'token',
      user: { username: 'ada', role: 'member' },
      token: { id: stored.tokenId, scope: 'read-write' },
    });
    const token = (
      await admin.get(`/tokens?userId=${(await admin.get('/users?query=ada')).body.items[0].id}`)
    ).body.items[0];
    expect(token).toMatchObject({ id: stored.tokenId, name: `coffer-cli@${hostname()}` });
    const login0 = (await admin.get('/audit?action=auth.login&limit=1')).body.items[0];
    expect(login0).toMatchObject({ source: 'cli', actor: { name: 'ada' }, details: { method: 'sso' } });
  });

  it('opens $BROWSER, and a new login replaces (and revokes) the stored token', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    const opened = join(tempDir(), 'opened-url');
    const browser = join(tempDir(), 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    chmodSync(browser, 0o755);

    /** Runs `coffer login --sso ...` and signs in at the address it handed to the "browser". */
    const signIn = async (args: string[]) => {
      writeFileSync(opened, '');
      const login = cli.spawn(['login', '--sso', ...args], { env: { BROWSER: browser } });
      await login.waitFor(/Waiting for the sign-in/, 'stderr');
      for (let i = 0; i < 200 && readFileSync(opened, 'utf8') === ''; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await driveSignIn(readFileSync(opened, 'utf8'), { login: 'ada' });
      const result = await login.done;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('Opening a browser to sign in with Example ID');
      return result;
    };

    const first = await signIn(['--read-only', '--json']);
    expect(JSON.parse(first.stdout)).toMatchObject({ address: server.url, username: 'ada' });
    const firstToken = storedLogin(cli).token;
    expect((await cli.json(['whoami'])).token.scope).toBe('read-only');

    await signIn([]);
    expect((await cli.json(['whoami'])).token.scope).toBe('read-write');
    expect((await admin.withToken(firstToken).get('/auth/me')).status).toBe(401);
  });

  it('exits with 4 and says why when the sign-in is refused', async () => {
    const adaId = (await admin.get('/users?query=ada')).body.items[0].id;
    await admin.patch(`/users/${adaId}`, { disabled: true });
    const cli = new Cli({ COFFER_ADDR: server.url });
    const login = cli.spawn(['login', '--sso', '--no-browser']);
    const [, address] = await login.waitFor(/^ {2}(http:\/\/\S+)$/m, 'stderr');
    const trip = await driveSignIn(address!, { login: 'ada' });
    expect(trip.landedAt).toMatch(/\/callback\?error=disabled&state=/);
    const result = await login.done;
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /^coffer: sso_failed: your Coffer account is disabled; ask an administrator$/m,
    );
    expect(existsSync(cli.configFile)).toBe(false);
    await admin.patch(`/users/${adaId}`, { disabled: false });
  });

  it('leaves password logins to admins, and refuses --sso with a password option', async () => {
    await admin.post('/users', { username: 'carol', password: 'carol has a long password' });
    const cli = new Cli({ COFFER_ADDR: server.url });
    const refused = await cli.run(['login', '-u', 'carol', '--password-stdin'], {
      input: 'carol has a long password\n',
    });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^coffer: forbidden: password login is turned off for this account/m);
    const usage = await cli.run(['login', '--sso', '-u', 'carol']);
    expect(usage.code).toBe(2);
    expect(
      await cli.ok(['login', '-u', 'admin', '--password-stdin'], { input: `${adminPassword}\n` }),
    ).toContain('as admin');
  });
});
