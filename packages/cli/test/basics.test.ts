// The command line itself: help with examples, usage errors, exit codes without a server,
// completion scripts run by real bash (and zsh when installed), and `coffer server`.
import { execFileSync, spawnSync } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupServers, tempDir } from '../../server/test/support/server-process.js';
import { adminPassword, Cli, killCliProcesses } from './support/cli-process.js';

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

// Nothing listens here: a port that was free a moment ago.
const nowhere = await new Promise<string>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(`http://127.0.0.1:${port}`));
  });
});
const cli = new Cli({ COFFER_ADDR: nowhere });

describe('help and usage', () => {
  it('prints help with examples for the root, a group and a command', async () => {
    const root = await cli.run(['--help']);
    expect(root.code).toBe(0);
    for (const word of [
      'server',
      'login',
      'secret',
      'share',
      'run',
      'export',
      'import',
      'completion',
      'Exit codes',
    ]) {
      expect(root.stdout).toContain(word);
    }
    const get = await cli.run(['secret', 'get', '--help']);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('Usage: coffer secret get [options] <name>');
    expect(get.stdout).toContain('--reveal');
    expect(get.stdout).toMatch(/Examples:\n {2}coffer secret get mail/);
    // Every command has examples.
    for (const args of [
      ['login'],
      ['secret', 'create'],
      ['secret', 'delete-all'],
      ['share'],
      ['run'],
      ['export'],
      ['import'],
      ['audit', 'export'],
      ['migrate', 'start'],
      ['keys', 'rotate'],
      ['user', 'create'],
      ['group', 'add-member'],
      ['token', 'create'],
      ['kind', 'show'],
      ['backend', 'list'],
      ['completion'],
      ['server'],
    ]) {
      const help = await cli.run([...args, '--help']);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toContain('Examples:');
    }
  });

  it('prints the version', async () => {
    const result = await cli.run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reports usage errors in one line with the usage, exit code 2', async () => {
    const missing = await cli.run(['secret', 'get']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      "coffer: usage: missing required argument 'name'\nusage: coffer secret get [options] <name>\nRun 'coffer secret get --help' for details and examples.\n",
    );
    expect(missing.stdout).toBe('');

    const typo = await cli.run(['secret', 'gte', 'mail']);
    expect(typo.code).toBe(2);
    expect(typo.stderr.split('\n')[0]).toBe("coffer: usage: unknown command 'gte' (Did you mean get?)");

    const badOption = await cli.run(['secret', 'list', '--colour']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr.split('\n')[0]).toBe("coffer: usage: unknown option '--colour'");

    const badNumber = await cli.run(['secret', 'list', '--limit', 'ten']);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('expected a positive whole number');

    const badChoice = await cli.run(['share', 'mail', '--user', 'ada', '--level', 'admin']);
    expect(badChoice.code).toBe(2);
    expect(badChoice.stderr).toContain('Allowed choices are use, read, write, manage');

    const badValue = await cli.run(['secret', 'create', 'x', 'novalue']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toBe('coffer: usage: expected field=value, got "novalue"\n');

    // A group without its subcommand shows its help on standard error.
    const group = await cli.run(['secret']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('Usage: coffer secret [options] [command]');
  });

  it('exits 7 with one line naming the cause when the server cannot be reached', async () => {
    const result = await cli.with({ COFFER_TOKEN: 'cfr_not-a-real-token' }).run(['secret', 'list']);
    expect(result.code).toBe(7);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^coffer: network: .*ECONNREFUSED/);
    expect(lines[0]).toContain(nowhere.replace('http://', ''));
  });

  it('ends quietly, exit code 0, when its standard output is a closed pipe', async () => {
    for (const args of [['completion', 'bash'], ['--help'], ['secret', 'create', '--help']]) {
      const started = cli.spawn(args);
      started.child.stdout!.destroy();
      const result = await started.done;
      expect(result.stderr, args.join(' ')).toBe('');
      expect(result.code, args.join(' ')).toBe(0);
    }
  });

  it('exits 4 for whoami when not logged in, without asking the server', async () => {
    const result = await cli.run(['whoami']);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(`coffer: not_logged_in: not logged in to ${nowhere}; run coffer login\n`);
  });
});

describe('shell completion', () => {
  const complete = (line: string[]) => {
    const script = [
      'source <(coffer completion bash)',
      `COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${line.length - 1}`,
      '_coffer',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const bin = tempDir('coffer-cli-bin-');
    execFileSync('sh', [
      '-c',
      `printf '#!/bin/sh\\nexec "%s" "%s" "$@"\\n' "${process.execPath}" "${cliBin()}" > ${bin}/coffer && chmod +x ${bin}/coffer`,
    ]);
    const result = spawnSync('bash', ['-c', script], {
      env: { ...cli.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout.trim().split('\n').filter(Boolean);
  };

  it('prints a bash script that completes commands, subcommands and options', async () => {
    const script = await cli.ok(['completion', 'bash']);
    expect(script).toContain('complete -o default -F _coffer coffer');
    expect(complete(['coffer', 'sec'])).toEqual(['secret']);
    expect(complete(['coffer', 'secret', 'de'])).toEqual(['delete', 'delete-all']);
    expect(complete(['coffer', 'secret', 'get', '--re'])).toEqual(['--reveal']);
    expect(complete(['coffer', 'migrate', ''])).toEqual(expect.arrayContaining(['status', 'start']));
    expect(complete(['coffer', 'run', '--en'])).toEqual(['--env', '--env-file']);
    // Aliases lead where the names they stand for do.
    expect(complete(['coffer', 'secret', 'ls', '--k'])).toEqual(['--kind']);
    expect(complete(['coffer', 'secret', 'rm', '--'])).toEqual(
      complete(['coffer', 'secret', 'delete', '--']),
    );
    expect(complete(['coffer', 'group', 'rm', '--j'])).toEqual(['--json']);
    expect(complete(['coffer', 'user', 'ls', '--inc'])).toEqual(['--include-disabled']);
  });

  it('prints a zsh script that zsh loads and that completes', async () => {
    const script = await cli.ok(['completion', 'zsh']);
    expect(script.startsWith('#compdef coffer\n')).toBe(true);
    const zsh = spawnSync('zsh', ['--version']);
    if (zsh.error !== undefined) {
      if (process.env.CI) throw new Error('zsh must be installed in CI (.ci/run installs it)');
      console.log('zsh is not installed: its completion script is checked by content only');
      return;
    }
    // Outside a completion widget `words` and `CURRENT` are plain variables: stand in for
    // _describe and compadd and call the function the way zsh would.
    const driver = [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
      '_describe() { shift 3; print -l -- ${(P)1} }',
      'compadd() { shift; print -l -- "$@" }',
      'compdef() {}',
      `source <(${JSON.stringify(process.execPath)} ${JSON.stringify(cliBin())} completion zsh)`,
      'words=(coffer secret de); CURRENT=3; PREFIX=de; _coffer',
    ].join('\n');
    const result = spawnSync('zsh', ['-f', '-c', driver], { env: cli.env, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('delete:move a secret to the trash');
    expect(result.stdout).toContain('delete-all:move every secret you manage to the trash');
    // Aliases lead where the names they stand for do.
    const alias = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        driver.replace(/\nwords=.*$/, '\nwords=(coffer secret ls --k); CURRENT=4; PREFIX=--k; _coffer'),
      ],
      { env: cli.env, encoding: 'utf8' },
    );
    expect(alias.status, alias.stderr).toBe(0);
    expect(alias.stdout).toContain('--kind:only this kind');
  });
});

describe('coffer server', () => {
  it('starts the same server as npm start, and stops on SIGTERM with code 0', async () => {
    const dataDir = tempDir('coffer-cli-server-');
    const server = cli.spawn(['server'], {
      env: {
        COFFER_PORT: '0',
        COFFER_DATA_DIR: dataDir,
        COFFER_ADMIN_PASSWORD: adminPassword,
        COFFER_LOG_LEVEL: 'warn',
      },
    });
    const [, url] = await server.waitFor(/Coffer is running at (\S+)/, 'stdout', 20_000);
    expect(server.stdout()).toContain('First start: an admin account was created.');
    // COFFER_ADDR is the CLI's variable: the server does not warn about it.
    expect(server.stderr()).toBe('');
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const logged = await new Cli({ COFFER_ADDR: url }).run(['login', '-u', 'admin', '--password-stdin'], {
      input: adminPassword,
    });
    expect(logged.code, logged.stderr).toBe(0);
    server.child.kill('SIGTERM');
    const result = await server.done;
    expect(result.code).toBe(0);
  });

  it('fails like npm start on a bad configuration', async () => {
    const result = await cli.run(['server'], { env: { COFFER_PORT: '80a', COFFER_DATA_DIR: tempDir() } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('COFFER_PORT: must be a whole number');
  });
});

function cliBin(): string {
  return new URL('../dist/bin.js', import.meta.url).pathname;
}
