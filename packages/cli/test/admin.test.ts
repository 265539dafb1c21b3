// Sharing, kinds, and the admin commands (users, groups, tokens, audit, backends, migration,
// keys) against a real server, as an admin and as a member.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, tempDir } from '../../server/test/support/server-process.js';
import { binPath, Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

let admin: Cli;
let url: string;
const adaPassword = 'ada has a long password';

const login = async (username: string, password: string) => {
  const cli = new Cli({ COFFER_ADDR: url });
  await cli.ok(['login', '-u', username, '--password-stdin'], { input: password });
  return cli;
};

beforeAll(async () => {
  const config = join(tempDir(), 'coffer.json');
  writeFileSync(config, JSON.stringify({ backends: { files: { type: 'file' } } }));
  const started = await serverWithAdmin({ COFFER_CONFIG: config });
  admin = started.admin;
  url = started.server.url;
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('users, groups and tokens', () => {
  it('creates, lists, shows and updates users and service accounts', async () => {
    const ada = await admin.json(['user', 'create', 'ada', '--display-name', 'Ada L', '--password-stdin'], {
      input: `${adaPassword}\n`,
    });
    expect(ada).toMatchObject({
      username: 'ada',
      displayName: 'Ada L',
      role: 'member',
      type: 'user',
      hasPassword: true,
    });
    expect(await admin.ok(['user', 'create', 'ci-bot', '--service-account'])).toMatch(
      /^Created service account ci-bot \(/,
    );
    await admin.ok(['user', 'create', 'bob', '--password-stdin'], { input: 'bob has a long password' });

    const users = await admin.json(['user', 'list']);
    expect(users.map((u: { username: string }) => u.username)).toEqual(
      expect.arrayContaining(['admin', 'ada', 'bob', 'ci-bot']),
    );
    expect(await admin.ok(['user', 'list', '--query', 'ci'])).toMatch(
      /^ci-bot +ci-bot +service_account +member +no +-$/m,
    );
    expect(await admin.json(['user', 'show', 'ada'])).toMatchObject({ id: ada.id, email: null });
    expect(await admin.json(['user', 'update', 'ada', '--email', 'ada@example.com'])).toMatchObject({
      email: 'ada@example.com',
    });
    expect((await admin.run(['user', 'show', 'nobody'])).code).toBe(3);

    await admin.ok(['user', 'update', 'bob', '--disable']);
    expect(await admin.json(['user', 'show', 'bob'])).toMatchObject({ disabled: true });
    expect(await admin.ok(['user', 'list', '--include-disabled', '--query', 'bob'])).toMatch(
      /^bob +bob +user +member +yes +/m,
    );
    // Without --include-disabled, disabled users are left out.
    expect(await admin.ok(['user', 'list', '--query', 'bob'])).toBe('No users.\n');
    const enabledOnly = (await admin.json(['user', 'list'])).map((u: { username: string }) => u.username);
    expect(enabledOnly).toEqual(expect.arrayContaining(['admin', 'ada', 'ci-bot']));
    expect(enabledOnly).not.toContain('bob');
    expect(
      (await admin.json(['user', 'list', '--include-disabled'])).map((u: { username: string }) => u.username),
    ).toContain('bob');
    await admin.ok(['user', 'update', 'bob', '--enable']);

    // An admin sets a password; the user logs in with it; ending sessions works.
    await admin.ok(['user', 'password', 'bob', '--password-stdin'], { input: 'bob has another password' });
    await login('bob', 'bob has another password');
    expect(await admin.json(['user', 'end-sessions', 'bob'])).toEqual({ ended: expect.any(Number) });
  });

  it('manages groups and their members', async () => {
    const group = await admin.json(['group', 'create', 'mailers', '--description', 'apps that send mail']);
    expect(group).toMatchObject({ name: 'mailers', memberCount: 0, builtin: false });
    expect(await admin.json(['group', 'add-member', 'mailers', 'ada', 'ci-bot'])).toEqual({
      group: 'mailers',
      added: ['ada', 'ci-bot'],
    });
    expect(
      (await admin.json(['group', 'members', 'mailers'])).map((m: { username: string }) => m.username).sort(),
    ).toEqual(['ada', 'ci-bot']);
    const shown = await admin.json(['group', 'show', 'mailers']);
    expect(shown).toMatchObject({ memberCount: 2, members: expect.any(Array) });
    expect(await admin.ok(['group', 'show', 'mailers'])).toMatch(/^USERNAME +NAME +TYPE +ADDED$/m);
    await admin.ok(['group', 'remove-member', 'mailers', 'ci-bot']);
    expect(
      (await admin.json(['group', 'members', 'mailers'])).map((m: { username: string }) => m.username),
    ).toEqual(['ada']);
    await admin.ok(['group', 'create', 'temp']);
    expect((await admin.json(['group', 'update', 'temp', '--name', 'temp2'])).name).toBe('temp2');
    expect(await admin.json(['group', 'delete', 'temp2'])).toMatchObject({ name: 'temp2' });
    expect((await admin.json(['group', 'list'])).map((g: { name: string }) => g.name)).toEqual(
      expect.arrayContaining(['mailers', 'system']),
    );
    // The builtin group cannot go: conflict, exit code 5.
    expect((await admin.run(['group', 'delete', 'system'])).code).toBe(5);
  });

  it('creates tokens for service accounts, prints them once, lists and revokes them', async () => {
    const result = await admin.run([
      'token',
      'create',
      'deploy',
      '--user',
      'ci-bot',
      '--read-only',
      '--expires-in',
      '30d',
    ]);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(token).toMatch(/^cfr_/);
    expect(result.stderr).toMatch(/^Created token deploy \(.+, read-only\)\. It is shown only now:/);
    const bot = new Cli({ COFFER_ADDR: url, COFFER_TOKEN: token });
    expect((await bot.json(['whoami'])).user.username).toBe('ci-bot');

    const tokens = await admin.json(['token', 'list', '--user', 'ci-bot']);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ name: 'deploy', scope: 'read-only', state: 'active' });
    expect(JSON.stringify(tokens)).not.toContain(token);
    const json = await admin.json(['token', 'create', 'mine']);
    expect(json).toMatchObject({ token: expect.stringMatching(/^cfr_/), info: { name: 'mine' } });

    expect((await admin.json(['token', 'revoke', tokens[0].id]))[0]).toMatchObject({
      id: tokens[0].id,
      state: 'revoked',
    });
    expect((await bot.run(['whoami'])).code).toBe(4);
    expect(await admin.json(['token', 'list', '--user', 'ci-bot'])).toEqual([]);
    expect(await admin.json(['token', 'list', '--user', 'ci-bot', '--all'])).toHaveLength(1);
  });
});

describe('sharing', () => {
  it('shares with a user and a group at levels, lists shares, and unshares', async () => {
    await admin.ok(['secret', 'create', 'mail', '--kind', 'smtp', 'host=smtp.example.com', 'password=pw']);
    const ada = await login('ada', adaPassword);
    expect((await ada.run(['secret', 'get', 'mail'])).code).toBe(3);

    expect(await admin.json(['share', 'mail', '--user', 'ada'])).toMatchObject({
      granteeType: 'user',
      granteeName: 'ada',
      level: 'read',
    });
    expect((await ada.json(['secret', 'get', 'mail', '--reveal'])).values.password).toBe('pw');
    // read does not allow changes: forbidden, exit code 4.
    const refused = await ada.run(['secret', 'update', 'mail', 'password=new']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^coffer: forbidden: /);

    expect(await admin.ok(['share', 'mail', '--user', 'ada', '--level', 'write'])).toBe(
      'Shared mail with user ada: write.\n',
    );
    await ada.ok(['secret', 'update', 'mail', 'password=new']);
    expect(await admin.json(['share', 'mail', '--group', 'mailers'])).toMatchObject({
      granteeType: 'group',
      level: 'use',
    });

    const shares = await admin.json(['share', 'mail']);
    expect(shares.map((s: { granteeName: string; level: string }) => [s.granteeName, s.level])).toEqual([
      ['mailers', 'use'],
      ['ada', 'write'],
    ]);
    expect(await admin.ok(['share', 'mail'])).toMatch(/^group +mailers +use +\S+$/m);

    expect(await admin.json(['unshare', 'mail', '--user', 'ada'])).toMatchObject({
      revoked: true,
      granteeType: 'user',
    });
    // Ada still uses it through the group, but cannot find or read it: forbidden, exit code 4.
    expect((await ada.json(['secret', 'list'])).map((s: { name: string }) => s.name)).not.toContain('mail');
    expect((await ada.run(['secret', 'get', 'mail', '--reveal'])).code).toBe(4);
    await admin.ok(['unshare', 'mail', '--group', 'mailers']);
    expect(await admin.json(['share', 'mail'])).toEqual([]);
    expect((await admin.run(['unshare', 'mail'])).code).toBe(2);
    expect((await admin.run(['share', 'mail', '--user', 'nobody'])).code).toBe(3);
    // Admins create secrets for others.
    await admin.ok(['secret', 'create', 'adas', 'a=b', '--owner', 'ada']);
    expect((await ada.json(['secret', 'list', '--mine'])).map((s: { name: string }) => s.name)).toEqual([
      'adas',
    ]);
  });

  it('keeps members out of admin commands: exit code 4', async () => {
    const ada = await login('ada', adaPassword);
    for (const args of [
      ['user', 'create', 'eve'],
      ['audit', 'verify'],
      ['backend', 'list'],
      ['keys', 'status'],
      ['migrate', 'status'],
    ]) {
      const result = await ada.run(args);
      expect(result.code, args.join(' ')).toBe(4);
      expect(result.stderr, args.join(' ')).toMatch(/^coffer: forbidden: [^\n]+\n$/);
    }
  });
});

describe('kinds', () => {
  it('lists kinds and shows one with its fields and JSON Schema', async () => {
    const kinds = await admin.json(['kind', 'list']);
    expect(kinds.map((k: { id: string }) => k.id)).toEqual(
      expect.arrayContaining(['generic', 'smtp', 'database', 'ssh-key']),
    );
    expect(kinds[0]).not.toHaveProperty('logo');
    expect(await admin.ok(['kind', 'list'])).toMatch(
      /^smtp +SMTP server +host, port, security, username, password, from +builtin$/m,
    );
    const smtp = await admin.ok(['kind', 'show', 'smtp']);
    expect(smtp).toMatch(/^password +string +no +yes +- +/m);
    expect(smtp).toMatch(/^port +integer +yes +no +587 +Port +min 1; max 65535$/m);
    expect(
      (await admin.json(['kind', 'show', 'smtp'])).fields.map((f: { name: string }) => f.name),
    ).toContain('security');
    const schema = JSON.parse(await admin.ok(['kind', 'show', 'smtp', '--schema']));
    expect(schema['x-coffer-kind']).toBe('smtp');
    expect((await admin.run(['kind', 'show', 'nope'])).code).toBe(3);
  });
});

describe('audit', () => {
  it('lists with filters, verifies the chain, and exports JSON lines', async () => {
    const reveals = await admin.json(['audit', 'list', '--action', 'secret.reveal', '--target', 'mail']);
    expect(reveals.length).toBeGreaterThan(0);
    expect(reveals.every((r: { action: string }) => r.action === 'secret.reveal')).toBe(true);
    // Requests from the CLI are recorded as such.
    expect(reveals[0].source).toBe('cli');
    expect(await admin.json(['audit', 'list', '--limit', '3'])).toHaveLength(3);
    expect(await admin.ok(['audit', 'list', '--limit', '1'])).toMatch(
      /^SEQ +AT +ACTION +OUTCOME +ACTOR +TARGET +SOURCE +ADDRESS$/m,
    );
    expect(
      (await admin.json(['audit', 'list', '--actor', 'ada'])).every(
        (r: { actor: { id: string } }) => r.actor.id !== undefined,
      ),
    ).toBe(true);

    expect(await admin.json(['audit', 'verify'])).toMatchObject({ ok: true, checked: expect.any(Number) });
    expect(await admin.ok(['audit', 'verify'])).toMatch(
      /^OK: the audit chain is intact \(\d+ records checked\)\.\n$/,
    );

    const stdout = await admin.ok(['audit', 'export', '--action', 'secret.create']);
    const lines = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((r: { action: string }) => r.action === 'secret.create')).toBe(true);
    const file = join(tempDir(), 'audit.ndjson');
    const written = await admin.json(['audit', 'export', '--output', file]);
    expect(written.file).toBe(file);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(written.exported);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('ends quietly when the reader of its output goes away (coffer audit export | head -1)', async () => {
    // The reading end is closed before coffer writes a byte: every write fails with EPIPE.
    const closed = admin.spawn(['audit', 'export']);
    closed.child.stdout!.destroy();
    const result = await closed.done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Through a real pipe to a reader that stops after one line.
    const piped = spawnSync(
      'bash',
      ['-c', 'set -o pipefail; "$0" "$1" audit export | head -1', process.execPath, binPath],
      { env: admin.env, encoding: 'utf8' },
    );
    expect(piped.stderr).toBe('');
    expect(piped.status).toBe(0);
    expect(JSON.parse(piped.stdout)).toHaveProperty('seq');
  });
});

describe('backends, migration, keys', () => {
  it('lists the backend types with the JSON Schema of their settings', async () => {
    const types = await admin.json(['backend', 'types']);
    expect(types.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(['sql', 'file', 'memory']));
    const file = types.find((t: { id: string }) => t.id === 'file');
    expect(file).toMatchObject({ source: 'builtin', configSchema: { type: 'object' } });
    expect(await admin.ok(['backend', 'types'])).toMatch(/^file +\S/m);
    const shown = await admin.ok(['backend', 'types', 'file']);
    expect(shown).toContain('settings (JSON Schema):');
    expect(shown).toMatch(/"properties"/);
    expect((await admin.run(['backend', 'types', 'no-such-type'])).code).toBe(3);
  });

  it('lists backends, migrates to another one and waits for it', async () => {
    const backends = await admin.json(['backend', 'list']);
    expect(backends.map((b: { name: string; active: boolean }) => [b.name, b.active])).toEqual([
      ['files', false],
      ['sql', true],
    ]);
    expect(await admin.ok(['backend', 'list'])).toMatch(/^sql +sql +yes +no +\d+ +/m);
    const before = await admin.json(['migrate', 'status']);
    expect(before).toMatchObject({ state: expect.any(String), failures: [] });

    const done = await admin.json(['migrate', 'start', '--target', 'files']);
    expect(done).toMatchObject({ state: 'done', target: 'files', failed: 0 });
    expect(done.done).toBe(done.total);
    const files = (await admin.json(['backend', 'list'])).find((b: { name: string }) => b.name === 'files');
    expect(files.secrets).toBeGreaterThan(0);
    // The values still read back.
    expect((await admin.json(['secret', 'get', 'mail', '--reveal'])).values.password).toBe('new');
    expect(await admin.ok(['migrate', 'status'])).toMatch(/^state: +done$/m);
    // Back to the active backend, without waiting.
    const started = await admin.json(['migrate', 'start', '--no-wait']);
    expect(['running', 'done']).toContain(started.state);
    expect((await admin.json(['migrate', 'status', '--follow'])).state).toBe('done');
    expect((await admin.run(['migrate', 'start', '--target', 'nowhere'])).code).toBe(6);
  });

  it('shows the keyring and rotates the key, waiting for the re-wrap', async () => {
    const status = await admin.json(['keys', 'status']);
    expect(status).toMatchObject({ source: { type: 'file' }, canRotate: true, missingKeyIds: [] });
    expect(status.keys).toHaveLength(1);
    const rotated = await admin.json(['keys', 'rotate']);
    expect(rotated.key.id).not.toBe(status.currentKeyId);
    expect(rotated.status).toMatchObject({ currentKeyId: rotated.key.id, rewrap: { state: 'idle' } });
    expect(await admin.ok(['keys', 'status'])).toMatch(new RegExp(`^${rotated.key.id} \\* +`, 'm'));
    expect((await admin.json(['secret', 'get', 'mail', '--reveal'])).values.password).toBe('new');
  });
});
