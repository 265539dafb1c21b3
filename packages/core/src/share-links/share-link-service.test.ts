import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import {
  type CofferFixture,
  createCofferFixture,
  type TestPrincipal,
} from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';

/** Values planted in the secrets: never in a log, an error, an audit record, a list or a row. */
const planted = {
  password: `PLANTED-link-password-${randomBytes(6).toString('hex')}`,
  token: `PLANTED-link-token-${randomBytes(6).toString('hex')}`,
  passphrase: `PLANTED-passphrase-${randomBytes(6).toString('hex')}`,
};

/** What a link's key looks like, to scan for keys that must never be stored or logged. */
const keyOf = (path: string) => path.slice(path.indexOf('#') + 1);
const idOf = (path: string) => path.slice('/s/'.length, path.indexOf('#'));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (err: unknown) => (isCofferError(err) ? err.code : `not a CofferError: ${String(err)}`),
  );
}

await describeEachDialect('share links', (dialect) => {
  let fx: CofferFixture;
  let alice: TestPrincipal;
  let reader: TestPrincipal;
  let outsider: TestPrincipal;
  let secretId: string;
  const keys: string[] = [];
  const errors: unknown[] = [];
  const viewer = { address: '203.0.113.9', source: 'web' as const };

  const create = async (...args: Parameters<CofferFixture['coffer']['shareLinks']['create']>) => {
    const made = await fx.coffer.shareLinks.create(...args);
    keys.push(made.key);
    return made;
  };
  /** The code a call fails with ('ok' when it does not); the error is kept for the final scan. */
  const failing = (promise: Promise<unknown>) =>
    codeOf(
      promise.catch((err: unknown) => {
        errors.push(err);
        throw err;
      }),
    );

  beforeAll(async () => {
    // scrypt at its production cost takes up to a second on a busy CI machine; links keep the
    // cost they were made with, so a cheap one here tests the same code.
    fx = await createCofferFixture(dialect, {}, { shareLinkPassphraseCost: { N: 1024, r: 8, p: 1 } });
    alice = await fx.member('alice');
    reader = await fx.member('reader');
    outsider = await fx.member('outsider');
    const secret = await fx.coffer.secrets.create(alice.actor, {
      name: 'mail',
      kind: 'smtp',
      values: { host: 'smtp.example.com', username: 'mailer', password: planted.password },
    });
    secretId = secret.id;
    await fx.coffer.shares.share(alice.actor, secretId, {
      granteeType: 'user',
      granteeId: reader.id,
      level: 'read',
    });
  });
  afterAll(() => fx?.close());

  it('opens once with its key, then says it was used; the copy is gone after the last view', async () => {
    const { coffer } = fx;
    const made = await create(alice.actor, 'mail', { fields: ['password'] });
    expect(made.path).toBe(`/s/${made.link.id}#${made.key}`);
    expect(made.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(made.link).toMatchObject({
      secretId,
      secretName: 'mail',
      fields: ['password'],
      maxViews: 1,
      views: 0,
      state: 'active',
      passphrase: false,
      createdByName: 'alice',
    });

    const preview = await coffer.shareLinks.preview(made.link.id, { key: made.key }, viewer);
    expect(preview).toMatchObject({ secretName: 'mail', fields: ['password'], viewsLeft: 1 });
    const opened = await coffer.shareLinks.open(made.link.id, { key: made.key }, viewer);
    expect(opened.values).toEqual({ password: planted.password });
    expect(opened.viewsLeft).toBe(0);

    expect(await failing(coffer.shareLinks.open(made.link.id, { key: made.key }, viewer))).toBe(
      'share_link_used',
    );
    expect(await failing(coffer.shareLinks.preview(made.link.id, { key: made.key }, viewer))).toBe(
      'share_link_used',
    );
    const row = await coffer.database.db
      .selectFrom('share_links')
      .selectAll()
      .where('id', '=', made.link.id)
      .executeTakeFirstOrThrow();
    expect(row.sealed).toBeNull();
    expect(row.end_reason).toBe('used');

    const audit = await coffer.audit.query(fx.admin.actor, { targetId: secretId });
    const actions = audit.items.map((r) => `${r.action}:${r.outcome}`);
    expect(actions).toContain('share_link.create:success');
    expect(actions).toContain('secret.reveal:success');
    expect(actions).toContain('share_link.view:success');
    expect(actions).toContain('share_link.view:denied');
    const view = audit.items.find((r) => r.action === 'share_link.view' && r.outcome === 'success')!;
    expect(view).toMatchObject({
      actor: { type: 'anonymous' },
      source: 'web',
      address: '203.0.113.9',
      details: { linkId: made.link.id, view: 1, maxViews: 1, last: true },
    });
  });

  it('allows up to maxViews views and shares every field by default', async () => {
    const made = await create(reader.actor, secretId, { maxViews: 3 });
    expect(made.link.fields).toEqual(['host', 'password', 'port', 'security', 'username']);
    for (const left of [2, 1, 0]) {
      const opened = await fx.coffer.shareLinks.open(made.link.id, { key: made.key });
      expect(opened.viewsLeft).toBe(left);
      expect(opened.values).toMatchObject({
        host: 'smtp.example.com',
        password: planted.password,
        port: 587,
      });
    }
    expect(await failing(fx.coffer.shareLinks.open(made.link.id, { key: made.key }))).toBe('share_link_used');
  });

  it('expires after its time to live, and the sweep destroys the copy once, audited', async () => {
    const { coffer } = fx;
    const made = await create(alice.actor, secretId, { ttlSeconds: 300 });
    const swept = await create(alice.actor, secretId, { ttlSeconds: 300 });
    fx.time.advance(301);
    expect(await failing(coffer.shareLinks.open(made.link.id, { key: made.key }))).toBe('share_link_expired');
    expect(await coffer.maintenance.sweepShareLinks()).toMatchObject({ expired: 1 });
    expect(await coffer.maintenance.sweepShareLinks()).toMatchObject({ expired: 0 });
    const rows = await coffer.database.db
      .selectFrom('share_links')
      .select(['id', 'sealed', 'end_reason'])
      .where('id', 'in', [made.link.id, swept.link.id])
      .execute();
    expect(rows.map((r) => [r.sealed, r.end_reason])).toEqual([
      [null, 'expired'],
      [null, 'expired'],
    ]);
    const expiries = await coffer.audit.query(fx.admin.actor, { action: 'share_link.expire' });
    expect(expiries.items.map((r) => r.details.linkId).sort()).toEqual([made.link.id, swept.link.id].sort());
    expect(expiries.items[0]!.actor).toMatchObject({ type: 'system' });
    const listed = await coffer.shareLinks.list(alice.actor, secretId);
    expect(listed.items.find((l) => l.id === swept.link.id)?.state).toBe('expired');
  });

  it('is revoked by its creator or a manager, not by other readers, and then says so', async () => {
    const { coffer } = fx;
    const byReader = await create(reader.actor, secretId);
    expect(await failing(coffer.shareLinks.revoke(outsider.actor, byReader.link.id))).toBe('not_found');
    const byAlice = await create(alice.actor, secretId);
    expect(await failing(coffer.shareLinks.revoke(reader.actor, byAlice.link.id))).toBe('forbidden');
    expect((await coffer.shareLinks.revoke(reader.actor, byReader.link.id)).state).toBe('revoked');
    const revoked = await coffer.shareLinks.revoke(alice.actor, byAlice.link.id);
    expect(revoked).toMatchObject({ state: 'revoked', revokeReason: 'revoked', revokedBy: alice.id });
    for (const made of [byReader, byAlice]) {
      const err = await coffer.shareLinks.open(made.link.id, { key: made.key }).catch((e: unknown) => e);
      expect(isCofferError(err, 'share_link_revoked')).toBe(true);
      errors.push(err);
    }
    const records = await coffer.audit.query(fx.admin.actor, { action: 'share_link.revoke' });
    expect(records.items.filter((r) => r.outcome === 'success').map((r) => r.details.linkId)).toEqual(
      expect.arrayContaining([byReader.link.id, byAlice.link.id]),
    );
    expect(records.items.filter((r) => r.outcome === 'denied').length).toBeGreaterThanOrEqual(2);
  });

  it('needs its passphrase; missing or wrong ones count no view, and ten wrong ones revoke it', async () => {
    const { coffer } = fx;
    const made = await create(alice.actor, secretId, {
      fields: ['password'],
      passphrase: planted.passphrase,
      maxViews: 2,
    });
    expect(made.link.passphrase).toBe(true);
    expect((await coffer.shareLinks.preview(made.link.id, { key: made.key })).passphraseRequired).toBe(true);
    expect(await failing(coffer.shareLinks.open(made.link.id, { key: made.key }))).toBe(
      'share_link_wrong_passphrase',
    );
    const wrong = await coffer.shareLinks
      .open(made.link.id, { key: made.key, passphrase: 'not the passphrase' }, viewer)
      .catch((e: unknown) => e);
    expect(isCofferError(wrong, 'share_link_wrong_passphrase')).toBe(true);
    expect((wrong as { details: { attemptsLeft: number } }).details.attemptsLeft).toBe(9);
    const opened = await coffer.shareLinks.open(made.link.id, {
      key: made.key,
      passphrase: planted.passphrase,
    });
    expect(opened).toMatchObject({ values: { password: planted.password }, viewsLeft: 1 });

    for (let i = 0; i < 8; i++) {
      await failing(coffer.shareLinks.open(made.link.id, { key: made.key, passphrase: `wrong ${i}` }));
    }
    // the tenth wrong passphrase revokes it, even for whoever knows the right one
    expect(
      await failing(coffer.shareLinks.open(made.link.id, { key: made.key, passphrase: 'wrong again' })),
    ).toBe('share_link_revoked');
    const err = await coffer.shareLinks
      .open(made.link.id, { key: made.key, passphrase: planted.passphrase })
      .catch((e: unknown) => e);
    expect(isCofferError(err, 'share_link_revoked')).toBe(true);
    expect((err as { details: { reason: string } }).details.reason).toBe('too_many_failures');
    const failures = await coffer.audit.query(fx.admin.actor, {
      action: 'share_link.view',
      outcome: 'failure',
    });
    expect(failures.items.filter((r) => r.details.linkId === made.link.id)).toHaveLength(10);
  });

  it('refuses a wrong key without counting a view, then opens with the right one', async () => {
    const { coffer } = fx;
    const made = await create(alice.actor, secretId);
    const other = randomBytes(32).toString('base64url');
    expect(await failing(coffer.shareLinks.open(made.link.id, { key: other }, viewer))).toBe(
      'share_link_wrong_key',
    );
    expect(await failing(coffer.shareLinks.open(made.link.id, { key: made.key.slice(0, 40) }))).toBe(
      'share_link_wrong_key',
    );
    expect(await failing(coffer.shareLinks.preview(made.link.id, { key: other }))).toBe(
      'share_link_wrong_key',
    );
    expect(
      await failing(coffer.shareLinks.open('00000000-0000-4000-8000-000000000000', { key: other })),
    ).toBe('not_found');
    expect(await failing(coffer.shareLinks.open('not-an-id', { key: other }))).toBe('not_found');
    const opened = await coffer.shareLinks.open(made.link.id, { key: made.key });
    expect(opened.values.password).toBe(planted.password);
    const failures = await coffer.audit.query(fx.admin.actor, {
      action: 'share_link.view',
      outcome: 'failure',
    });
    expect(
      failures.items.filter((r) => r.details.linkId === made.link.id).map((r) => r.details.reason),
    ).toEqual(['wrong_key', 'wrong_key', 'wrong_key']);
  });

  it('lets exactly one of many concurrent opens of a one-view link through, across two engines', async () => {
    // Two engines in one process cannot share a SQLite file (better-sqlite3 waits for a lock
    // synchronously, so the holder can never finish); there, processes share it through file
    // locks and one engine serializes its own writes, which is what this test then exercises.
    const other = dialect === 'sqlite' ? fx.coffer : await fx.reopen();
    for (let round = 0; round < 3; round++) {
      const made = await create(alice.actor, secretId);
      const opens = Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? fx.coffer : other).shareLinks.open(made.link.id, { key: made.key }),
      );
      const results = await Promise.allSettled(opens);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const lost of results.filter((r) => r.status === 'rejected')) {
        expect(isCofferError(lost.reason, 'share_link_used'), String(lost.reason)).toBe(true);
      }
      const views = await fx.coffer.audit.query(fx.admin.actor, {
        action: 'share_link.view',
        outcome: 'success',
      });
      expect(views.items.filter((r) => r.details.linkId === made.link.id)).toHaveLength(1);
    }
  });

  it('dies with its secret: deleting (or purging) revokes its open links', async () => {
    const { coffer } = fx;
    const doomed = await coffer.secrets.create(alice.actor, {
      name: 'doomed',
      kind: 'api-token',
      values: { token: planted.token },
    });
    const made = await create(alice.actor, doomed.id);
    const used = await create(alice.actor, doomed.id);
    await coffer.shareLinks.open(used.link.id, { key: used.key });
    await coffer.secrets.delete(alice.actor, doomed.id);
    // the revocation follows the delete event; a sweep finds whatever it missed
    await coffer.maintenance.sweepShareLinks();
    const err = await coffer.shareLinks.open(made.link.id, { key: made.key }).catch((e: unknown) => e);
    expect(isCofferError(err, 'share_link_revoked')).toBe(true);
    expect((err as { details: { reason: string } }).details.reason).toBe('secret_deleted');
    await coffer.secrets.restore(alice.actor, doomed.id);
    expect(await failing(coffer.shareLinks.open(made.link.id, { key: made.key }))).toBe('share_link_revoked');
    const links = await coffer.shareLinks.list(alice.actor, doomed.id);
    expect(links.items.map((l) => [l.id, l.state])).toEqual(
      expect.arrayContaining([
        [made.link.id, 'revoked'],
        [used.link.id, 'used'],
      ]),
    );

    // an open link whose secret vanished without the event (another process) is revoked on open
    const orphan = await create(alice.actor, doomed.id);
    await coffer.database.db.deleteFrom('secrets').where('id', '=', doomed.id).execute();
    expect(await failing(coffer.shareLinks.open(orphan.link.id, { key: orphan.key }))).toBe(
      'share_link_revoked',
    );
  });

  it('checks its input and its caller', async () => {
    const { coffer } = fx;
    const invalid = [
      { ttlSeconds: 299 },
      { ttlSeconds: 30 * 86_400 + 1 },
      { maxViews: 0 },
      { maxViews: 101 },
      { fields: [] },
      { fields: ['password', 'password'] },
      { fields: ['nope'] },
      { passphrase: 'short' },
    ];
    for (const input of invalid) {
      expect(
        await failing(coffer.shareLinks.create(alice.actor, secretId, input)),
        JSON.stringify(input),
      ).toBe('validation');
    }
    const user = await fx.member('use-only');
    await coffer.shares.share(alice.actor, secretId, {
      granteeType: 'user',
      granteeId: user.id,
      level: 'use',
    });
    expect(await failing(coffer.shareLinks.create(user.actor, secretId))).toBe('forbidden');
    expect(await failing(coffer.shareLinks.create(outsider.actor, secretId))).toBe('not_found');
    expect(await failing(coffer.shareLinks.list(user.actor, secretId))).toBe('forbidden');
  });

  it('lists metadata in pages, newest first, and never a key or a value', async () => {
    const { coffer } = fx;
    const first = await coffer.shareLinks.list(alice.actor, secretId, { limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const rest = await coffer.shareLinks.list(alice.actor, secretId, {
      cursor: first.nextCursor,
      limit: 1000,
    });
    const all = [...first.items, ...rest.items];
    expect(new Set(all.map((l) => l.id)).size).toBe(all.length);
    expect(all.map((l) => l.createdAt)).toEqual([...all.map((l) => l.createdAt)].sort().reverse());
    const text = JSON.stringify(all);
    for (const key of keys) expect(text).not.toContain(key);
    for (const value of Object.values(planted)) expect(text).not.toContain(value);
    expect(Object.keys(all[0]!)).not.toContain('sealed');
  });

  it('never writes a planted value, a passphrase or a link key to logs, errors, audit records or rows', async () => {
    const { coffer } = fx;
    let exported = '';
    for await (const line of coffer.audit.export(fx.admin.actor, {})) exported += line;
    const rows = await coffer.database.db.selectFrom('share_links').selectAll().execute();
    const haystacks: Record<string, string> = {
      logs: fx.logText(),
      errors: errors
        .map((e) => {
          const err = e as Error & { details?: unknown };
          return `${err.message}\n${JSON.stringify(err.details ?? {})}\n${err.stack ?? ''}`;
        })
        .join('\n'),
      audit: exported,
      'share_links rows': JSON.stringify(rows, (_k, v) =>
        v?.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v,
      ),
    };
    expect(errors.length).toBeGreaterThan(10);
    expect(keys.length).toBeGreaterThan(10);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [which, value] of Object.entries(planted)) {
        expect(text.includes(value), `planted ${which} found in ${where}`).toBe(false);
      }
      for (const key of keys) {
        expect(text.includes(key), `a link key found in ${where}`).toBe(false);
        expect(
          text.includes(Buffer.from(key, 'base64url').toString('hex')),
          `a link key found in ${where}`,
        ).toBe(false);
      }
    }
    // only open links hold a sealed copy, and it is not the plaintext
    for (const row of rows) {
      if (row.ended_at !== null) expect(row.sealed).toBeNull();
    }
  });

  describe('the copy on its own', () => {
    it('cannot be opened from what is stored: a tampered copy fails its integrity check', async () => {
      const { coffer } = fx;
      const made = await create(alice.actor, secretId);
      const row = await coffer.database.db
        .selectFrom('share_links')
        .select('sealed')
        .where('id', '=', made.link.id)
        .executeTakeFirstOrThrow();
      const sealed = Buffer.from(row.sealed!);
      sealed[sealed.length - 1] = sealed[sealed.length - 1]! ^ 0x01;
      await coffer.database.db
        .updateTable('share_links')
        .set({ sealed })
        .where('id', '=', made.link.id)
        .execute();
      expect(await failing(coffer.shareLinks.open(made.link.id, { key: made.key }))).toBe('integrity');
      const after = await coffer.database.db
        .selectFrom('share_links')
        .select('views')
        .where('id', '=', made.link.id)
        .executeTakeFirstOrThrow();
      expect(after.views).toBe(0);
      expect(idOf(made.path)).toBe(made.link.id);
      expect(keyOf(made.path)).toBe(made.key);
    });
  });
});
