// coffer secret ...: every subcommand against a real server, with exit codes, --json shapes,
// and every way values come in (arguments, typed values, files, standard input).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers, tempDir } from '../../server/test/support/server-process.js';
import { type Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

const mask = '••••••••';
let cli: Cli;

beforeAll(async () => {
  ({ admin: cli } = await serverWithAdmin());
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('create and get', () => {
  it('creates from field=value arguments; the server types them by the kind', async () => {
    const out = await cli.ok([
      'secret',
      'create',
      'mail',
      '--kind',
      'smtp',
      'host=smtp.example.com',
      'port=587',
      'password=pw-1',
    ]);
    expect(out).toBe('Created mail (smtp), version 1.\n');
    const got = await cli.json(['secret', 'get', 'mail']);
    expect(got).toMatchObject({
      secret: { name: 'mail', kind: 'smtp', currentVersion: 1, labels: {}, deletedAt: null },
      version: 1,
      values: { host: 'smtp.example.com', port: 587, security: 'starttls', password: mask },
      revealed: false,
      maskedFields: ['password'],
    });
    const human = await cli.ok(['secret', 'get', 'mail']);
    expect(human).toMatch(/^name: +mail$/m);
    expect(human).toMatch(/^password +••••••••$/m);
    expect(human).not.toContain('pw-1');
    const revealed = await cli.json(['secret', 'get', 'mail', '--reveal']);
    expect(revealed.values.password).toBe('pw-1');
    expect(revealed.revealed).toBe(true);
  });

  it('prints one raw value with --field, exactly, for scripts', async () => {
    const value = 'line one\nline "two" $HOME\n';
    writeFileSync(join(tempDir(), 'x'), '');
    await cli.ok(['secret', 'create', 'raw', 'text=-'], { input: `${value}\n` });
    const result = await cli.run(['secret', 'get', 'raw', '--field', 'text']);
    expect(result.code).toBe(0);
    // Standard input lost only its last line break; standard output is not a terminal, so
    // nothing is added.
    expect(result.stdout).toBe(value);
    expect((await cli.json(['secret', 'get', 'raw', '--field', 'text'])) as string).toBe(value);
    const missing = await cli.run(['secret', 'get', 'raw', '--field', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('coffer: not_found: raw has no field "nope" (fields: text)\n');
  });

  it('takes typed values (:=), files (@path), a values file and labels', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'id_ed25519');
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n';
    writeFileSync(keyFile, key);
    await cli.ok([
      'secret',
      'create',
      'typed',
      'count:=42',
      'enabled:=true',
      'zip:="0042"',
      `key=@${keyFile}`,
      '--label',
      'env=prod',
      '--label',
      'team=mail',
      '--description',
      'for the tests',
    ]);
    const typed = await cli.json(['secret', 'get', 'typed', '--reveal']);
    expect(typed.values).toEqual({ count: 42, enabled: true, zip: '0042', key });
    expect(typed.secret).toMatchObject({
      labels: { env: 'prod', team: 'mail' },
      description: 'for the tests',
    });

    const yamlFile = join(dir, 'values.yaml');
    writeFileSync(
      yamlFile,
      'host: db.internal\nport: 5432\ndatabase: app\nusername: app\npassword: "p: w"\n',
    );
    await cli.ok([
      'secret',
      'create',
      'db',
      '--kind',
      'database',
      '--from-file',
      yamlFile,
      'username=override',
    ]);
    expect((await cli.json(['secret', 'get', 'db', '--reveal'])).values).toMatchObject({
      host: 'db.internal',
      port: 5432,
      username: 'override',
      password: 'p: w',
    });
    await cli.ok(['secret', 'create', 'from-json', '--from-file', '-'], { input: '{"a": "1", "b": 2}' });
    expect((await cli.json(['secret', 'get', 'from-json', '--reveal'])).values).toEqual({ a: '1', b: 2 });
    await cli.ok(['secret', 'create', 'from-env', '--from-file', '-'], { input: 'A=one\nB="two words"\n' });
    expect((await cli.json(['secret', 'get', 'from-env', '--reveal'])).values).toEqual({
      A: 'one',
      B: 'two words',
    });
  });

  it('fails with the server code and one line per field: validation 6, exists 5, not found 3 (unknown kinds too)', async () => {
    const invalid = await cli.run(['secret', 'create', 'bad', '--kind', 'smtp', 'port=70000', 'colour=blue']);
    expect(invalid.code).toBe(6);
    // One line: the server's message already names every field (issues it does not name get
    // a line of their own).
    expect(invalid.stderr).toMatch(/^coffer: validation: [^\n]+\n$/);
    expect(invalid.stderr).toContain('values.port: ');
    expect(invalid.stderr).toContain('values.colour: ');
    const exists = await cli.run(['secret', 'create', 'mail', 'a=b']);
    expect(exists.code).toBe(5);
    expect(exists.stderr).toMatch(/^coffer: already_exists: .+\n$/);
    const notFound = await cli.run(['secret', 'get', 'nope']);
    expect(notFound.code).toBe(3);
    expect(notFound.stderr).toMatch(/^coffer: not_found: .+\n$/);
    // A kind that does not exist is not found, as for every other name (and as --interactive,
    // which reads the kind first, always said).
    const unknownKind = await cli.run(['secret', 'create', 'k', '--kind', 'nope', 'a=b']);
    expect(unknownKind.code).toBe(3);
    expect(unknownKind.stderr).toMatch(/^coffer: not_found: unknown kind "nope"; known kinds: .+\n$/);
    expect((await cli.run(['kind', 'show', 'nope'])).code).toBe(3);
  });
});

describe('list', () => {
  it('lists with filters, as a table and as JSON', async () => {
    const all = await cli.json(['secret', 'list']);
    expect(Array.isArray(all)).toBe(true);
    expect(all.map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining(['mail', 'raw', 'typed', 'db']),
    );
    expect(all[0]).toHaveProperty('currentVersion');
    expect(
      (await cli.json(['secret', 'list', '--kind', 'smtp'])).map((s: { name: string }) => s.name),
    ).toEqual(['mail']);
    expect(
      (await cli.json(['secret', 'list', '--label', 'env=prod'])).map((s: { name: string }) => s.name),
    ).toEqual(['typed']);
    expect(
      (await cli.json(['secret', 'list', '--prefix', 'from-'])).map((s: { name: string }) => s.name).sort(),
    ).toEqual(['from-env', 'from-json']);
    expect(await cli.json(['secret', 'list', '--limit', '2'])).toHaveLength(2);
    const table = await cli.ok(['secret', 'list', '--kind', 'smtp']);
    expect(table.split('\n')[0]).toMatch(/^NAME +KIND +VERSION +LABELS +ACCESS +UPDATED$/);
    expect(table).toMatch(/^mail +smtp +1 +- +manage +\S+$/m);
    expect(await cli.ok(['secret', 'list', '--kind', 'jira'])).toBe('No secrets.\n');
    // What the completion scripts ask for: names one per line, kinds after --kind.
    expect((await cli.ok(['__complete', 'secrets'])).split('\n')).toEqual(
      expect.arrayContaining(['mail', 'raw', 'db']),
    );
    expect((await cli.ok(['__complete', 'kinds'])).split('\n')).toEqual(
      expect.arrayContaining(['generic', 'smtp']),
    );
  });
});

describe('update, history, rollback, rename', () => {
  it('updates values into a new version, removes keys, changes labels; history and rollback follow', async () => {
    await cli.ok(['secret', 'create', 'api', 'token=t1', 'legacy=old']);
    const updated = await cli.json(['secret', 'update', 'api', 'token=t2', '--remove-key', 'legacy']);
    expect(updated).toMatchObject({ name: 'api', currentVersion: 2 });
    expect((await cli.json(['secret', 'get', 'api', '--reveal'])).values).toEqual({ token: 't2' });

    expect(await cli.ok(['secret', 'update', 'api', '--label', 'env=dev', '--description', 'the API'])).toBe(
      'Updated api: version 2.\n',
    );
    await cli.ok(['secret', 'update', 'api', '--label', 'tier=1', '--remove-label', 'env']);
    expect((await cli.json(['secret', 'get', 'api'])).secret).toMatchObject({
      labels: { tier: '1' },
      description: 'the API',
    });

    const history = await cli.json(['secret', 'history', 'api']);
    expect(history.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(history[0]).toMatchObject({ current: true, changedFields: ['legacy', 'token'] });
    expect(await cli.ok(['secret', 'history', 'api'])).toMatch(/^2 \* +/m);

    expect((await cli.json(['secret', 'get', 'api', '--version', '1', '--reveal'])).values).toEqual({
      token: 't1',
      legacy: 'old',
    });
    const rolled = await cli.json(['secret', 'rollback', 'api', '1']);
    expect(rolled.currentVersion).toBe(3);
    expect((await cli.json(['secret', 'get', 'api', '--reveal'])).values).toEqual({
      token: 't1',
      legacy: 'old',
    });
    expect((await cli.run(['secret', 'rollback', 'api', 'one'])).code).toBe(2);
  });

  it('refuses a write whose --if-version is stale: version_conflict, exit code 5', async () => {
    const stale = await cli.run(['secret', 'update', 'api', 'token=t4', '--if-version', '1']);
    expect(stale.code).toBe(5);
    expect(stale.stderr).toMatch(/^coffer: version_conflict: /);
    expect(
      (await cli.json(['secret', 'update', 'api', 'token=t4', '--if-version', '3'])).currentVersion,
    ).toBe(4);
    expect((await cli.run(['secret', 'update', 'api'])).code).toBe(2);
  });

  it('renames, keeping the id', async () => {
    const before = await cli.json(['secret', 'get', 'api']);
    expect(await cli.ok(['secret', 'rename', 'api', 'api-prod'])).toBe('Renamed api to api-prod.\n');
    expect((await cli.json(['secret', 'get', 'api-prod'])).secret.id).toBe(before.secret.id);
    expect((await cli.run(['secret', 'get', 'api'])).code).toBe(3);
  });
});

describe('delete, restore, purge, delete-all', () => {
  it('moves to the trash, restores, and purges only with confirmation', async () => {
    await cli.ok(['secret', 'create', 'trash-me', 'a=b']);
    const deleted = await cli.json(['secret', 'delete', 'trash-me']);
    expect(deleted.deletedAt).not.toBeNull();
    expect(deleted.purgeAfter).not.toBeNull();
    const trash = await cli.json(['secret', 'list', '--deleted']);
    expect(trash.map((s: { id: string }) => s.id)).toContain(deleted.id);
    expect(await cli.ok(['secret', 'list', '--deleted'])).toMatch(/^ID +NAME +KIND +DELETED +PURGE AFTER$/m);
    expect((await cli.json(['secret', 'list'])).map((s: { name: string }) => s.name)).not.toContain(
      'trash-me',
    );

    const restored = await cli.json(['secret', 'restore', deleted.id]);
    expect(restored).toMatchObject({ id: deleted.id, name: 'trash-me', deletedAt: null });

    // The name was reused while it was in the trash: restore under another name.
    await cli.ok(['secret', 'delete', 'trash-me']);
    await cli.ok(['secret', 'create', 'trash-me', 'c=d']);
    expect((await cli.run(['secret', 'restore', deleted.id])).code).toBe(5);
    expect((await cli.json(['secret', 'restore', deleted.id, '--new-name', 'trash-me-old'])).name).toBe(
      'trash-me-old',
    );

    // Purging needs --yes when there is no terminal to ask on.
    const unconfirmed = await cli.run(['secret', 'purge', deleted.id]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      'coffer: usage: this needs confirmation: pass --yes (standard input is not a terminal)\n',
    );
    expect(await cli.json(['secret', 'purge', deleted.id, '--yes'])).toEqual({
      purged: deleted.id,
      name: 'trash-me-old',
    });
    expect((await cli.run(['secret', 'get', deleted.id])).code).toBe(3);
  });

  it('delete-all asks for confirmation unless --yes', async () => {
    const unconfirmed = await cli.run(['secret', 'delete-all']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('pass --yes');
    expect((await cli.json(['secret', 'list'])).length).toBeGreaterThan(0);
  });
});

describe('test', () => {
  it('reports a failed connection test with exit code 8', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    await cli.ok([
      'secret',
      'create',
      'dead-smtp',
      '--kind',
      'smtp',
      'host=127.0.0.1',
      'port=1',
      'security=none',
    ]);
    const result = await cli.run(['secret', 'test', 'dead-smtp']);
    expect(result.code).toBe(8);
    expect(result.stdout).toMatch(/^FAILED: dead-smtp: .+/);
    const json = await cli.run(['secret', 'test', 'dead-smtp', '--json']);
    expect(json.code).toBe(8);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, kind: 'smtp' });
    const unsupported = await cli.run(['secret', 'test', 'raw']);
    expect(unsupported.code).toBe(6);
    expect(unsupported.stderr).toMatch(/^coffer: unsupported: /);
  });
});

describe('planted values', () => {
  it('never appear in an error, a note, or human output that did not ask to reveal', async () => {
    const planted = `planted-${Date.now()}-value`;
    await cli.ok(
      ['secret', 'create', 'planted', '--kind', 'smtp', 'host=127.0.0.1', 'port=1', 'password=-'],
      {
        input: planted,
      },
    );
    const outputs = await Promise.all([
      cli.run(['secret', 'get', 'planted']),
      cli.run(['secret', 'list']),
      cli.run(['secret', 'history', 'planted']),
      cli.run(['secret', 'update', 'planted', `port=${planted}`]),
      cli.run(['secret', 'create', 'planted', `password=${planted}`]),
      cli.run(['secret', 'get', 'planted', '--field', 'nope']),
      cli.run(['run', '--env', 'X=planted.nope', '--', 'true']),
      cli.run(['run', '--env', `X={{ planted.password }}{{ ${planted}`, '--', 'true']),
      cli.run(['secret', 'test', 'planted']),
    ]);
    for (const result of outputs) {
      expect(result.stdout).not.toContain(planted);
      expect(result.stderr).not.toContain(planted);
    }
    expect(outputs[3]!.code).toBe(6);
  });
});

describe('delete-all --yes', () => {
  it('moves every secret to the trash', async () => {
    const before = (await cli.json(['secret', 'list'])).length;
    expect(await cli.json(['secret', 'delete-all', '--yes'])).toEqual({ deleted: before });
    expect(await cli.json(['secret', 'list'])).toEqual([]);
  });
});
