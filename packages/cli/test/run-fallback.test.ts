// coffer run's offline fallback: an encrypted snapshot of exactly what a run resolved, bound to
// the login and the machine, used (with a warning) only when the server cannot be reached, never
// after the server refused the login or the access, refused when changed, copied or expired,
// and removed on logout. The real CLI against a real server process, which the middle of the
// file stops: the tests run in order.
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type CofferClient, createClient } from '@coffer/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../../server/test/support/server-process.js';
import { cleanupServers, tempDir } from '../../server/test/support/server-process.js';
import { Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

const node = process.execPath;
/** A child that prints chosen variables as JSON. */
const printEnv = (...names: string[]) => [
  node,
  '-e',
  `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.env[n] ?? null]))))`,
];

// Planted values: none of them may ever be found in a snapshot file or on standard error.
const mailPassword = `mail-pw-${randomBytes(6).toString('hex')}`;
const dbPassword = `db-pw-${randomBytes(6).toString('hex')}`;
const hiddenToken = `use-only-${randomBytes(6).toString('hex')}`;
const sharedToken = `shared-${randomBytes(6).toString('hex')}`;
const planted = [mailPassword, dbPassword, hiddenToken, sharedToken];

/** The run every test falls back for: --env (bare and a template) and --secret. */
const mainSpec = [
  '--env',
  'MAIL_PASSWORD=mail.password',
  '--env',
  'DB_URL=postgres://app:{{ db.password }}@db/app',
  '--secret',
  'db',
];
const mainChild = printEnv('MAIL_PASSWORD', 'DB_URL', 'DB_PASSWORD', 'DB_HOST');
const mainEnv = {
  MAIL_PASSWORD: mailPassword,
  DB_URL: `postgres://app:${dbPassword}@db/app`,
  DB_PASSWORD: dbPassword,
  DB_HOST: 'db.internal',
};
const shortTtlSpec = ['--env', 'SHORT=db.password', '--fallback-ttl', '1s'];

let server: ServerProcess;
let api: CofferClient;
let admin: Cli;
let ada: Cli;
let bob: Cli;
let carol: Cli;
/** The admin's token in COFFER_TOKEN, with COFFER_FALLBACK=on. */
let ciFallbackOn: Cli;
let mainWrittenAt = 0;
let shortTtlWrittenAt = 0;
const memberPassword = 'member password for the fallback';
const userIds: Record<string, string> = {};

/** Every snapshot file under a user's cache, by path. */
function snapshots(cli: Cli): string[] {
  if (!existsSync(cli.fallbackDir)) return [];
  return readdirSync(cli.fallbackDir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.snapshot'))
    .map((p) => join(cli.fallbackDir, p));
}

function expectNoPlantedValue(bytes: Buffer | string, what: string) {
  const text = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : bytes;
  for (const value of planted) {
    expect(text, what).not.toContain(value);
    expect(text, what).not.toContain(Buffer.from(value).toString('base64').slice(0, 12));
  }
}

/** A member with `coffer login` done, sharing `levels` (secret → level). */
async function member(username: string, levels: Record<string, 'use' | 'read'>): Promise<Cli> {
  const user = await api.users.create({ username, password: memberPassword });
  userIds[username] = user.id;
  for (const [secret, level] of Object.entries(levels))
    await api.shares.grant(secret, { granteeType: 'user', granteeId: user.id, level });
  const cli = new Cli({ COFFER_ADDR: server.url });
  await cli.ok(['login', '-u', username, '--password-stdin'], { input: `${memberPassword}\n` });
  return cli;
}

/** Waits until `ms` have passed since `since`. */
async function waitSince(since: number, ms: number): Promise<void> {
  const left = since + ms - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

beforeAll(async () => {
  ({ server, admin } = await serverWithAdmin());
  const { token } = JSON.parse(readFileSync(admin.configFile, 'utf8')).servers[server.url];
  api = createClient({ baseUrl: server.url, token });
  await api.secrets.create({
    name: 'mail',
    kind: 'smtp',
    values: { host: 'smtp.example.com', password: mailPassword },
  });
  await api.secrets.create({
    name: 'db',
    kind: 'generic',
    values: { password: dbPassword, host: 'db.internal' },
  });
  await api.secrets.create({ name: 'hidden', kind: 'generic', values: { token: hiddenToken } });
  await api.secrets.create({ name: 'shared', kind: 'generic', values: { token: sharedToken } });
  // ada may use `hidden` (server-side code may consume it on her behalf) but never reveal it.
  [ada, bob, carol] = await Promise.all([
    member('ada', { db: 'read', shared: 'read', hidden: 'use' }),
    member('bob', { db: 'read' }),
    member('carol', { db: 'read' }),
  ]);
}, 60_000);

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('with the server reachable', () => {
  it('writes a sealed snapshot of what it resolved: 0600, no value in it', async () => {
    const result = await admin.run(['run', ...mainSpec, '--', ...mainChild]);
    mainWrittenAt = Date.now();
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(mainEnv);
    expect(result.stderr).toBe('');
    const files = snapshots(admin);
    expect(files).toHaveLength(1);
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    expect(statSync(join(files[0]!, '..')).mode & 0o777).toBe(0o700);
    const bytes = readFileSync(files[0]!);
    expect(bytes.toString('utf8')).toMatch(/^coffer-fallback 1\n\{.*"address":.*\}\n[A-Za-z0-9+/=]+\n$/);
    expectNoPlantedValue(bytes, 'the snapshot file');
    // The per-machine key beside the config file.
    expect(statSync(join(admin.configHome, 'coffer', 'fallback-key')).mode & 0o777).toBe(0o600);

    // A run with a short time to live, for the expiry test once the server is down; with
    // --no-fallback nothing is written.
    await admin.ok(['run', ...shortTtlSpec, '--', 'true']);
    shortTtlWrittenAt = Date.now();
    await admin.ok(['run', '--no-fallback', '--env', 'X=db.password', '--', 'true']);
    expect(snapshots(admin)).toHaveLength(2);
  });

  it('writes nothing for COFFER_TOKEN unless asked (COFFER_FALLBACK=on)', async () => {
    const { token } = JSON.parse(readFileSync(admin.configFile, 'utf8')).servers[server.url];
    const ci = new Cli({ COFFER_ADDR: server.url, COFFER_TOKEN: token });
    await ci.ok(['run', '--env', 'X=db.password', '--', 'true']);
    expect(snapshots(ci)).toEqual([]);
    // With --watch too: every resolution refreshes the snapshot.
    ciFallbackOn = ci.with({ COFFER_FALLBACK: 'on' });
    await ciFallbackOn.ok(['run', '--watch', '--env', 'X=db.password', '--', 'true']);
    expect(snapshots(ciFallbackOn)).toHaveLength(1);
  });

  it('never keeps a value the user may only use, and forgets a share that was narrowed', async () => {
    // `use` is not `read`: the run fails as it always did, and nothing is written.
    const denied = await ada.run(['run', '--env', 'D=db.password', '--env', 'H=hidden.token', '--', 'true']);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/^coffer: forbidden: /);
    expect(snapshots(ada)).toEqual([]);
    // Readable now: written...
    await ada.ok(['run', '--env', 'S=shared.token', '--', 'true']);
    expect(snapshots(ada)).toHaveLength(1);
    // ...and deleted once the server refuses it: it cannot be used offline afterwards.
    await api.shares.grant('shared', { granteeType: 'user', granteeId: userIds.ada!, level: 'use' });
    const narrowed = await ada.run(['run', '--env', 'S=shared.token', '--', 'true']);
    expect(narrowed.code).toBe(4);
    expect(snapshots(ada)).toEqual([]);
    for (const file of readdirSync(ada.configHome, { recursive: true, encoding: 'utf8' })) {
      const path = join(ada.configHome, file);
      if (statSync(path).isFile()) expectNoPlantedValue(readFileSync(path), path);
    }
  });

  it('deletes every snapshot of a login the server no longer accepts (a revoked token)', async () => {
    await bob.ok(['run', '--env', 'D=db.password', '--', 'true']);
    expect(snapshots(bob)).toHaveLength(1);
    const [token] = (await api.tokens.list({ userId: userIds.bob! })).items;
    await api.tokens.revoke(token!.id);
    const revoked = await bob.run(['run', '--env', 'D=db.password', '--', ...printEnv('D')]);
    expect(revoked.code).toBe(4);
    expect(revoked.stdout).toBe('');
    expect(revoked.stderr).toMatch(/^coffer: unauthenticated: /);
    expect(snapshots(bob)).toEqual([]);
  });

  it('removes the snapshots of a login on logout', async () => {
    await carol.ok(['run', '--env', 'D=db.password', '--', 'true']);
    expect(snapshots(carol)).toHaveLength(1);
    await carol.ok(['logout']);
    expect(snapshots(carol)).toEqual([]);
    expect(readdirSync(carol.fallbackDir)).toEqual([]);
  });
});

describe('with the server down', () => {
  beforeAll(async () => {
    await server.stop();
  });

  it('runs the command on the snapshot, with one warning line and no value on stderr', async () => {
    const result = await admin.run(['run', ...mainSpec, '--', ...mainChild]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(mainEnv);
    expect(result.stderr).toMatch(
      /^coffer: warning: the server cannot be reached \(network\); using the offline snapshot from \d+ seconds? ago, usable for 6 days more\n$/,
    );
    expectNoPlantedValue(result.stderr, 'stderr');
    // The command's exit code still passes through.
    const failing = await admin.run(['run', ...mainSpec, '--', node, '-e', 'process.exit(42)']);
    expect(failing.code).toBe(42);
  });

  it('runs a --watch command on the snapshot, unwatched', async () => {
    const result = await ciFallbackOn.run([
      'run',
      '--watch',
      '--env',
      'X=db.password',
      '--',
      ...printEnv('X'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ X: dbPassword });
    expect(result.stderr).toMatch(
      /^coffer: warning: the server cannot be reached \(network\); using the offline snapshot .*\ncoffer: warning: --watch is off while running on the offline snapshot\n$/,
    );
  });

  it('fails as before with --no-fallback, and for a command it has no snapshot of', async () => {
    const off = await admin.run(['run', '--no-fallback', ...mainSpec, '--', ...mainChild]);
    expect(off.code).toBe(7);
    expect(off.stdout).toBe('');
    expect(off.stderr).toMatch(/^coffer: network: /);
    expect(off.stderr).not.toContain('snapshot');
    // Another specification (one more variable) is another snapshot: there is none.
    const other = await admin.run(['run', ...mainSpec, '--env', 'MORE=db.host', '--', 'true']);
    expect(other.code).toBe(7);
    expect(other.stderr).toMatch(
      /^coffer: note: no offline snapshot of this command to fall back on\ncoffer: network: /,
    );
  });

  it('never falls back for a revoked login or a narrowed share', async () => {
    const [revoked, narrowed] = await Promise.all([
      bob.run(['run', '--env', 'D=db.password', '--', ...printEnv('D')]),
      ada.run(['run', '--env', 'S=shared.token', '--', ...printEnv('S')]),
    ]);
    expect(revoked.code).toBe(7);
    expect(revoked.stdout).toBe('');
    expect(narrowed.code).toBe(7);
    expect(narrowed.stdout).toBe('');
  });

  it('--fallback-only needs no server at all, and fails clearly without a snapshot', async () => {
    const only = await admin.run(['run', '--fallback-only', ...mainSpec, '--', ...mainChild], {
      env: { COFFER_ADDR: undefined, XDG_CONFIG_HOME: admin.configHome },
    });
    expect(only.code, only.stderr).toBe(0);
    expect(JSON.parse(only.stdout)).toEqual(mainEnv);
    expect(only.stderr).toMatch(
      /^coffer: warning: --fallback-only: using the offline snapshot from .+; the server was not asked\n$/,
    );
    const [missing, both, watch] = await Promise.all([
      admin.run(['run', '--fallback-only', '--env', 'X=mail.host', '--', 'true']),
      admin.run(['run', '--fallback-only', '--no-fallback', ...mainSpec, '--', 'true']),
      admin.run(['run', '--fallback-only', '--watch', ...mainSpec, '--', 'true']),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^coffer: fallback_missing: no offline snapshot of this command/);
    expect(both.code).toBe(2);
    expect(watch.code).toBe(2);
  });

  it('refuses an expired snapshot, and deletes it', async () => {
    await waitSince(shortTtlWrittenAt, 1100);
    const expired = await admin.run(['run', ...shortTtlSpec, '--', ...printEnv('SHORT')]);
    expect(expired.code).toBe(7);
    expect(expired.stdout).toBe('');
    expect(expired.stderr).toMatch(/^coffer: warning: fallback_expired: .*time to live ended/);
    expect(expired.stderr).toMatch(/\ncoffer: network: /);
    // A run may ask for a younger snapshot than the one written (--fallback-ttl on reading);
    // that one stays for runs that accept it.
    await waitSince(mainWrittenAt, 1100);
    const [gone, tooOld] = await Promise.all([
      admin.run(['run', '--fallback-only', ...shortTtlSpec, '--', 'true']),
      admin.run(['run', '--fallback-only', '--fallback-ttl', '1s', ...mainSpec, '--', 'true']),
    ]);
    expect(gone.code).toBe(3);
    expect(tooOld.code).toBe(7);
    expect(tooOld.stderr).toMatch(/^coffer: fallback_expired: .*older than the time to live asked for/);
    expect(snapshots(admin)).toHaveLength(1);
  });

  it('refuses a snapshot with one byte changed, in its values or in its header', async () => {
    // The one left: mainSpec's.
    const [file, ...others] = snapshots(admin);
    expect(others).toEqual([]);
    const original = readFileSync(file!, 'utf8');
    const payloadAt = original.lastIndexOf('\n', original.length - 2) + 1;
    const flipAt = payloadAt + Math.floor((original.length - payloadAt) / 2);
    const flipped =
      original.slice(0, flipAt) + (original[flipAt] === 'A' ? 'B' : 'A') + original.slice(flipAt + 1);
    // Extending its life by editing the header is a change like any other.
    const extended = original.replace(
      /"expiresAt":"(\d{4})/,
      (_, year) => `"expiresAt":"${Number(year) + 1}`,
    );
    expect(extended).not.toBe(original);
    for (const changed of [flipped, extended]) {
      writeFileSync(file!, changed);
      const only = await admin.run(['run', '--fallback-only', ...mainSpec, '--', ...mainChild]);
      expect(only.code).toBe(1);
      expect(only.stdout).toBe('');
      expect(only.stderr).toMatch(
        /^coffer: fallback_invalid: the offline snapshot of this command cannot be used: it was changed/,
      );
    }
    const implicit = await admin.run(['run', ...mainSpec, '--', ...mainChild]);
    expect(implicit.code).toBe(7);
    expect(implicit.stdout).toBe('');
    expect(implicit.stderr).toMatch(/^coffer: warning: fallback_invalid: .*\ncoffer: network: /);
    // The file as written opens again: nothing but the change made it fail.
    writeFileSync(file!, original);
    expect((await admin.run(['run', '--fallback-only', ...mainSpec, '--', 'true'])).code).toBe(0);
  });

  it('does not open on another machine, even with the same login', async () => {
    // Another machine: the same config file (the same token), a snapshot copied over, but its
    // own per-machine key.
    const elsewhere = new Cli({ COFFER_ADDR: server.url }, tempDir('coffer-cli-other-machine-'));
    mkdirSync(join(elsewhere.configHome, 'coffer'), { recursive: true });
    copyFileSync(admin.configFile, elsewhere.configFile);
    const [file] = snapshots(admin);
    const copy = join(elsewhere.fallbackDir, file!.slice(admin.fallbackDir.length));
    mkdirSync(join(copy, '..'), { recursive: true });
    copyFileSync(file!, copy);
    const copied = await elsewhere.run(['run', '--fallback-only', ...mainSpec, '--', ...mainChild]);
    expect(copied.code).toBe(1);
    expect(copied.stdout).toBe('');
    expect(copied.stderr).toMatch(/^coffer: fallback_invalid: .*made on another machine/);
    // Once that machine has a key of its own, the copy still does not open.
    writeFileSync(join(elsewhere.configHome, 'coffer', 'fallback-key'), randomBytes(32), { mode: 0o600 });
    const again = await elsewhere.run(['run', '--fallback-only', ...mainSpec, '--', ...mainChild]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^coffer: fallback_invalid: .*another machine/);
  });

  it('logout removes the snapshots even when the server cannot be told', async () => {
    const result = await admin.run(['logout']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/the token could not be revoked on the server/);
    expect(snapshots(admin)).toEqual([]);
  });
});
