// login, logout, whoami: the stored credential is a named, revocable API token in a 0600 file
// of a 0700 directory, never a password; COFFER_ADDR and COFFER_TOKEN override; a stored token
// is only ever sent to the server that issued it.
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../server/test/support/api-client.js';
import { cleanupServers, type ServerProcess } from '../../server/test/support/server-process.js';
import { adminPassword, Cli, killCliProcesses, startTestServer } from './support/cli-process.js';

let server: ServerProcess;
let api: ApiClient;

beforeAll(async () => {
  server = await startTestServer();
  api = await ApiClient.login(server.api, 'admin', adminPassword);
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

const storedToken = (cli: Cli) => {
  const config = JSON.parse(readFileSync(cli.configFile, 'utf8'));
  return config.servers[server.url] as { token: string; tokenId: string; username: string };
};

describe('coffer login', () => {
  it('stores a named API token (not the password) with mode 0600 in a 0700 directory', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    const result = await cli.run(['login', '--username', 'admin', '--password-stdin'], {
      input: `${adminPassword}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `Logged in to ${server.url} as admin. The API token is stored in ${cli.configFile}.\n`,
    );

    expect(statSync(cli.configFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(cli.configHome, 'coffer')).mode & 0o777).toBe(0o700);
    const text = readFileSync(cli.configFile, 'utf8');
    expect(text).not.toContain(adminPassword);
    const stored = storedToken(cli);
    expect(stored.token).toMatch(/^cfr_/);
    expect(stored.username).toBe('admin');

    // The token is a real, named token of the admin's; the login session was ended.
    const tokens = await api.get('/tokens');
    const info = tokens.body.items.find((t: { id: string }) => t.id === stored.tokenId);
    expect(info).toMatchObject({ name: `coffer-cli@${hostname()}`, scope: 'read-write', state: 'active' });
    const me = await api.withToken(stored.token).get('/auth/me');
    expect(me.body).toMatchObject({ authenticatedBy: 'token', user: { username: 'admin' } });

    // whoami, human and JSON.
    const who = await cli.ok(['whoami']);
    expect(who).toMatch(/^user: +admin$/m);
    expect(who).toMatch(/^token from: +config file$/m);
    const json = await cli.json(['whoami']);
    expect(json).toMatchObject({
      address: server.url,
      tokenFrom: 'config',
      authenticatedBy: 'token',
      user: { username: 'admin', role: 'admin' },
      token: { id: stored.tokenId, scope: 'read-write' },
    });
  });

  it('refuses a wrong password with exit code 4 and stores nothing', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    const result = await cli.run(['login', '-u', 'admin', '--password-stdin'], { input: 'wrong password\n' });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^coffer: unauthenticated: .+\n$/);
    // No advice to run the very command that was run.
    expect(result.stderr).not.toContain('run coffer login');
    expect(() => statSync(cli.configFile)).toThrow();
    const badToken = await cli.run(['login', '--token'], { input: 'cfr_nope\n' });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).not.toContain('run coffer login');
  });

  it('asks for --username when there is no terminal to ask on (usage, 2)', async () => {
    const result = await new Cli({ COFFER_ADDR: server.url }).run(['login', '--password-stdin'], {
      input: 'x',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--username');
  });

  it('makes a read-only token with --read-only, and logging in again revokes the previous token', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    await cli.ok(['login', '-u', 'admin', '--password-stdin'], { input: adminPassword });
    const first = storedToken(cli);
    await cli.ok(['login', '-u', 'admin', '--password-stdin', '--read-only', '--token-name', 'laptop'], {
      input: adminPassword,
    });
    const second = storedToken(cli);
    expect(second.token).not.toBe(first.token);
    expect((await api.withToken(first.token).get('/auth/me')).status).toBe(401);
    expect((await cli.json(['whoami'])).token.scope).toBe('read-only');
    const tokens = await api.get('/tokens');
    expect(tokens.body.items.find((t: { id: string }) => t.id === second.tokenId).name).toBe('laptop');
    // A read-only token changes nothing: forbidden, exit code 4.
    const refused = await cli.run(['secret', 'create', 'ro-test', 'a=b']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^coffer: forbidden: /);
  });

  it('revokes a read-only token it replaces, with the new login', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    await cli.ok(['login', '-u', 'admin', '--password-stdin', '--read-only'], { input: adminPassword });
    const first = storedToken(cli);
    expect((await cli.json(['whoami'])).token.scope).toBe('read-only');
    await cli.ok(['login', '-u', 'admin', '--password-stdin'], { input: adminPassword });
    const second = storedToken(cli);
    expect(second.token).not.toBe(first.token);
    expect((await api.withToken(first.token).get('/auth/me')).status).toBe(401);
    const tokens = await api.get('/tokens?includeInactive=true&limit=1000');
    expect(tokens.body.items.find((t: { id: string }) => t.id === first.tokenId).state).toBe('revoked');
    expect((await api.withToken(second.token).get('/auth/me')).status).toBe(200);
  });

  it('revokes the token it replaces even when that token cannot act itself (its user is disabled)', async () => {
    await api.post('/users', { username: 'replaced', password: 'replaced user password' });
    const cli = new Cli({ COFFER_ADDR: server.url });
    await cli.ok(['login', '-u', 'replaced', '--password-stdin', '--read-only'], {
      input: 'replaced user password',
    });
    const old = storedToken(cli);
    const user = (await api.get('/users?query=replaced')).body.items[0];
    expect((await api.patch(`/users/${user.id}`, { disabled: true })).status).toBe(200);
    // The new login (another user) revokes the old token with its own credentials.
    await cli.ok(['login', '-u', 'admin', '--password-stdin'], { input: adminPassword });
    expect((await api.patch(`/users/${user.id}`, { disabled: false })).status).toBe(200);
    expect((await api.withToken(old.token).get('/auth/me')).status).toBe(401);
    const tokens = await api.get(`/tokens?userId=${user.id}&includeInactive=true`);
    expect(tokens.body.items.find((t: { id: string }) => t.id === old.tokenId).state).toBe('revoked');
  });

  it('stores an existing token with --token, checked first', async () => {
    const created = await api.post('/tokens', { name: 'ci', scope: 'read-write' });
    const cli = new Cli({ COFFER_ADDR: server.url });
    const result = await cli.run(['login', '--token'], { input: `${created.body.token}\n` });
    expect(result.code, result.stderr).toBe(0);
    expect(storedToken(cli)).toMatchObject({
      token: created.body.token,
      tokenId: created.body.info.id,
      username: 'admin',
    });
    const bad = await new Cli({ COFFER_ADDR: server.url }).run(['login', '--token'], { input: 'cfr_nope\n' });
    expect(bad.code).toBe(4);
  });
});

describe('COFFER_ADDR and COFFER_TOKEN', () => {
  it('COFFER_TOKEN wins over the stored token; the stored token goes only to its own server', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    await cli.ok(['login', '-u', 'admin', '--password-stdin'], { input: adminPassword });
    // A member with a token of their own, given through the environment.
    await api.post('/users', { username: 'env-user', password: 'env user password 1' });
    const member = await ApiClient.login(server.api, 'env-user', 'env user password 1');
    const token = (await member.post('/tokens', { name: 'env', scope: 'read-write' })).body.token;
    const who = await cli.with({ COFFER_TOKEN: token }).json(['whoami']);
    expect(who).toMatchObject({ tokenFrom: 'env', user: { username: 'env-user' } });

    // Without COFFER_ADDR the address is the one logged in to last.
    const noAddr = cli.with({ COFFER_ADDR: undefined });
    expect((await noAddr.json(['whoami'])).address).toBe(server.url);
    // Pointed at another address, the stored token is not sent: not logged in there.
    const elsewhere = await cli.with({ COFFER_ADDR: 'http://localhost:1' }).run(['whoami']);
    expect(elsewhere.code).toBe(4);
    expect(elsewhere.stderr).toBe(
      'coffer: not_logged_in: not logged in to http://localhost:1; run coffer login\n',
    );
    // --addr wins over COFFER_ADDR.
    expect(
      (
        await cli
          .with({ COFFER_ADDR: 'http://localhost:1' })
          .json(['whoami', '--addr', `${server.url}/api/v1/`])
      ).address,
    ).toBe(server.url);
  });
});

describe('coffer logout', () => {
  it('revokes the token on the server and forgets it', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    await cli.ok(['login', '-u', 'admin', '--password-stdin'], { input: adminPassword });
    const { token } = storedToken(cli);
    const result = await cli.json(['logout']);
    expect(result).toEqual({ address: server.url, loggedOut: true, revoked: true });
    expect((await api.withToken(token).get('/auth/me')).status).toBe(401);
    expect(JSON.parse(readFileSync(cli.configFile, 'utf8')).servers).toEqual({});
    expect(statSync(cli.configFile).mode & 0o777).toBe(0o600);
    // Logged out: commands say how to log in, exit code 4.
    const after = await cli.run(['secret', 'list']);
    expect(after.code).toBe(4);
    expect(after.stderr).toMatch(/^coffer: unauthenticated: .*\(run coffer login, or set COFFER_TOKEN\)\n$/);
    // Logging out again is fine.
    expect((await cli.ok(['logout'])).trim()).toBe(`Not logged in to ${server.url}.`);
  });

  it('revokes a read-only token too: a token may always revoke itself', async () => {
    const cli = new Cli({ COFFER_ADDR: server.url });
    await cli.ok(['login', '-u', 'admin', '--password-stdin', '--read-only'], { input: adminPassword });
    const { token } = storedToken(cli);
    const result = await cli.run(['logout', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ address: server.url, loggedOut: true, revoked: true });
    expect((await api.withToken(token).get('/auth/me')).status).toBe(401);
  });
});
