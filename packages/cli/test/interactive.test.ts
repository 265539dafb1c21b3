// The CLI on a real pseudo-terminal (util-linux `script`): hidden prompts never echo what is
// typed, questions are asked field by field, confirmations guard delete-all, and progress bars
// show on a terminal only.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, type ServerProcess, tempDir } from '../../server/test/support/server-process.js';
import { adminPassword, Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';
import { hasScript, ptyCoffer } from './support/pty.js';

let cli: Cli;
let server: ServerProcess;

beforeAll(async () => {
  ({ admin: cli, server } = await serverWithAdmin());
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

const terminal = hasScript();
if (!terminal) {
  if (process.env.CI) throw new Error('the pseudo-terminal tests must run in CI, but script(1) is missing');
  console.warn('skipping the pseudo-terminal tests: script(1) from util-linux is not installed');
}

describe.skipIf(!terminal)('on a terminal', () => {
  it('asks for a - value without echoing it', async () => {
    const typed = 'typed-secret-Value-7';
    const session = ptyCoffer(['secret', 'create', 'pty-one', 'user=ada', 'password=-'], cli.env);
    await session.waitFor(/password: $/);
    session.type(`${typed}\r`);
    expect(await session.exited).toBe(0);
    expect(session.screen()).toContain('Created pty-one (generic), version 1.');
    expect(session.screen()).not.toContain(typed);
    expect((await cli.json(['secret', 'get', 'pty-one', '--reveal'])).values).toEqual({
      user: 'ada',
      password: typed,
    });
  });

  it('edits with backspace and aborts on Ctrl-C', async () => {
    const session = ptyCoffer(['secret', 'update', 'pty-one', 'password=-'], cli.env);
    await session.waitFor(/password: $/);
    session.type('abcX\x7fd\r');
    expect(await session.exited).toBe(0);
    expect((await cli.json(['secret', 'get', 'pty-one', '--field', 'password'])) as string).toBe('abcd');

    const aborted = ptyCoffer(['secret', 'update', 'pty-one', 'password=-'], cli.env);
    await aborted.waitFor(/password: $/);
    aborted.type('half\x03');
    expect(await aborted.exited).toBe(1);
    expect(aborted.screen()).toContain('coffer: aborted: interrupted');
    expect((await cli.json(['secret', 'get', 'pty-one'])).secret.currentVersion).toBe(2);
  });

  it('asks for every field of the kind with --interactive: secret fields hidden, others echoed', async () => {
    const session = ptyCoffer(['secret', 'create', 'pty-mail', '--kind', 'smtp', '--interactive'], cli.env);
    const answers: [RegExp, string][] = [
      [/Host: $/, 'smtp.example.com'],
      [/Port \[default 587\]: $/, '465'],
      [/Security \[starttls\|tls\|none, default starttls\]: $/, 'tls'],
      [/Username \[optional\]: $/, 'mailer'],
      [/Password \[optional\]: $/, 'hidden-Mail-pw'],
      [/From address \[optional\]: $/, ''],
    ];
    let from = 0;
    for (const [question, answer] of answers) {
      await session.waitFor(question, from);
      from = session.screen().length;
      session.type(`${answer}\r`);
    }
    expect(await session.exited).toBe(0);
    const screen = session.screen();
    expect(screen).toContain('smtp.example.com');
    expect(screen).toContain('mailer');
    expect(screen).not.toContain('hidden-Mail-pw');
    expect((await cli.json(['secret', 'get', 'pty-mail', '--reveal'])).values).toEqual({
      host: 'smtp.example.com',
      port: 465,
      security: 'tls',
      username: 'mailer',
      password: 'hidden-Mail-pw',
    });
  });

  it('logs in with a username typed and a password hidden', async () => {
    const fresh = new Cli({ COFFER_ADDR: server.url });
    const session = ptyCoffer(['login'], fresh.env);
    await session.waitFor(/Username: $/);
    session.type('admin\r');
    await session.waitFor(/Password: $/);
    session.type(`${adminPassword}\r`);
    expect(await session.exited).toBe(0);
    expect(session.screen()).toContain('admin');
    expect(session.screen()).not.toContain(adminPassword);
    expect(session.screen()).toContain(`Logged in to ${server.url} as admin.`);
    expect((await fresh.json(['whoami'])).user.username).toBe('admin');
  });

  it('asks before delete-all: no keeps everything, yes deletes', async () => {
    const count = (await cli.json(['secret', 'list'])).length;
    const no = ptyCoffer(['secret', 'delete-all'], cli.env);
    await no.waitFor(new RegExp(`Move every secret you manage \\(${count}\\) to the trash\\? .*\\[y/N\\] $`));
    no.type('n\r');
    expect(await no.exited).toBe(1);
    expect(no.screen()).toContain('coffer: aborted: nothing deleted');
    expect(await cli.json(['secret', 'list'])).toHaveLength(count);

    const yes = ptyCoffer(['secret', 'delete-all'], cli.env);
    await yes.waitFor(/\[y\/N\] $/);
    yes.type('y\r');
    expect(await yes.exited).toBe(0);
    expect(yes.screen()).toContain(`Moved ${count} secret(s) to the trash.`);
    expect(await cli.json(['secret', 'list'])).toEqual([]);
  });

  it('draws a progress bar for a big import on a terminal, and none with --json or in CI', async () => {
    const many: Record<string, Record<string, string>> = {};
    for (let i = 0; i < 60; i++) many[`pty-bulk-${i}`] = { token: `t-${i}` };
    const file = join(tempDir(), 'many.json');
    writeFileSync(file, JSON.stringify(many));
    // These tests may themselves run in CI: the terminal here is not CI's.
    const { CI: _, ...notCi } = cli.env;
    const session = ptyCoffer(['import', file], { ...notCi, CI: 'false' });
    expect(await session.exited).toBe(0);
    expect(session.screen()).toMatch(/importing \[[█░]+\] \d+\/60/);
    expect(session.screen()).toContain('Imported from');
    expect(session.screen()).toContain('60 created');

    const quiet = ptyCoffer(['export', '--name-prefix', 'pty-bulk-', '--format', 'json', '--json'], notCi);
    expect(await quiet.exited).toBe(0);
    expect(quiet.screen()).not.toContain('exporting [');
    // In CI (CI set to anything but empty, false or 0) a terminal gets no bar either.
    for (const ci of ['true', '1']) {
      const inCi = ptyCoffer(['export', '--name-prefix', 'pty-bulk-', '--format', 'json'], {
        ...notCi,
        CI: ci,
      });
      expect(await inCi.exited).toBe(0);
      expect(inCi.screen()).toContain('"pty-bulk-0"');
      expect(inCi.screen()).not.toContain('exporting');
      expect(inCi.screen()).not.toContain('\x1b[2K');
    }
    // With standard output redirected to a file there is no bar either.
    const out = join(tempDir(), 'out.json');
    const redirected = ptyCoffer(['export', '--name-prefix', 'pty-bulk-', '--format', 'json'], notCi, {
      stdoutToFile: out,
    });
    expect(await redirected.exited).toBe(0);
    expect(redirected.screen()).toBe('');
  });
});
