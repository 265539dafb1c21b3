// coffer run: resolved values in the child's environment, the child's exit code and signals
// passed through, and --watch restarting the child when a referenced secret changes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, tempDir } from '../../server/test/support/server-process.js';
import { type Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

let cli: Cli;
const node = process.execPath;
/** A child that prints chosen variables as JSON. */
const printEnv = (...names: string[]) => [
  node,
  '-e',
  `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.env[n] ?? null]))))`,
];

beforeAll(async () => {
  ({ admin: cli } = await serverWithAdmin());
  await cli.ok(
    ['secret', 'create', 'mail', '--kind', 'smtp', 'host=smtp.example.com', 'username=app', 'password=-'],
    {
      input: 'p@ss "w0rd" $HOME\n',
    },
  );
  await cli.ok(['secret', 'create', 'db', 'password=db-pw', 'url=postgres://x']);
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('environment', () => {
  it('sets --env references (bare and templates), --secret fields and --env-file templates', async () => {
    const dir = tempDir();
    const template = join(dir, '.env.tpl');
    writeFileSync(
      template,
      'FROM_FILE="{{ db.password }}"\nLITERAL=plain value\nESCAPED=\\{{ not.a.ref }}\n',
    );
    const result = await cli.run([
      'run',
      '--env',
      'SMTP_PASSWORD=mail.password',
      '--env',
      'SMTP_URL=smtp://{{ mail.username }}@{{ mail.host }}:{{ mail.port }}',
      '--env-file',
      template,
      '--secret',
      'db',
      '--',
      ...printEnv(
        'SMTP_PASSWORD',
        'SMTP_URL',
        'FROM_FILE',
        'LITERAL',
        'ESCAPED',
        'DB_PASSWORD',
        'DB_URL',
        'HOME',
      ),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      SMTP_PASSWORD: 'p@ss "w0rd" $HOME',
      SMTP_URL: 'smtp://app@smtp.example.com:587',
      FROM_FILE: 'db-pw',
      LITERAL: 'plain value',
      ESCAPED: '{{ not.a.ref }}',
      DB_PASSWORD: 'db-pw',
      DB_URL: 'postgres://x',
      // The rest of the environment passes through.
      HOME: process.env.HOME ?? null,
    });
  });

  it('names variables after the fields alone with --no-prefix; later sources win', async () => {
    const result = await cli.run([
      'run',
      '--secret',
      'db',
      '--no-prefix',
      '--env',
      'url=mail.host',
      '--',
      ...printEnv('password', 'url'),
    ]);
    expect(JSON.parse(result.stdout)).toEqual({ password: 'db-pw', url: 'smtp.example.com' });
  });

  it('refuses to start the command when a reference fails, naming it', async () => {
    const missingField = await cli.run([
      'run',
      '--env',
      'X=mail.nope',
      '--',
      node,
      '-e',
      'console.log("started")',
    ]);
    expect(missingField.code).toBe(3);
    expect(missingField.stdout).toBe('');
    expect(missingField.stderr).toMatch(
      /^coffer: field_not_found: cannot resolve \{\{ mail\.nope \}\}: .+\n$/,
    );
    const missingSecret = await cli.run(['run', '--env', 'X=nope.x', '--', 'true']);
    expect(missingSecret.code).toBe(3);
    expect(missingSecret.stderr).toMatch(/^coffer: not_found: /);
    const bad = await cli.run(['run', '--env', 'X={{ nodot }}', '--', 'true']);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/^coffer: invalid_reference: /);
  });

  it('needs no server and no login when nothing is referenced', async () => {
    const offline = cli.with({
      COFFER_ADDR: 'http://127.0.0.1:1',
      COFFER_TOKEN: undefined,
      XDG_CONFIG_HOME: tempDir(),
    });
    const result = await offline.run(['run', '--', node, '-e', 'process.stdout.write("ran")']);
    expect(result).toMatchObject({ code: 0, stdout: 'ran', stderr: '' });
  });
});

describe('exit codes and signals', () => {
  it("passes the command's exit code through", async () => {
    for (const code of [0, 1, 3, 42, 255]) {
      expect((await cli.run(['run', '--', node, '-e', `process.exit(${code})`])).code).toBe(code);
    }
    // Options after the command belong to the command.
    const passed = await cli.run([
      'run',
      node,
      '-e',
      'process.stdout.write(process.argv.slice(1).join(" "))',
      '--',
      '--json',
      '-x',
    ]);
    expect(passed).toMatchObject({ code: 0, stdout: '--json -x' });
  });

  it('reports a command that is not found (127) or not executable (126) like a shell', async () => {
    const missing = await cli.run(['run', '--', 'no-such-command-coffer-test']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe(
      'coffer: command_not_found: no-such-command-coffer-test: command not found\n',
    );
    const file = join(tempDir(), 'not-executable');
    writeFileSync(file, 'echo hi\n', { mode: 0o644 });
    const notExecutable = await cli.run(['run', '--', file]);
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.stderr).toMatch(/^coffer: cannot_execute: /);
    expect((await cli.run(['run'])).code).toBe(2);
  });

  it('reports a child killed by a signal as 128 + its number', async () => {
    const killed = await cli.run(['run', '--', node, '-e', 'process.kill(process.pid, "SIGKILL")']);
    expect(killed.code).toBe(137);
    const terminated = await cli.run(['run', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(terminated.code).toBe(143);
  });

  it('passes SIGTERM (and SIGHUP, SIGINT) on to the child and exits with its code', async () => {
    const handler = `
      for (const s of ['SIGTERM', 'SIGHUP', 'SIGINT']) process.on(s, () => { process.stdout.write('got ' + s); process.exit(7); });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
      const running = cli.spawn(['run', '--env', 'P=mail.password', '--', node, '-e', handler]);
      await running.waitFor(/ready/);
      running.child.kill(signal);
      const result = await running.done;
      expect(result.stdout).toBe(`ready\ngot ${signal}`);
      expect(result.code).toBe(7);
    }
    // A child without a handler dies of the signal; coffer reports it as a shell would.
    const plain = cli.spawn([
      'run',
      '--',
      node,
      '-e',
      'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)',
    ]);
    await plain.waitFor(/ready/);
    plain.child.kill('SIGTERM');
    expect((await plain.done).code).toBe(143);
  });
});

describe('--watch', () => {
  it('restarts the command with new values when a referenced secret changes', async () => {
    await cli.ok(['secret', 'create', 'watched', 'token=v1']);
    // The handler goes in before the line the test waits for: a SIGTERM sent once the line is
    // seen must find it (CI once caught the child between the two, and it died of the signal).
    const child = `process.on('SIGTERM', () => { process.stdout.write('stopping\\n'); process.exit(0); }); process.stdout.write('token=' + process.env.TOKEN + '\\n'); setInterval(() => {}, 1000);`;
    const running = cli.spawn(
      ['run', '--watch', '--interval', '200', '--env', 'TOKEN=watched.token', '--', node, '-e', child],
      {
        timeoutMs: 60_000,
      },
    );
    await running.waitFor(/token=v1\n/);
    await cli.ok(['secret', 'update', 'watched', 'token=v2']);
    await running.waitFor(/token=v1\nstopping\ntoken=v2\n/);
    expect(running.stderr()).toContain('coffer: watched changed (version 2); restarting');
    // A change that no longer resolves keeps the running child.
    await cli.ok(['secret', 'update', 'watched', '--remove-key', 'token', 'other=x']);
    await running.waitFor(/cannot be resolved, so the command keeps running/, 'stderr');
    expect(running.stdout()).not.toContain('token=undefined');
    await cli.ok(['secret', 'update', 'watched', 'token=v4']);
    await running.waitFor(/token=v4\n/);
    // A signal to coffer ends the child and coffer with the child's exit code: no restart.
    running.child.kill('SIGTERM');
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout.match(/token=/g)).toHaveLength(3);
  });

  it('ends with the exit code of a child that ends by itself', async () => {
    const result = await cli.run([
      'run',
      '--watch',
      '--env',
      'T=db.password',
      '--',
      node,
      '-e',
      'process.exit(5)',
    ]);
    expect(result.code).toBe(5);
  });
});
