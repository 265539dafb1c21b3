import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCofferError } from '../errors/coffer-error.js';
import { builtinKinds } from '../kinds/builtin/builtin-kinds.js';
import { type CofferFixture, createCofferFixture } from '../test-support/coffer-fixture.js';
import { describeEachDialect } from '../test-support/databases.js';
import { MASK } from './masking.js';

/** A realistic set of values for every built-in kind. */
export const sampleValues: Record<string, Record<string, unknown>> = {
  generic: { API_KEY: 'k-123', retries: 3, enabled: true, 'multi.line': 'a\nb' },
  smtp: { host: 'smtp.example.com', port: 465, security: 'tls', username: 'mailer', password: 's3cret-smtp' },
  jira: { baseUrl: 'https://example.atlassian.net', email: 'ops@example.com', apiToken: 'jira-token' },
  database: {
    engine: 'postgres',
    host: 'db.internal',
    port: 5432,
    database: 'app',
    username: 'app',
    password: 'db-pass',
  },
  'aws-credentials': {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'aws/secret+key',
    region: 'eu-central-1',
  },
  'api-token': { token: 'tok_123' },
  'basic-auth': { username: 'user', password: 'pass word' },
  'ssh-key': { username: 'deploy', privateKey: '-----BEGIN KEY-----\nabc\n-----END KEY-----\n' },
  'oauth-client': { tokenUrl: 'https://auth.example.com/token', clientId: 'cid', clientSecret: 'csecret' },
};

async function expectCode(promise: Promise<unknown>, code: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCofferError(err), `expected a CofferError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return err as { code: string; message: string; details: { issues?: { path: string; message: string }[] } };
}

await describeEachDialect('secret service', (dialect) => {
  let fx: CofferFixture;
  beforeAll(async () => {
    fx = await createCofferFixture(dialect, { versions: { keep: 3 }, recoveryWindowDays: 7 });
  });
  afterAll(() => fx?.close());

  describe('kinds', () => {
    it('has sample values for every built-in kind', () => {
      expect(Object.keys(sampleValues).sort()).toEqual(builtinKinds.map((k) => k.id).sort());
    });

    it('creates a secret of every built-in kind and reveals exactly the validated values', async () => {
      for (const kind of builtinKinds) {
        const values = sampleValues[kind.id]!;
        const created = await fx.coffer.secrets.create(fx.admin.actor, {
          name: `kind-${kind.id}`,
          kind: kind.id,
          values,
        });
        expect(created.currentVersion).toBe(1);
        const view = await fx.coffer.secrets.readValues(fx.admin.actor, created.id, { reveal: true });
        expect(view.values).toEqual(kind.validate(values));
        expect(JSON.parse(JSON.stringify(view.values))).toEqual(view.values);
      }
    });

    it('masks secret fields unless revealed, and shows the others', async () => {
      const smtp = await fx.coffer.secrets.get(fx.admin.actor, 'kind-smtp');
      const view = await fx.coffer.secrets.readValues(fx.admin.actor, smtp.id);
      expect(view.revealed).toBe(false);
      expect(view.values.password).toBe(MASK);
      expect(view.values.host).toBe('smtp.example.com');
      expect(view.maskedFields).toEqual(['password']);
      const generic = await fx.coffer.secrets.readValues(fx.admin.actor, 'kind-generic');
      expect(Object.values(generic.values).every((v) => v === MASK)).toBe(true);
    });
  });

  describe('validation', () => {
    it('reports every bad input at once and stores nothing', async () => {
      const before = await fx.coffer.database.db.selectFrom('secrets').select('id').execute();
      const err = await expectCode(
        fx.coffer.secrets.create(fx.admin.actor, {
          name: 'bad name!',
          kind: 'smtp',
          labels: { 'Bad Label': 'x' },
          values: { port: 'not-a-port', nonsense: 1 },
        }),
        'validation',
      );
      const paths = err.details.issues!.map((i) => i.path).sort();
      expect(paths).toEqual(
        expect.arrayContaining(['name', 'labels.Bad Label', 'values.host', 'values.port', 'values.nonsense']),
      );
      const after = await fx.coffer.database.db.selectFrom('secrets').select('id').execute();
      expect(after.length).toBe(before.length);
      const values = await fx.coffer.database.db.selectFrom('secret_values').select('secret_id').execute();
      expect(values.length).toBe(after.length);
    });

    it('rejects an unknown kind naming the known ones', async () => {
      const err = await expectCode(
        fx.coffer.secrets.create(fx.admin.actor, { name: 'x', kind: 'nope', values: {} }),
        'validation',
      );
      expect(err.details.issues![0]!.path).toBe('kind');
      expect(err.details.issues![0]!.message).toContain('smtp');
    });

    it('keeps names unique per owner but lets other owners reuse them', async () => {
      await fx.coffer.secrets.create(fx.admin.actor, { name: 'dup', kind: 'generic', values: { a: '1' } });
      const stored = async () => ({
        values: (await fx.coffer.database.db.selectFrom('secret_values').select('secret_id').execute())
          .length,
        secrets: (await fx.coffer.database.db.selectFrom('secrets').select('id').execute()).length,
        audit: (await fx.coffer.database.db.selectFrom('audit_log').select('seq').execute()).length,
        events: (await fx.coffer.database.db.selectFrom('events').select('seq').execute()).length,
      });
      const before = await stored();
      await expectCode(
        fx.coffer.secrets.create(fx.admin.actor, { name: 'dup', kind: 'generic', values: { a: '2' } }),
        'already_exists',
      );
      // The taken name fails the insert in the create's transaction: its value, record and
      // event go with it.
      expect(await stored()).toEqual(before);
      const bob = await fx.member('dup-bob');
      const theirs = await fx.coffer.secrets.create(bob.actor, {
        name: 'dup',
        kind: 'generic',
        values: { a: '3' },
      });
      expect(theirs.ownerId).toBe(bob.id);
      // names are case-sensitive everywhere
      await fx.coffer.secrets.create(fx.admin.actor, { name: 'Dup', kind: 'generic', values: { a: '4' } });
    });

    it('refuses names that would break references, URLs or shells', async () => {
      for (const name of [
        '',
        'a.b',
        'a b',
        'a/b',
        '-lead',
        'x'.repeat(129),
        '0b1e2c3d-0000-4000-8000-000000000000',
      ]) {
        await expectCode(
          fx.coffer.secrets.create(fx.admin.actor, { name, kind: 'generic', values: {} }),
          'validation',
        );
      }
    });

    it('refuses control characters in metadata text and ids as names on every path, storing nothing', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'plain-text',
        kind: 'generic',
        values: { a: '1' },
      });
      const actor = fx.admin.actor;
      const attempts: (() => Promise<unknown>)[] = [
        () =>
          fx.coffer.secrets.create(actor, {
            name: 'nul-d',
            kind: 'generic',
            values: {},
            description: 'a\u0000b',
          }),
        () =>
          fx.coffer.secrets.create(actor, {
            name: 'nul-l',
            kind: 'generic',
            values: {},
            labels: { env: 'x\u0000' },
          }),
        () => fx.coffer.secrets.updateMetadata(actor, s.id, { description: 'bell\u0007' }),
        () => fx.coffer.secrets.updateMetadata(actor, s.id, { labels: { env: 'a\nb' } }),
        () => fx.coffer.secrets.use(actor, s.id, { purpose: 'mail\u0000' }),
        () => fx.coffer.identity.createGroup(actor, { name: 'nul-group', description: 'a\u0000' }),
        () => fx.coffer.identity.updateUser(actor, fx.admin.id, { displayName: 'Ad\u0000min' }),
      ];
      for (const attempt of attempts) await expectCode(attempt(), 'validation');
      // A description may still hold layout.
      await fx.coffer.secrets.updateMetadata(actor, s.id, { description: 'line one\n\tline two' });
      expect((await fx.coffer.secrets.get(actor, s.id)).description).toBe('line one\n\tline two');
      await fx.coffer.secrets.delete(actor, s.id);
      await expectCode(fx.coffer.secrets.restore(actor, s.id, { newName: s.id }), 'validation');
      await fx.coffer.secrets.purge(actor, s.id);
      expect((await fx.coffer.secrets.list(actor, { namePrefix: 'nul-' })).items.map((x) => x.name)).toEqual(
        [],
      );
    });
  });

  describe('updates and versions', () => {
    it('keeps a secret field when the mask is sent back (the form round trip)', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'mail',
        kind: 'smtp',
        values: { host: 'old.example.com', username: 'u', password: 'keep-me' },
      });
      const masked = await fx.coffer.secrets.readValues(fx.admin.actor, s.id);
      const updated = await fx.coffer.secrets.update(fx.admin.actor, s.id, {
        values: { ...masked.values, host: 'new.example.com' },
      });
      expect(updated.currentVersion).toBe(2);
      const view = await fx.coffer.secrets.readValues(fx.admin.actor, s.id, { reveal: true });
      expect(view.values.password).toBe('keep-me');
      expect(view.values.host).toBe('new.example.com');
      const versions = await fx.coffer.secrets.versions(fx.admin.actor, s.id);
      expect(versions[0]!.changedFields).toEqual(['host']);
    });

    it('applies partial updates and removals, and makes no version when nothing changed', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'env',
        kind: 'generic',
        values: { A: '1', B: '2', C: '3' },
      });
      await fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { A: '10' }, removeKeys: ['C'] });
      const same = await fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { A: '10' } });
      expect(same.currentVersion).toBe(2);
      const view = await fx.coffer.secrets.readValues(fx.admin.actor, s.id, { reveal: true });
      expect(view.values).toEqual({ A: '10', B: '2' });
    });

    it('keeps the last N versions, reads kept ones and rolls back as a new version', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'rotating',
        kind: 'api-token',
        values: { token: 't1' },
      });
      for (const t of ['t2', 't3', 't4', 't5']) {
        await fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { token: t } });
      }
      const versions = await fx.coffer.secrets.versions(fx.admin.actor, s.id);
      expect(versions.map((v) => v.version)).toEqual([5, 4, 3]);
      const old = await fx.coffer.secrets.readValues(fx.admin.actor, s.id, { version: 3, reveal: true });
      expect(old.values.token).toBe('t3');
      await expectCode(fx.coffer.secrets.readValues(fx.admin.actor, s.id, { version: 1 }), 'not_found');
      // pruned values are gone from the backend too
      const stored = await fx.coffer.database.db
        .selectFrom('secret_values')
        .select('version')
        .where('secret_id', '=', s.id)
        .orderBy('version')
        .execute();
      expect(stored.map((r) => r.version)).toEqual([3, 4, 5]);
      const rolled = await fx.coffer.secrets.rollback(fx.admin.actor, s.id, 3);
      expect(rolled.currentVersion).toBe(6);
      const now = await fx.coffer.secrets.readValues(fx.admin.actor, s.id, { reveal: true });
      expect(now.values.token).toBe('t3');
      expect((await fx.coffer.secrets.versions(fx.admin.actor, s.id))[0]!.rollbackOf).toBe(3);
    });

    it('fails a check-and-set write whose expected version is stale', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'cas',
        kind: 'generic',
        values: { n: '0' },
      });
      await fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { n: '1' }, expectedVersion: 1 });
      const err = await expectCode(
        fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { n: '2' }, expectedVersion: 1 }),
        'version_conflict',
      );
      expect(err.message).toContain('version 2');
    });

    it('loses no update among concurrent writers', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'busy',
        kind: 'generic',
        values: { seed: 's' },
      });
      const writers = 12;
      await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { [`w${i}`]: String(i) } }),
        ),
      );
      const view = await fx.coffer.secrets.readValues(fx.admin.actor, s.id, { reveal: true });
      for (let i = 0; i < writers; i++) expect(view.values[`w${i}`]).toBe(String(i));
      expect((await fx.coffer.secrets.get(fx.admin.actor, s.id)).currentVersion).toBe(writers + 1);
    });

    it('lets exactly one of several check-and-set writers of the same version win', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'race',
        kind: 'generic',
        values: { v: '0' },
      });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          fx.coffer.secrets.update(fx.admin.actor, s.id, {
            values: { v: String(i + 1) },
            expectedVersion: 1,
          }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won.length).toBe(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect(isCofferError((r as PromiseRejectedResult).reason, 'version_conflict')).toBe(true);
      }
    });
  });

  describe('listing', () => {
    it('filters by kind, label and name prefix, and pages in a stable order', async () => {
      for (let i = 0; i < 7; i++) {
        await fx.coffer.secrets.create(fx.admin.actor, {
          name: `page-${i}`,
          kind: 'generic',
          labels: { env: i % 2 === 0 ? 'prod' : 'dev', team: 'core' },
          values: { i: String(i) },
        });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await fx.coffer.secrets.list(fx.admin.actor, { namePrefix: 'page-', limit: 3, cursor });
        seen.push(...page.items.map((s) => s.name));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `page-${i}`));
      const prod = await fx.coffer.secrets.list(fx.admin.actor, {
        labels: ['env=prod', 'team'],
        namePrefix: 'page-',
      });
      expect(prod.items.map((s) => s.name)).toEqual(['page-0', 'page-2', 'page-4', 'page-6']);
      expect(prod.items[0]!.labels).toEqual({ env: 'prod', team: 'core' });
      const smtp = await fx.coffer.secrets.list(fx.admin.actor, { kind: 'smtp' });
      expect(smtp.items.every((s) => s.kind === 'smtp')).toBe(true);
      await expectCode(fx.coffer.secrets.list(fx.admin.actor, { cursor: 'garbage' }), 'validation');
      await expectCode(fx.coffer.secrets.list(fx.admin.actor, { limit: 0 }), 'validation');
    });

    it('changes description and labels without a new version, and renames keeping the id', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'meta',
        kind: 'generic',
        values: { a: 'b' },
      });
      const m = await fx.coffer.secrets.updateMetadata(fx.admin.actor, s.id, {
        description: 'd',
        labels: { x: 'y' },
      });
      expect(m.currentVersion).toBe(1);
      expect(m.labels).toEqual({ x: 'y' });
      const r = await fx.coffer.secrets.rename(fx.admin.actor, s.id, 'meta-renamed');
      expect(r.id).toBe(s.id);
      expect((await fx.coffer.secrets.get(fx.admin.actor, 'meta-renamed')).description).toBe('d');
      await expectCode(fx.coffer.secrets.rename(fx.admin.actor, s.id, 'dup'), 'already_exists');
    });

    it('counts every change in the revision, and lets no metadata edit overwrite another unseen', async () => {
      const { actor } = fx.admin;
      const s = await fx.coffer.secrets.create(actor, {
        name: 'meta-cas',
        kind: 'generic',
        values: { a: '1' },
      });
      expect(s.revision).toBe(1);
      // Two editors read revision 1; the first wins, the second is told instead of overwriting.
      const first = await fx.coffer.secrets.updateMetadata(actor, s.id, {
        labels: { team: 'a', env: 'prod' },
        expectedRevision: 1,
      });
      expect(first.revision).toBe(2);
      const second = await fx.coffer.secrets
        .updateMetadata(actor, s.id, { labels: { team: 'b' }, expectedRevision: 1 })
        .catch((e: unknown) => e);
      expect(second).toMatchObject({
        code: 'version_conflict',
        details: { expectedRevision: 1, currentRevision: 2, currentVersion: 1 },
      });
      await expectCode(
        fx.coffer.secrets.rename(actor, s.id, 'meta-cas-2', { expectedRevision: 1 }),
        'version_conflict',
      );
      expect((await fx.coffer.secrets.get(actor, s.id)).labels).toEqual({ team: 'a', env: 'prod' });
      // Values changes, renames, deletes and restores count too; the values version only for values.
      const updated = await fx.coffer.secrets.update(actor, s.id, { values: { a: '2' } });
      expect([updated.currentVersion, updated.revision]).toEqual([2, 3]);
      const renamed = await fx.coffer.secrets.rename(actor, s.id, 'meta-cas-2', { expectedRevision: 3 });
      expect([renamed.currentVersion, renamed.revision]).toEqual([2, 4]);
      await fx.coffer.secrets.delete(actor, s.id);
      const restored = await fx.coffer.secrets.restore(actor, s.id);
      expect(restored.revision).toBe(6);
      expect((await fx.coffer.secrets.get(actor, s.id)).revision).toBe(6);
      // Concurrent unconditional edits all land, each on its own revision.
      const edits = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          fx.coffer.secrets.updateMetadata(actor, s.id, { description: `d${i}` }),
        ),
      );
      expect(new Set(edits.map((e) => e.revision)).size).toBe(6);
      expect((await fx.coffer.secrets.get(actor, s.id)).revision).toBe(12);
      await expectCode(
        fx.coffer.secrets.updateMetadata(actor, s.id, { description: 'x', expectedRevision: 0 }),
        'validation',
      );
      await fx.coffer.secrets.delete(actor, s.id);
      await fx.coffer.secrets.purge(actor, s.id);
    });
  });

  describe('delete, restore and purge', () => {
    it('hides a deleted secret, frees its name, restores it, and purges it after the window', async () => {
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'trash-me',
        kind: 'generic',
        values: { a: '1' },
      });
      const deleted = await fx.coffer.secrets.delete(fx.admin.actor, s.id);
      expect(deleted.deletedAt).not.toBeNull();
      await expectCode(fx.coffer.secrets.readValues(fx.admin.actor, s.id), 'not_found');
      const trash = await fx.coffer.secrets.list(fx.admin.actor, {
        state: 'deleted',
        namePrefix: 'trash-me',
      });
      expect(trash.items.map((i) => i.id)).toEqual([s.id]);
      // the name can be reused at once; restoring the old one then needs a new name
      const again = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'trash-me',
        kind: 'generic',
        values: { a: '2' },
      });
      await expectCode(fx.coffer.secrets.restore(fx.admin.actor, s.id), 'already_exists');
      const restored = await fx.coffer.secrets.restore(fx.admin.actor, s.id, { newName: 'trash-me-old' });
      expect(restored.deletedAt).toBeNull();
      expect((await fx.coffer.secrets.readValues(fx.admin.actor, s.id, { reveal: true })).values.a).toBe('1');

      await fx.coffer.secrets.delete(fx.admin.actor, again.id);
      fx.time.advance(6 * 86_400);
      expect((await fx.coffer.secrets.purgeExpired()).purged).toBe(0);
      fx.time.advance(2 * 86_400);
      expect((await fx.coffer.secrets.purgeExpired()).purged).toBe(1);
      await expectCode(fx.coffer.secrets.get(fx.admin.actor, again.id), 'not_found');
      const left = await fx.coffer.database.db
        .selectFrom('secret_values')
        .select('secret_id')
        .where('secret_id', '=', again.id)
        .execute();
      expect(left).toEqual([]);
    });

    it('purges immediately on request and needs a confirmation to delete everything', async () => {
      const bob = await fx.member('purge-bob');
      const s = await fx.coffer.secrets.create(bob.actor, { name: 'p', kind: 'generic', values: { a: '1' } });
      await fx.coffer.secrets.purge(bob.actor, s.id);
      await expectCode(fx.coffer.secrets.get(bob.actor, s.id), 'not_found');
      await fx.coffer.secrets.create(bob.actor, { name: 'q1', kind: 'generic', values: { a: '1' } });
      await fx.coffer.secrets.create(bob.actor, { name: 'q2', kind: 'generic', values: { a: '1' } });
      await expectCode(fx.coffer.secrets.deleteAll(bob.actor, {}), 'precondition_required');
      expect(await fx.coffer.secrets.deleteAll(bob.actor, { confirm: 'delete-all' })).toEqual({ deleted: 2 });
      expect((await fx.coffer.secrets.list(bob.actor)).items).toEqual([]);
      // the admin's secrets were not the member's to delete
      expect((await fx.coffer.secrets.list(fx.admin.actor, { namePrefix: 'kind-' })).items.length).toBe(9);
    });
  });

  describe('events', () => {
    it('publishes changes without values', async () => {
      // Earlier tests' events may still be on their way to the feed (PostgreSQL reads them
      // asynchronously): start after all of them.
      await fx.coffer.events.sync();
      const seen: unknown[] = [];
      const off = fx.coffer.events.subscribe((e) => seen.push(e));
      const s = await fx.coffer.secrets.create(fx.admin.actor, {
        name: 'evt',
        kind: 'api-token',
        values: { token: 'evt-secret-value' },
      });
      await fx.coffer.secrets.update(fx.admin.actor, s.id, { values: { token: 'evt-secret-value-2' } });
      await fx.coffer.secrets.delete(fx.admin.actor, s.id);
      await fx.coffer.events.sync();
      off();
      expect(seen.map((e) => (e as { type: string }).type)).toEqual([
        'secret.created',
        'secret.updated',
        'secret.deleted',
      ]);
      expect(JSON.stringify(seen)).not.toContain('evt-secret-value');
    });
  });
});
