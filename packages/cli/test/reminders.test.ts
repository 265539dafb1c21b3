// coffer secret due, and --expires / --rotate-every on create and update, with the real binary
// against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupServers } from '../../server/test/support/server-process.js';
import { type Cli, killCliProcesses, serverWithAdmin } from './support/cli-process.js';

let admin: Cli;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  ({ admin } = await serverWithAdmin());
});

afterAll(async () => {
  killCliProcesses();
  await cleanupServers();
});

describe('coffer secret due', () => {
  it('sets expiry and rotation on create and update, and shows them in get', async () => {
    const created = await admin.json([
      'secret',
      'create',
      'gh-token',
      '--kind',
      'api-token',
      'token=t0',
      '--expires',
      inDays(10),
    ]);
    expect(created).toMatchObject({ expiresAt: `${inDays(10)}T00:00:00.000Z`, rotateEveryDays: 90 });
    const updated = await admin.json([
      'secret',
      'update',
      'gh-token',
      '--rotate-every',
      '2w',
      '--expires',
      'never',
    ]);
    expect(updated).toMatchObject({ expiresAt: null, rotateEveryDays: 14 });
    const shown = await admin.ok(['secret', 'get', 'gh-token']);
    expect(shown).toMatch(/rotation: +every 14 days, next due \d{4}-/);

    await admin.ok(['secret', 'create', 'db', '--kind', 'generic', 'p=x', '--expires', inDays(3)]);
    const bad = await admin.run(['secret', 'update', 'db', '--expires', '31.12.2031']);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/^coffer: validation: expiresAt: must be an ISO-8601 date/);
    const usage = await admin.run(['secret', 'update', 'db', '--rotate-every', 'often']);
    expect(usage.code).toBe(2);
  });

  it('lists what is due in a table, as JSON, by reason, and exits with 8 under --check', async () => {
    const table = await admin.ok(['secret', 'due']);
    const [header, ...lines] = table.trimEnd().split('\n');
    expect(header).toMatch(/^NAME +KIND +DUE +WHY +EXPIRES +ROTATION DUE +ACCESS$/);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^db +generic +${inDays(3)} +expiring +${inDays(3)} +- +manage$`));
    // rotated every 14 days, from its creation (a time of day, so shown with it)
    expect(lines[1]).toMatch(
      /^gh-token +api-token +\d{4}-\d\d-\d\d \d\d:\d\d +rotation +- +\d{4}-\S+ \S+ +manage$/,
    );

    const json = await admin.json(['secret', 'due', '--within', '30d']);
    expect(json.map((s: { name: string }) => s.name)).toEqual(['db', 'gh-token']);
    expect(json[1]).toMatchObject({ reasons: ['rotation'], rotateEveryDays: 14 });
    expect(await admin.json(['secret', 'due', '--within', '7', '--reason', 'rotation'])).toEqual([]);

    const none = await admin.run(['secret', 'due', '--within', '1', '--check']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('Nothing expires or is due for rotation within 1d.\n');
    const some = await admin.run(['secret', 'due', '--check']);
    expect(some.code).toBe(8);
    expect((await admin.run(['secret', 'due', '--within', 'soon'])).code).toBe(2);
  });
});
