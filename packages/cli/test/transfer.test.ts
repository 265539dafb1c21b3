// coffer export and coffer import: awkward values (quotes, $, backticks, line breaks, unicode,
// =, #, surrounding blanks, backslashes) round-trip through dotenv (read back by the real
// dotenv package), JSON and YAML; big imports; files written with mode 0600.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cleanupServers, tempDir } from '../../server/test/support/server-process.js';
import { type Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

let cli: Cli;

/** Values that break naive quoting somewhere. */
const awkward: Record<string, string> = {
  single: "it's",
  double: 'say "hi"',
  both: `it's "both"`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
  dollar: '$HOME ${PATH} $(whoami) $1',
  backtick: 'run `id` now',
  quotesAndDollar: `'$x' "\${y}"`,
  newline: 'line one\nline two\n',
  crlf: 'windows\r\nline',
  lonecr: 'a\rb',
  multilineQuotes: `first 'line'\nsecond "line"\n`,
  unicode: 'Grüße 日本語 🔑 \u00a0nbsp',
  separators: 'a\u2028b\u2029c',
  equals: 'a=b==c=',
  hash: 'value # not a comment',
  hashStart: '#starts with hash',
  spaces: '  leading and trailing  ',
  tab: 'tab\there',
  backslashN: 'C:\\new\\table',
  backslashEnd: 'ends with \\',
  backslashQuote: "\\'",
  empty: '',
  braces: '{{ not.a.reference }}',
  json: '{"a": [1, 2], "b": null}',
  longish: 'x'.repeat(5000),
};

beforeAll(async () => {
  ({ admin: cli } = await serverWithAdmin());
  const dir = tempDir();
  writeFileSync(join(dir, 'awkward.json'), JSON.stringify(awkward));
  await cli.ok(['secret', 'create', 'awkward', '--from-file', join(dir, 'awkward.json')]);
  await cli.ok([
    'secret',
    'create',
    'mail',
    '--kind',
    'smtp',
    'host=smtp.example.com',
    'password=pw',
    '--label',
    'env=prod',
  ]);
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('export', () => {
  it('writes dotenv that the real dotenv parser reads back exactly', async () => {
    const result = await cli.run(['export', 'awkward', '--no-prefix']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseDotenv(result.stdout)).toEqual(awkward);
    // Prefixed names by default; simple values stay unquoted, others are single-quoted first.
    const prefixed = await cli.ok(['export', 'awkward', 'mail']);
    const parsed = parseDotenv(prefixed);
    expect(parsed.AWKWARD_DOLLAR).toBe(awkward.dollar);
    expect(parsed.MAIL_HOST).toBe('smtp.example.com');
    expect(parsed.MAIL_PORT).toBe('587');
    expect(prefixed).toContain('MAIL_HOST=smtp.example.com\n');
    expect(prefixed).toContain(`AWKWARD_DOLLAR='${awkward.dollar}'\n`);
  });

  it('refuses a value that dotenv cannot hold, and suggests JSON or YAML', async () => {
    await cli.ok(['secret', 'create', 'impossible', `v:=${JSON.stringify('\'"`\n')}`]);
    const result = await cli.run(['export', 'impossible']);
    expect(result.code).toBe(6);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'coffer: format: the value of IMPOSSIBLE_V cannot be written as dotenv (it holds a single quote, a double quote and a backtick, which rule out every kind of dotenv quote, and it holds a line break, which a bare value cannot); use --format json or yaml\n',
    );
    expect(JSON.parse(await cli.ok(['export', 'impossible', '--format', 'json'])).impossible.values.v).toBe(
      '\'"`\n',
    );
    await cli.ok(['secret', 'purge', 'impossible', '--yes']);
    // No quote at all, yet no dotenv form: the reason says what it is.
    await cli.ok(['secret', 'create', 'impossible', `v:=${JSON.stringify(' x\\')}`]);
    const blankBackslash = await cli.run(['export', 'impossible']);
    expect(blankBackslash.code).toBe(6);
    expect(blankBackslash.stderr).toBe(
      'coffer: format: the value of IMPOSSIBLE_V cannot be written as dotenv (it ends in a backslash, which dotenv reads as escaping a closing quote, and it starts or ends with a blank, which dotenv drops from a bare value); use --format json or yaml\n',
    );
    await cli.ok(['secret', 'purge', 'impossible', '--yes']);
  });

  it('writes JSON and YAML documents with kinds, labels and typed values', async () => {
    const json = JSON.parse(await cli.ok(['export', 'mail', 'awkward', '--format', 'json']));
    expect(json.mail).toEqual({
      kind: 'smtp',
      labels: { env: 'prod' },
      values: { host: 'smtp.example.com', port: 587, security: 'starttls', password: 'pw' },
    });
    expect(json.awkward).toEqual({ kind: 'generic', values: awkward });
    const yaml = parseYaml(await cli.ok(['export', 'mail', 'awkward', '--format', 'yaml']));
    expect(yaml).toEqual(json);
    expect(JSON.parse(await cli.ok(['export', 'mail', '--format', 'json', '--values-only']))).toEqual({
      mail: { host: 'smtp.example.com', port: 587, security: 'starttls', password: 'pw' },
    });
    expect(parseYaml(await cli.ok(['export', 'mail', '--format', 'yaml', '--flat']))).toEqual({
      MAIL_HOST: 'smtp.example.com',
      MAIL_PORT: 587,
      MAIL_SECURITY: 'starttls',
      MAIL_PASSWORD: 'pw',
    });
  });

  it('selects by filter, writes files with mode 0600, and says what it needs', async () => {
    const dir = tempDir();
    const file = join(dir, 'prod.yaml');
    const result = await cli.json(['export', '--label', 'env=prod', '-o', file]);
    expect(result).toEqual({ file, format: 'yaml', secrets: ['mail'] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(parseYaml(readFileSync(file, 'utf8')))).toEqual(['mail']);
    expect(Object.keys(JSON.parse(await cli.ok(['export', '--all', '--format', 'json']))).sort()).toEqual([
      'awkward',
      'mail',
    ]);
    const nothing = await cli.run(['export']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('name the secrets to export, or pass --all');
    expect((await cli.run(['export', 'nope'])).code).toBe(3);
    // Two fields that become one variable name.
    await cli.ok(['secret', 'create', 'clash', 'a-b=1', 'a_b=2']);
    const clash = await cli.run(['export', 'clash']);
    expect(clash.code).toBe(6);
    expect(clash.stderr).toMatch(/both become CLASH_A_B/);
  });
});

describe('import', () => {
  it('round-trips awkward values through dotenv', async () => {
    const dir = tempDir();
    const file = join(dir, '.env');
    writeFileSync(file, await cli.ok(['export', 'awkward', '--no-prefix']));
    const result = await cli.json(['import', file, '--name', 'awkward-from-dotenv']);
    expect(result).toEqual({ created: ['awkward-from-dotenv'], updated: [], skipped: [], failed: [] });
    expect((await cli.json(['secret', 'get', 'awkward-from-dotenv', '--reveal'])).values).toEqual(awkward);
    const noName = await cli.run(['import', file]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('--name');
  });

  for (const format of ['json', 'yaml'] as const) {
    it(`round-trips secrets through ${format}, kinds, labels and types included`, async () => {
      const dir = tempDir();
      const file = join(dir, `backup.${format}`);
      await cli.ok(['export', 'mail', 'awkward', '-o', file]);
      await cli.ok(['secret', 'rename', 'mail', `mail-before-${format}`]);
      await cli.ok(['secret', 'rename', 'awkward', `awkward-before-${format}`]);
      const result = await cli.json(['import', file]);
      expect(result.created.sort()).toEqual(['awkward', 'mail']);
      const mail = await cli.json(['secret', 'get', 'mail', '--reveal']);
      expect(mail.secret).toMatchObject({ kind: 'smtp', labels: { env: 'prod' } });
      expect(mail.values).toEqual({
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        password: 'pw',
      });
      expect((await cli.json(['secret', 'get', 'awkward', '--reveal'])).values).toEqual(awkward);
      await cli.ok(['secret', 'purge', `mail-before-${format}`, '--yes']);
      await cli.ok(['secret', 'purge', `awkward-before-${format}`, '--yes']);
    });
  }

  it('fails, skips or updates existing secrets, and reports failures per secret', async () => {
    const file = join(tempDir(), 'values.json');
    writeFileSync(
      file,
      JSON.stringify({ mail: { kind: 'smtp', values: { host: 'new.example.com' } }, fresh: { a: '1' } }),
    );
    const failing = await cli.run(['import', file, '--json']);
    expect(failing.code).toBe(5);
    expect(JSON.parse(failing.stdout)).toMatchObject({
      created: ['fresh'],
      failed: [{ name: 'mail', code: 'already_exists' }],
    });
    expect(failing.stderr).toMatch(/^coffer: already_exists: mail: .+\n$/);
    expect((await cli.json(['import', file, '--on-existing', 'skip'])).skipped.sort()).toEqual([
      'fresh',
      'mail',
    ]);
    expect(await cli.json(['import', file, '--on-existing', 'update'])).toMatchObject({
      updated: expect.arrayContaining(['mail', 'fresh']),
    });
    expect((await cli.json(['secret', 'get', 'mail'])).values.host).toBe('new.example.com');

    const invalid = join(tempDir(), 'invalid.yaml');
    writeFileSync(invalid, 'one:\n  kind: smtp\n  values:\n    host: [1, 2]\n  colour: red\n');
    const bad = await cli.run(['import', invalid]);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toBe(
      'coffer: format: the file has 2 problem(s)\n  one.values.host: must be a string, number or boolean\n  one.colour: unknown key (expected kind, description, labels, values)\n',
    );
    const broken = join(tempDir(), 'broken.json');
    writeFileSync(broken, '{"a": ');
    const syntax = await cli.run(['import', broken]);
    expect(syntax.code).toBe(6);
    expect(syntax.stderr).toMatch(/^coffer: format: .*broken\.json is not valid json: /);
    expect((await cli.run(['import', join(tempDir(), 'missing.json')])).code).toBe(1);
    // A kind that does not exist is not found (3), as with coffer secret create.
    const kindless = join(tempDir(), 'kindless.json');
    writeFileSync(kindless, JSON.stringify({ 'no-such-kind': { a: '1' } }));
    const noKind = await cli.run(['import', kindless, '--kind', 'nokind', '--json']);
    expect(noKind.code).toBe(3);
    expect(JSON.parse(noKind.stdout).failed).toEqual([
      { name: 'no-such-kind', code: 'not_found', message: expect.stringMatching(/^unknown kind "nokind"/) },
    ]);
    // Nothing is written on a dry run.
    const dry = await cli.json(['import', file, '--dry-run']);
    expect(dry).toEqual([
      { name: 'mail', kind: 'smtp', fields: ['host'] },
      { name: 'fresh', kind: 'generic', fields: ['a'] },
    ]);
  });

  it('imports many secrets from standard input, quietly when not on a terminal', async () => {
    const many: Record<string, Record<string, string>> = {};
    for (let i = 0; i < 150; i++)
      many[`bulk-${String(i).padStart(3, '0')}`] = { token: `t-${i}`, note: `n=${i}` };
    const result = await cli.run(['import', '-', '--format', 'json'], { input: JSON.stringify(many) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'Imported from standard input: 150 created, 0 updated, 0 skipped, 0 failed.\n',
    );
    expect(result.stderr).toBe('');
    const listed = await cli.json(['secret', 'list', '--prefix', 'bulk-']);
    expect(listed).toHaveLength(150);
    const exported = JSON.parse(
      await cli.ok(['export', '--name-prefix', 'bulk-', '--format', 'json', '--values-only']),
    );
    expect(exported).toEqual(many);
  });
});
