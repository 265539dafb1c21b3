// coffer share-link ...: make, list, open and revoke links with the real binary against a real
// server; opening needs no login and sends none, whatever the CLI has stored.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers } from '../../server/test/support/server-process.js';
import { Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

const password = `planted-cli-link-${randomBytes(6).toString('hex')}`;
let admin: Cli;
/** Someone the link was sent to: no login, no COFFER_ADDR. */
let recipient: Cli;

beforeAll(async () => {
  ({ admin } = await serverWithAdmin());
  recipient = new Cli();
  await admin.ok([
    'secret',
    'create',
    'mail',
    '--kind',
    'smtp',
    'host=smtp.example.com',
    `password=${password}`,
  ]);
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('coffer share-link', () => {
  it('creates a link (alone on standard output), and a recipient opens it once', async () => {
    const made = await admin.run(['share-link', 'create', 'mail', '--field', 'password', '--ttl', '1h']);
    expect(made.code, made.stderr).toBe(0);
    const url = made.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f-]{36}#[A-Za-z0-9_-]{43}$/);
    expect(made.stderr).toMatch(/password of mail: opens once until .*shown only now/);

    const opened = await recipient.run(['share-link', 'open', url, '--field', 'password']);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toBe(password);
    expect(opened.stderr).toMatch(/last view/);

    const again = await recipient.run(['share-link', 'open', url]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^coffer: share_link_used: this link could be opened once and was/);
    expect(again.stderr).not.toContain(password);
  });

  it('lists links as JSON without their keys, and reads a link from standard input', async () => {
    const made = await admin.json(['share-link', 'create', 'mail', '--views', '2']);
    expect(made.link).toMatchObject({
      maxViews: 2,
      state: 'active',
      fields: ['host', 'password', 'port', 'security'],
    });
    const listed = await admin.json(['share-link', 'list', 'mail']);
    expect(listed.map((l: { id: string }) => l.id)).toContain(made.link.id);
    expect(JSON.stringify(listed)).not.toContain(made.key);
    const table = await admin.ok(['share-link', 'ls', 'mail']);
    expect(table).toMatch(/^ID +STATE +VIEWS/);
    expect(table).toContain('0/2');

    const opened = await recipient.json(['share-link', 'open', '-'], { input: `${made.url}\n` });
    expect(opened).toMatchObject({ secretName: 'mail', viewsLeft: 1, values: { password } });
    // The admin, logged in, opens it too: as anyone else, anonymously.
    const human = await admin.run(['share-link', 'open', made.url]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^secret: +mail$/m);
    expect(human.stdout).toMatch(/^password +\S+/m);
    const views = await admin.json(['audit', 'list', '--action', 'share_link.view']);
    const successes = views.filter((r: { outcome: string }) => r.outcome === 'success');
    expect(successes.length).toBeGreaterThanOrEqual(3);
    for (const r of successes) expect(r.actor.type).toBe('anonymous');
    expect(successes[0].source).toBe('cli');
  });

  it('takes a passphrase from standard input, and refuses without it (exit 4)', async () => {
    const made = await admin.json(['share-link', 'create', 'mail', '-f', 'password', '--passphrase-stdin'], {
      input: 'correct horse battery\n',
    });
    expect(made.link.passphrase).toBe(true);
    const missing = await recipient.run(['share-link', 'open', made.url]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe('coffer: share_link_wrong_passphrase: this link needs its passphrase\n');
    const wrong = await recipient.run(['share-link', 'open', made.url, '--passphrase-stdin'], {
      input: 'wrong horse\n',
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/the passphrase is wrong/);
    const opened = await recipient.run(
      ['share-link', 'open', made.url, '--passphrase-stdin', '--field', 'password'],
      {
        input: 'correct horse battery\n',
      },
    );
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toBe(password);
  });

  it('revokes a link, which then says so (exit 3)', async () => {
    const made = await admin.json(['share-link', 'create', 'mail']);
    const revoked = await admin.ok(['share-link', 'revoke', made.link.id]);
    expect(revoked).toBe(`Revoked ${made.link.id}.\n`);
    const refused = await recipient.run(['share-link', 'open', made.url]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^coffer: share_link_revoked: this link no longer works: it was revoked/);
  });

  it('refuses bad command lines before asking the server (exit 2)', async () => {
    const ttl = await admin.run(['share-link', 'create', 'mail', '--ttl', 'soon']);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toMatch(/--ttl takes seconds/);
    const notALink = await recipient.run(['share-link', 'open', 'https://example.com/s/abc']);
    expect(notALink.code).toBe(2);
    expect(notALink.stderr).toMatch(/not a Coffer share link/);
    const tooShort = await admin.run(['share-link', 'create', 'mail', '--ttl', '60']);
    expect(tooShort.code).toBe(6);
    expect(tooShort.stderr).toMatch(/^coffer: validation: .*ttlSeconds/);
  });
});
